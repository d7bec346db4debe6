"""cnnlib.torch_nn.activation against torch.nn and cnnlib.numpy_nn, gradcheck, float32, devices and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from strategies import make_array, seeds
from torch_support import DEVICES, DTYPES, F32, assert_runs_close, assert_three_way, needs_cuda, run, \
    skip_unsupported, tensor

import cnnlib.numpy_nn.activation as NA
import cnnlib.torch_nn.activation as A

shapes = array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)

# name -> (ours, the NumPy pair, keyword arguments, torch's function, our module, torch.nn's module)
ELEMENTWISE = {
    "relu": (A.relu, NA.relu_forward, NA.relu_backward, {}, F.relu, A.ReLU(), torch.nn.ReLU()),
    "sigmoid": (A.sigmoid, NA.sigmoid_forward, NA.sigmoid_backward, {}, torch.sigmoid, A.Sigmoid(),
                torch.nn.Sigmoid()),
    "tanh": (A.tanh, NA.tanh_forward, NA.tanh_backward, {}, torch.tanh, A.Tanh(), torch.nn.Tanh()),
    "leaky_relu": (A.leaky_relu, NA.leaky_relu_forward, NA.leaky_relu_backward, {"negative_slope": 0.1},
                   F.leaky_relu, A.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
    "leaky_relu_default": (A.leaky_relu, NA.leaky_relu_forward, NA.leaky_relu_backward, {}, F.leaky_relu,
                           A.LeakyReLU(), torch.nn.LeakyReLU()),
    "elu": (A.elu, NA.elu_forward, NA.elu_backward, {}, F.elu, A.ELU(), torch.nn.ELU()),
    "elu_alpha": (A.elu, NA.elu_forward, NA.elu_backward, {"alpha": 0.7}, F.elu, A.ELU(alpha=0.7),
                  torch.nn.ELU(alpha=0.7)),
}


def _torch_maxout(pieces):
    def fn(x, w, b):
        z = F.linear(x, w, b)                                          # (N, out*pieces)
        return z.view(*z.shape[:-1], -1, pieces).max(dim=-1).values    # (N, out)
    return fn


def _maxout_arrays(n, fin, fout, pieces, bias, seed):
    x = make_array((n, fin), seed)
    w = make_array((fout * pieces, fin), seed + 1)
    b = make_array((fout * pieces,), seed + 2) if bias else None
    return x, w, b, make_array((n, fout), seed + 3)


maxout_sizes = dict(n=st.integers(1, 5), fin=st.integers(1, 6), fout=st.integers(1, 4), pieces=st.integers(1, 4),
                    bias=st.booleans(), seed=seeds)


# -- three-way parity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ELEMENTWISE)
@given(shape=shapes, seed=seeds, scale=st.sampled_from([1.0, 30.0]))
def test_elementwise_three_way_parity(device, name, shape, seed, scale):
    ours, np_forward, np_backward, kw, torch_fn, *_ = ELEMENTWISE[name]
    x = make_array(shape, seed, scale=scale)
    if name in ("sigmoid", "tanh"):
        x = np.clip(x, -6.0, 6.0)  # beyond, s(1 - s) cancels and an ulp of difference in s is > 1e-10 relative
    g = make_array(shape, seed + 1)

    def numpy_side(x, g):
        out, cache = np_forward(x, **kw)
        return out, [np_backward(g, cache)]

    assert_three_way(lambda x: ours(x, **kw), lambda x: torch_fn(x, **kw), numpy_side, [x], g, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_modules_match_torch_modules_including_the_kink_at_zero(device, name):
    *_, module, torch_module = ELEMENTWISE[name]
    x = np.array([[-3.0, -1e-300, 0.0, 1e-300, 2.5], [-40.0, -0.5, 0.0, 0.5, 40.0]])
    g = np.arange(1.0, 11.0).reshape(2, 5)
    assert_three_way(module, torch_module, None, [x], g, device=device)
    assert type(module(torch.ones(1, requires_grad=True)).grad_fn).__name__.endswith("FunctionBackward")


@pytest.mark.parametrize("device", DEVICES)
@given(**maxout_sizes)
def test_maxout_three_way_parity(device, n, fin, fout, pieces, bias, seed):
    x, w, b, g = _maxout_arrays(n, fin, fout, pieces, bias, seed)

    def numpy_side(x, w, b, g):
        out, cache = NA.maxout_forward(x, w, b, pieces)
        return out, list(NA.maxout_backward(g, cache))

    assert_three_way(lambda x, w, b: A.maxout(x, w, b, pieces), _torch_maxout(pieces), numpy_side, [x, w, b], g,
                     names=["input", "weight", "bias"], device=device)


# -- gradcheck ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ELEMENTWISE)
@given(shape=shapes, seed=seeds)
def test_elementwise_gradcheck(device, name, shape, seed):
    skip_unsupported(device, torch.float64)
    ours, *_, kw = ELEMENTWISE[name][:4]
    x = make_array(shape, seed, scale=2.0)
    x = np.where(np.abs(x) < 1e-3, 0.5, x)  # centred differences must not straddle a kink
    assert torch.autograd.gradcheck(lambda x: ours(x, **kw), (tensor(x, device, requires_grad=True),))


@pytest.mark.parametrize("device", DEVICES)
@given(**maxout_sizes)
def test_maxout_gradcheck(device, n, fin, fout, pieces, bias, seed):
    skip_unsupported(device, torch.float64)
    x, w, b, _ = _maxout_arrays(n, fin, fout, pieces, True, seed)
    z = np.sort((x @ w.T + b).reshape(n, fout, pieces), axis=-1)
    assume(pieces == 1 or np.min(z[..., -1] - z[..., -2]) > 1e-4)  # no near-ties: the max is smooth here
    args = tuple(tensor(a, device, requires_grad=True) for a in (x, w, b if bias else None))
    assert torch.autograd.gradcheck(lambda x, w, b: A.maxout(x, w, b, pieces), args)


# -- float32, devices -----------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ELEMENTWISE)
@given(shape=shapes, seed=seeds)
def test_float32_stays_float32_and_matches_torch(device, name, shape, seed):
    ours, *_, kw, torch_fn = ELEMENTWISE[name][:5]
    x, g = make_array(shape, seed, scale=3.0), make_array(shape, seed + 1)
    result = run(lambda x: ours(x, **kw), [x], g, device, torch.float32)
    assert result[0].dtype == torch.float32 and result[1][0].dtype == torch.float32
    assert_runs_close(result, run(lambda x: torch_fn(x, **kw), [x], g, device, torch.float32), **F32)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_cuda_matches_cpu(dtype, name):
    ours, *_, kw = ELEMENTWISE[name][:4]
    x, g = make_array((3, 4, 5), 0, scale=3.0), make_array((3, 4, 5), 1)
    fn = lambda x: ours(x, **kw)  # noqa: E731
    assert_runs_close(run(fn, [x], g, "cuda", dtype), run(fn, [x], g, "cpu", dtype), **F32)
    args = _maxout_arrays(4, 5, 3, 2, True, 2)
    maxout = lambda x, w, b: A.maxout(x, w, b, 2)  # noqa: E731
    assert_runs_close(run(maxout, args[:3], args[3], "cuda", dtype), run(maxout, args[:3], args[3], "cpu", dtype),
                      **F32)


# -- values by hand and stability ---------------------------------------------------------------------------
def test_values_by_hand_and_gradients_at_zero():
    x = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64)
    assert A.relu(x).tolist() == [0.0, 0.0, 3.0]
    assert A.leaky_relu(x, 0.1).tolist() == pytest.approx([-0.2, 0.0, 3.0], rel=1e-15)
    assert A.elu(x).tolist() == pytest.approx([math.exp(-2) - 1, 0.0, 3.0], rel=1e-15)
    assert A.sigmoid(x).tolist() == pytest.approx([1 / (1 + math.exp(2)), 0.5, 1 / (1 + math.exp(-3))], rel=1e-15)
    w = torch.tensor([[1.0, 2.0], [-1.0, 0.5]])
    b = torch.tensor([0.0, 3.0])
    assert A.maxout(torch.tensor([[1.0, 1.0]]), w, b).tolist() == [[3.0]]   # max(3, 2.5)
    assert A.maxout(torch.tensor([[-1.0, 0.0]]), w, b).tolist() == [[4.0]]  # max(-1, 4)
    zero, one = torch.zeros(1), torch.ones(1)
    assert A.relu_backward(one, A.relu_forward(zero)[1]).tolist() == [0.0]
    assert A.leaky_relu_backward(one, A.leaky_relu_forward(zero, 0.5)[1]).tolist() == [0.5]
    assert A.elu_backward(one, A.elu_forward(zero, 0.5)[1]).tolist() == [0.5]
    assert A.sigmoid_backward(one, A.sigmoid_forward(zero)[1]).tolist() == [0.25]


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_inputs_are_finite_and_exact(dtype):
    x = torch.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype, requires_grad=True)
    s = A.sigmoid(x)
    assert s.dtype == dtype and s[0].item() == 0.0 and s[-1].item() == 1.0 and s[2].item() == 0.5
    s.sum().backward()
    assert torch.isfinite(x.grad).all()
    e = A.elu(x.detach(), alpha=2.0)
    assert e[0].item() == -2.0 and e[-1].item() == 1000.0


# -- bad input and the modules ----------------------------------------------------------------------------
@pytest.mark.parametrize("ours, theirs, words", [
    (lambda: A.LeakyReLU("0.1"), lambda: NA.LeakyReLU("0.1"), "negative_slope must be a finite real number"),
    (lambda: A.leaky_relu(torch.ones(2), float("nan")), lambda: NA.leaky_relu(np.ones(2), float("nan")),
     "negative_slope"),
    (lambda: A.ELU(alpha=None), lambda: NA.ELU(alpha=None), "alpha must be"),
    (lambda: A.Maxout(3, 3, pieces=0), lambda: NA.Maxout(3, 3, pieces=0), "pieces must be positive"),
    (lambda: A.Maxout(4, 3)(torch.ones(2, 5)), lambda: NA.Maxout(4, 3)(np.ones((2, 5))), "expects in_features=4"),
    (lambda: A.maxout(torch.ones(2, 4), torch.ones(5, 4)), lambda: NA.maxout(np.ones((2, 4)), np.ones((5, 4))),
     "not a multiple of pieces=2"),
])
def test_bad_input_gives_the_numpy_message(ours, theirs, words):
    with pytest.raises(ValueError) as torch_error:
        ours()
    with pytest.raises(ValueError) as numpy_error:
        theirs()
    assert words in str(torch_error.value) and str(torch_error.value) == str(numpy_error.value)
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2,\)"):
        A.relu_backward(torch.ones(3), A.relu_forward(torch.ones(2))[1])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_maxout_module_loads_a_torch_linear_and_matches_it(device, dtype):
    skip_unsupported(device, dtype)
    torch.manual_seed(0)
    lin = torch.nn.Linear(5, 3 * 4, device=device, dtype=dtype)
    torch.manual_seed(0)
    m = A.Maxout(5, 3, pieces=4, device=device, dtype=dtype)
    # PyTorch's Linear init: the same draws; its bound sqrt(3) * sqrt(1/3) / sqrt(5) may differ from ours in the last bit
    torch.testing.assert_close(m.weight, lin.weight, rtol=1e-12, atol=0)
    torch.testing.assert_close(m.bias, lin.bias, rtol=1e-12, atol=0)
    assert m.weight.shape == (12, 5) and m.weight.device.type == device and m.weight.dtype == dtype
    m.load_state_dict(lin.state_dict())
    x = torch.randn(4, 5, device=device, dtype=dtype)
    out, expected = m(x), _torch_maxout(4)(x, lin.weight, lin.bias)
    out.sum().backward()
    expected.sum().backward()
    tol = F32 if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out, expected, **tol)
    torch.testing.assert_close(m.weight.grad, lin.weight.grad, **tol)
    assert repr(A.Maxout(2, 3)) == "Maxout(in_features=2, out_features=3, pieces=2, bias=True)"
    assert list(A.Maxout(2, 2, bias=False).state_dict()) == ["weight"]
