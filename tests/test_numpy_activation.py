"""cnnlib.numpy_nn.activation against PyTorch (float64), centred differences, and by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from parity import assert_matches_torch
from strategies import make_array, seeds

from cnnlib.numpy_nn import activation as A
from cnnlib.testing import check_gradient

shapes = array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)

# name -> (numpy forward pair with its arguments bound, the PyTorch function)
ELEMENTWISE = {
    "relu": (A.relu_forward, A.relu_backward, {}, F.relu),
    "sigmoid": (A.sigmoid_forward, A.sigmoid_backward, {}, torch.sigmoid),
    "tanh": (A.tanh_forward, A.tanh_backward, {}, torch.tanh),
    "leaky_relu": (A.leaky_relu_forward, A.leaky_relu_backward, {"negative_slope": 0.1},
                   lambda x: F.leaky_relu(x, 0.1)),
    "leaky_relu_default": (A.leaky_relu_forward, A.leaky_relu_backward, {}, F.leaky_relu),
    "elu": (A.elu_forward, A.elu_backward, {"alpha": 1.0}, F.elu),
    "elu_alpha": (A.elu_forward, A.elu_backward, {"alpha": 0.7}, lambda x: F.elu(x, 0.7)),
}
MODULES = {
    "relu": lambda: A.ReLU(), "sigmoid": lambda: A.Sigmoid(), "tanh": lambda: A.Tanh(),
    "leaky_relu": lambda: A.LeakyReLU(0.1), "leaky_relu_default": lambda: A.LeakyReLU(),
    "elu": lambda: A.ELU(), "elu_alpha": lambda: A.ELU(alpha=0.7),
}


def _away_from_kinks(x):
    """Move entries within 1e-3 of 0 away, so centred differences never straddle a kink."""
    return np.where(np.abs(x) < 1e-3, 0.5, x)


# -- parity with PyTorch ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE)
@given(shape=shapes, seed=seeds, scale=st.sampled_from([1.0, 30.0]))
def test_elementwise_matches_torch(name, shape, seed, scale):
    fwd, bwd, kw, torch_fn = ELEMENTWISE[name]
    x = make_array(shape, seed, scale=scale)
    if name in ("sigmoid", "tanh"):
        # Both libraries compute these derivatives from the output (s(1 - s), 1 - t^2). Beyond
        # |x| ~ 6 that difference cancels, and np.exp/np.tanh and PyTorch's kernels differ by an ulp,
        # so the two gradients legitimately part by more than 1e-10 relative there.
        x = np.clip(x, -6.0, 6.0)
    g = make_array(shape, seed + 1)

    def numpy_side(x, grad_output):
        out, cache = fwd(x, **kw)
        return out, [bwd(grad_output, cache)]

    assert_matches_torch(numpy_side, torch_fn, [x], g)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_modules_match_torch_including_the_kink_at_zero(name):
    x = np.array([[-3.0, -1e-300, 0.0, 1e-300, 2.5], [-40.0, -0.5, 0.0, 0.5, 40.0]])
    g = np.arange(1.0, 11.0).reshape(2, 5)
    _, _, _, torch_fn = ELEMENTWISE[name]

    def numpy_side(x, grad_output):
        m = MODULES[name]()
        out = m(x)
        return out, [m.backward(grad_output)]

    assert_matches_torch(numpy_side, torch_fn, [x], g)


def _torch_maxout(pieces):
    def fn(x, w, b):
        z = F.linear(x, w, b)  # (N, out*pieces)
        return z.view(*z.shape[:-1], -1, pieces).max(dim=-1).values  # (N, out)
    return fn


@given(n=st.integers(1, 6), fin=st.integers(1, 7), fout=st.integers(1, 5), pieces=st.integers(1, 4),
       bias=st.booleans(), seed=seeds)
def test_maxout_matches_torch_linear_view_max(n, fin, fout, pieces, bias, seed):
    x = make_array((n, fin), seed)
    w = make_array((fout * pieces, fin), seed + 1)
    b = make_array((fout * pieces,), seed + 2) if bias else None
    g = make_array((n, fout), seed + 3)

    def numpy_side(x, w, b, grad_output):
        out, cache = A.maxout_forward(x, w, b, pieces)
        return out, list(A.maxout_backward(grad_output, cache))

    assert_matches_torch(numpy_side, _torch_maxout(pieces), [x, w, b], g, names=["input", "weight", "bias"])


@given(seed=seeds, pieces=st.integers(2, 4))
def test_maxout_module_matches_torch_and_loads_its_state_dict(seed, pieces):
    torch.manual_seed(seed % 2**31)
    lin = torch.nn.Linear(5, 3 * pieces).double()
    m = A.Maxout(5, 3, pieces=pieces)
    m.load_state_dict({k: v.detach().numpy() for k, v in lin.state_dict().items()})
    x = make_array((4, 5), seed)
    g = make_array((4, 3), seed + 1)

    def numpy_side(x, w, b, grad_output):
        out = m(x)
        grad_input = m.backward(grad_output)
        return out, [grad_input, m.weight.grad, m.bias.grad]

    w, b = (p.detach().numpy() for p in (lin.weight, lin.bias))
    assert_matches_torch(numpy_side, _torch_maxout(pieces), [x, w, b], g, names=["input", "weight", "bias"])


def test_maxout_accepts_leading_dimensions_like_linear():
    x = make_array((2, 3, 4), 0)
    w, b = make_array((6, 4), 1), make_array((6,), 2)
    g = make_array((2, 3, 3), 3)

    def numpy_side(x, w, b, grad_output):
        out, cache = A.maxout_forward(x, w, b, pieces=2)
        return out, list(A.maxout_backward(grad_output, cache))

    assert_matches_torch(numpy_side, _torch_maxout(2), [x, w, b], g)


# -- centred differences ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE)
@given(shape=shapes, seed=seeds)
def test_elementwise_backward_matches_finite_differences(name, shape, seed):
    fwd, bwd, kw, _ = ELEMENTWISE[name]
    x = _away_from_kinks(make_array(shape, seed, scale=2.0))
    g = make_array(shape, seed + 1)
    analytic = bwd(g, fwd(x, **kw)[1])
    check_gradient(lambda: fwd(x, **kw)[0], x, analytic, grad_output=g, h=1e-5)  # raises if they differ by 1e-6


@given(n=st.integers(1, 4), fin=st.integers(1, 5), fout=st.integers(1, 4), pieces=st.integers(1, 3),
       seed=seeds)
def test_maxout_backward_matches_finite_differences(n, fin, fout, pieces, seed):
    x = make_array((n, fin), seed)
    w = make_array((fout * pieces, fin), seed + 1)
    b = make_array((fout * pieces,), seed + 2)
    g = make_array((n, fout), seed + 3)
    z = np.sort((x @ w.T + b).reshape(n, fout, pieces), axis=-1)
    assume(pieces == 1 or np.min(z[..., -1] - z[..., -2]) > 1e-4)  # no near-ties: the max is smooth here
    grad_x, grad_w, grad_b = A.maxout_backward(g, A.maxout_forward(x, w, b, pieces)[1])

    def f():
        return A.maxout(x, w, b, pieces)

    for arr, analytic in ((x, grad_x), (w, grad_w), (b, grad_b)):
        check_gradient(f, arr, analytic, grad_output=g, h=1e-5)


# -- values by hand, stability, dtypes ----------------------------------------------------------
def test_values_by_hand():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(A.relu(x), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(A.leaky_relu(x, 0.1), [-0.2, 0.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(A.leaky_relu(x), [-0.02, 0.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(A.elu(x), [math.exp(-2) - 1, 0.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(A.sigmoid(x), [1 / (1 + math.exp(2)), 0.5, 1 / (1 + math.exp(-3))], rtol=1e-15)
    np.testing.assert_allclose(A.tanh(x), [math.tanh(-2), 0.0, math.tanh(3)], rtol=1e-15)
    # maxout of two pieces is the lecture's max(w1.x + b1, w2.x + b2)
    w = np.array([[1.0, 2.0], [-1.0, 0.5]])
    b = np.array([0.0, 3.0])
    assert A.maxout(np.array([[1.0, 1.0]]), w, b).tolist() == [[max(3.0, 2.5)]]
    assert A.maxout(np.array([[-1.0, 0.0]]), w, b).tolist() == [[max(-1.0, 4.0)]]


def test_gradients_at_zero_follow_pytorch():
    x, g = np.zeros(1), np.ones(1)
    assert A.relu_backward(g, A.relu_forward(x)[1]).tolist() == [0.0]
    assert A.leaky_relu_backward(g, A.leaky_relu_forward(x, 0.1)[1]).tolist() == [0.1]
    assert A.elu_backward(g, A.elu_forward(x, 0.7)[1]).tolist() == [0.7]
    assert A.sigmoid_backward(g, A.sigmoid_forward(x)[1]).tolist() == [0.25]
    assert A.tanh_backward(g, A.tanh_forward(x)[1]).tolist() == [1.0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_inputs_are_finite_exact_and_silent(dtype):
    # warnings are errors in this test suite, so an overflow in exp would fail here
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    s, cache = A.sigmoid_forward(x)
    assert s.dtype == dtype and s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert np.all(np.isfinite(A.sigmoid_backward(np.ones_like(x), cache)))
    np.testing.assert_allclose(s[1], math.exp(-50) / (1 + math.exp(-50)), rtol=1e-6)
    e, cache = A.elu_forward(x, alpha=2.0)
    assert e[0] == -2.0 and e[-1] == 1000.0
    assert A.elu_backward(np.ones_like(x), cache)[0] == 0.0
    assert A.tanh(x).tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]


def test_sigmoid_over_a_wide_range_matches_torch():
    x = np.linspace(-800, 800, 4001)
    # atol: below about -708 PyTorch returns 0 where NumPy keeps a subnormal (< 1e-307)
    np.testing.assert_allclose(A.sigmoid(x), torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float32_stays_float32_and_integers_become_float64(name):
    fwd, bwd, kw, _ = ELEMENTWISE[name]
    x32 = np.array([[-1.5, 0.25, 2.0]], dtype=np.float32)
    out, cache = fwd(x32, **kw)
    assert out.dtype == np.float32
    assert bwd(np.ones_like(x32), cache).dtype == np.float32
    assert fwd(np.array([-1, 0, 2]), **kw)[0].dtype == np.float64


def test_maxout_float32():
    m = A.Maxout(3, 2, dtype=np.float32, rng=0)
    y = m(np.ones((2, 3), dtype=np.float32))
    assert y.dtype == np.float32 and m.backward(np.ones_like(y)).dtype == np.float32
    assert m.weight.grad.dtype == np.float32


# -- the Maxout module --------------------------------------------------------------------------
def test_maxout_init_like_torch_linear():
    m = A.Maxout(16, 10, pieces=3, rng=np.random.default_rng(0))
    assert m.weight.shape == (30, 16) and m.bias.shape == (30,)
    assert np.max(np.abs(m.weight.data)) <= 0.25 and np.max(np.abs(m.bias.data)) <= 0.25
    assert np.max(np.abs(m.weight.data)) > 0.24  # spread over the whole interval, not a smaller one
    np.testing.assert_array_equal(A.Maxout(16, 10, pieces=3, rng=0).weight.data,
                                  A.Maxout(16, 10, pieces=3, rng=0).weight.data)
    assert [name for name, _ in A.Maxout(2, 2, bias=False).named_parameters()] == ["weight"]


def test_maxout_gradients_accumulate_like_pytorch():
    m = A.Maxout(3, 2, rng=1)
    x = make_array((4, 3), 7)
    g = make_array((4, 2), 8)
    m(x)
    m.backward(g)
    once = m.weight.grad.copy()
    m(x)
    m.backward(g)
    np.testing.assert_allclose(m.weight.grad, 2 * once, rtol=1e-15)
    m.zero_grad()
    assert not m.weight.grad.any()


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, words", [
    (lambda: A.LeakyReLU("0.1"), "negative_slope must be a finite real number"),
    (lambda: A.leaky_relu(np.ones(2), float("nan")), "negative_slope"),
    (lambda: A.ELU(alpha=None), "alpha must be"),
    (lambda: A.relu(np.array(["a"])), "input must hold numbers"),
    (lambda: A.Maxout(0, 3), "in_features must be positive"),
    (lambda: A.Maxout(3, 3, pieces=0), "pieces must be positive"),
    (lambda: A.Maxout(4, 3)(np.ones((2, 5))), "expects in_features=4"),
    (lambda: A.maxout(np.ones((2, 4)), np.ones((5, 4)), pieces=2), "not a multiple of pieces=2"),
    (lambda: A.maxout(np.ones((2, 4)), np.ones((6, 4)), np.ones(5), pieces=2), "bias must have shape (6,)"),
    (lambda: A.maxout(np.ones((2, 4), np.float32), np.ones((6, 4))), "input has dtype float32 but weight has dtype float64"),
    (lambda: A.relu_backward(np.ones(3), A.relu_forward(np.ones(2))[1]), "grad_output must have the output's shape (2,)"),
])
def test_bad_input_says_what_is_wrong(make, words):
    with pytest.raises(ValueError) as info:
        make()
    assert words in str(info.value)


@pytest.mark.parametrize("module", [A.ReLU(), A.Sigmoid(), A.Tanh(), A.LeakyReLU(), A.ELU(), A.Maxout(2, 2)])
def test_backward_before_forward_is_a_clear_error(module):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        module.backward(np.ones((1, 2)))


@pytest.mark.parametrize("cls", [A.ReLU, A.Sigmoid, A.Tanh, A.LeakyReLU, A.ELU, A.Maxout])
def test_module_docstrings_give_shape_and_notebook(cls):
    assert "Shape:" in cls.__doc__ and "01_neural_nets_activations" in cls.__doc__
    assert "=" in cls.__doc__.splitlines()[0]  # the math in the first line
