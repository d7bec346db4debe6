"""cnnlib.numpy_nn.loss (and softmax) against PyTorch (float64), centred differences, and by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from parity import assert_matches_torch
from strategies import make_array, seeds

from cnnlib.numpy_nn import loss as L
from cnnlib.numpy_nn.activation import sigmoid
from cnnlib.testing import check_gradient

reductions = st.sampled_from(["mean", "sum", "none"])
shapes = array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)


def _torch_reduce(losses, reduction):
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


def torch_hinge(y, t, reduction):
    return _torch_reduce(F.relu(1 - t * y), reduction)


def torch_multiclass_hinge(s, t, reduction, margin=1.0):
    """The lecture's form built from PyTorch ops: the largest wrong score against the true one."""
    true = s.gather(1, t[:, None])[:, 0]
    wrong = s.masked_fill(F.one_hot(t, s.shape[1]).bool(), -math.inf)
    return _torch_reduce(F.relu(margin + wrong.max(dim=1).values - true), reduction)


def _grad_output(reduction, loss_shape, seed):
    """A random upstream gradient: a scalar (0-d) for mean/sum, an array for none."""
    return make_array(loss_shape if reduction == "none" else (), seed, scale=2.0)


def _pair_side(forward, backward, **kw):
    """numpy_fn for assert_matches_torch: gradient for the input only (the target is not compared)."""
    def numpy_side(input, target, grad_output):
        loss, cache = forward(input, target, **kw)
        return loss, [backward(grad_output, cache), None]
    return numpy_side


def _labels(n, c, seed):
    return np.random.default_rng(seed).integers(0, c, size=n)


# -- parity with PyTorch ------------------------------------------------------------------------
@given(n=st.integers(1, 6), c=st.integers(1, 6), reduction=reductions, seed=seeds,
       scale=st.sampled_from([1.0, 10.0]))
def test_cross_entropy_with_class_indices_matches_torch(n, c, reduction, seed, scale):
    x, t = make_array((n, c), seed, scale=scale), _labels(n, c, seed + 1)
    g = _grad_output(reduction, (n,), seed + 2)
    # the target's entry, g * (softmax - 1), cancels: both sides round it to about 1e-16 * |g|, so an entry
    # near 1e-7 may differ by 1e-10 of itself (found: n=1, c=2, seed=166, scale=10); the floor allows 1e-14 * |g|
    assert_matches_torch(_pair_side(L.cross_entropy_forward, L.cross_entropy_backward, reduction=reduction),
                         lambda x, t: F.cross_entropy(x, t, reduction=reduction), [x, t], g,
                         floor=max(1e-4 * float(np.max(np.abs(g))), 1e-12))


@given(n=st.integers(1, 6), c=st.integers(1, 6), reduction=reductions, seed=seeds, normalised=st.booleans())
def test_cross_entropy_with_class_probabilities_matches_torch(n, c, reduction, seed, normalised):
    x = make_array((n, c), seed)
    p = np.random.default_rng(seed + 1).uniform(0, 1, (n, c))
    if normalised:
        p /= p.sum(axis=1, keepdims=True)
    g = _grad_output(reduction, (n,), seed + 2)
    assert_matches_torch(_pair_side(L.cross_entropy_forward, L.cross_entropy_backward, reduction=reduction),
                         lambda x, p: F.cross_entropy(x, p, reduction=reduction), [x, p], g)


REGRESSION = {
    "mse": (L.mse_loss_forward, L.mse_loss_backward, {}, F.mse_loss),
    "l1": (L.l1_loss_forward, L.l1_loss_backward, {}, F.l1_loss),
    "smooth_l1": (L.smooth_l1_loss_forward, L.smooth_l1_loss_backward, {"beta": 1.0}, F.smooth_l1_loss),
    "smooth_l1_beta_0.3": (L.smooth_l1_loss_forward, L.smooth_l1_loss_backward, {"beta": 0.3},
                           lambda x, t, reduction: F.smooth_l1_loss(x, t, reduction=reduction, beta=0.3)),
    "smooth_l1_beta_0": (L.smooth_l1_loss_forward, L.smooth_l1_loss_backward, {"beta": 0.0},
                         lambda x, t, reduction: F.smooth_l1_loss(x, t, reduction=reduction, beta=0.0)),
}


@pytest.mark.parametrize("name", REGRESSION)
@given(shape=shapes, reduction=reductions, seed=seeds)
def test_regression_losses_match_torch(name, shape, reduction, seed):
    fwd, bwd, kw, torch_fn = REGRESSION[name]
    x, t = make_array(shape, seed, scale=2.0), make_array(shape, seed + 1)
    g = _grad_output(reduction, shape, seed + 2)
    assert_matches_torch(_pair_side(fwd, bwd, reduction=reduction, **kw),
                         lambda x, t: torch_fn(x, t, reduction=reduction), [x, t], g)


@given(shape=shapes, reduction=reductions, seed=seeds)
def test_hinge_loss_matches_torch_relu_form(shape, reduction, seed):
    y = make_array(shape, seed, scale=2.0)
    t = np.where(make_array(shape, seed + 1) > 0, 1.0, -1.0)
    g = _grad_output(reduction, shape, seed + 2)
    assert_matches_torch(_pair_side(L.hinge_loss_forward, L.hinge_loss_backward, reduction=reduction),
                         lambda y, t: torch_hinge(y, t, reduction), [y, t], g)


@given(n=st.integers(1, 6), c=st.integers(2, 6), reduction=reductions, seed=seeds,
       margin=st.sampled_from([1.0, 0.5, 3.0]))
def test_multiclass_hinge_loss_matches_torch_composition(n, c, reduction, seed, margin):
    s, t = make_array((n, c), seed), _labels(n, c, seed + 1)
    g = _grad_output(reduction, (n,), seed + 2)
    assert_matches_torch(
        _pair_side(L.multiclass_hinge_loss_forward, L.multiclass_hinge_loss_backward,
                   reduction=reduction, margin=margin),
        lambda s, t: torch_multiclass_hinge(s, t, reduction, margin), [s, t], g)


@given(n=st.integers(1, 6), c=st.integers(2, 6), reduction=reductions, seed=seeds,
       margin=st.sampled_from([1.0, 0.5, 3.0]))
def test_multi_margin_loss_matches_torch(n, c, reduction, seed, margin):
    s, t = make_array((n, c), seed), _labels(n, c, seed + 1)
    g = _grad_output(reduction, (n,), seed + 2)
    assert_matches_torch(
        _pair_side(L.multi_margin_loss_forward, L.multi_margin_loss_backward, margin=margin, reduction=reduction),
        lambda s, t: F.multi_margin_loss(s, t, margin=margin, reduction=reduction), [s, t], g)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=shapes, seed=seeds, data=st.data())
def test_softmax_and_log_softmax_match_torch(name, shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    fwd, bwd = getattr(L, name + "_forward"), getattr(L, name + "_backward")
    x, g = make_array(shape, seed, scale=5.0), make_array(shape, seed + 1)

    def numpy_side(x, grad_output):
        out, cache = fwd(x, dim=dim)
        return out, [bwd(grad_output, cache)]

    assert_matches_torch(numpy_side, lambda x: getattr(F, name)(x, dim=dim), [x], g)


# -- centred differences ------------------------------------------------------------------------
FD_CASES = {
    "cross_entropy": (L.cross_entropy_forward, L.cross_entropy_backward, {}),
    "mse": (L.mse_loss_forward, L.mse_loss_backward, {}),
    "l1": (L.l1_loss_forward, L.l1_loss_backward, {}),
    "smooth_l1": (L.smooth_l1_loss_forward, L.smooth_l1_loss_backward, {"beta": 0.7}),
    "hinge": (L.hinge_loss_forward, L.hinge_loss_backward, {}),
    "multiclass_hinge": (L.multiclass_hinge_loss_forward, L.multiclass_hinge_loss_backward, {}),
    "multi_margin": (L.multi_margin_loss_forward, L.multi_margin_loss_backward, {}),
}


def _fd_problem(name, n, c, seed):
    """An input and target whose loss is smooth within 1e-3 of the input (no kink in reach)."""
    x = make_array((n, c), seed, scale=2.0)
    if name == "cross_entropy":
        return x, _labels(n, c, seed + 1)
    if name in ("multiclass_hinge", "multi_margin"):
        # each row: distinct multiples of 0.37 (no ties for the max), so every margin 1 + s_j - s_t
        # is 1 - 0.37 k for an integer k, at least 0.11 away from the kink at 0
        rng = np.random.default_rng(seed)
        x = 0.37 * np.stack([rng.permutation(c) for _ in range(n)]) + rng.normal(size=(n, 1))
        return x, _labels(n, c, seed + 1)
    target = make_array((n, c), seed + 1)
    if name == "hinge":
        target = np.where(target > 0, 1.0, -1.0)
        x = np.where(np.abs(1 - target * x) < 1e-2, x + 0.1, x)
    elif name == "smooth_l1":
        d = x - target
        x = np.where(np.abs(np.abs(d) - 0.7) < 1e-2, x + 0.1, x)
    x = np.where(np.abs(x - target) < 1e-2, x + 0.1, x)  # away from the kink of |d|
    return x, target


@pytest.mark.parametrize("name", FD_CASES)
@given(n=st.integers(1, 4), c=st.integers(2, 5), reduction=reductions, seed=seeds)
def test_loss_backward_matches_finite_differences(name, n, c, reduction, seed):
    fwd, bwd, kw = FD_CASES[name]
    x, t = _fd_problem(name, n, c, seed)
    loss, cache = fwd(x, t, reduction=reduction, **kw)
    g = _grad_output(reduction, np.shape(loss), seed + 3)
    analytic = bwd(g, cache)
    check_gradient(lambda: fwd(x, t, reduction=reduction, **kw)[0], x, analytic,
                   grad_output=g, h=1e-5)  # raises if they differ by more than 1e-6 (see check_gradient)


# -- values by hand -----------------------------------------------------------------------------
def test_regression_values_by_hand():
    y, t = np.array([1.0, -2.0, 0.5]), np.array([0.0, 0.0, 0.0])
    assert L.mse_loss(y, t) == pytest.approx((1 + 4 + 0.25) / 3, rel=1e-15)
    assert L.mse_loss(y, t, reduction="sum") == pytest.approx(5.25, rel=1e-15)
    assert L.l1_loss(y, t, reduction="none").tolist() == [1.0, 2.0, 0.5]
    # smooth L1 (beta = 1): 0.5 d^2 inside |d| < 1, |d| - 0.5 outside
    assert L.smooth_l1_loss(y, t, reduction="none").tolist() == [0.5, 1.5, 0.125]
    assert L.smooth_l1_loss(y, t, reduction="none", beta=0).tolist() == [1.0, 2.0, 0.5]


def test_classification_values_by_hand():
    # binary hinge: correct with margin -> 0; correct but inside the margin -> 0.5; wrong -> 2
    assert L.hinge_loss(np.array([2.0, 0.5, -1.0]), np.array([1, 1, 1]), reduction="none").tolist() == [0, 0.5, 2]
    s, t = np.array([[3.0, 1.0, 2.5]]), np.array([0])
    assert L.multiclass_hinge_loss(s, t) == pytest.approx(0.5, rel=1e-15)  # 1 + 2.5 - 3
    assert L.multi_margin_loss(s, t) == pytest.approx((0 + 0.5) / 3, rel=1e-15)  # (max(0, -1) + 0.5) / C
    s = np.array([[2.0, 1.0, 0.0]])
    assert L.cross_entropy(s, np.array([0])) == pytest.approx(-math.log(math.e**2 / (math.e**2 + math.e + 1)),
                                                               rel=1e-14)
    np.testing.assert_allclose(L.softmax(s).sum(axis=1), [1.0], rtol=1e-15)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    s, t = make_array((4, 3), 0), np.array([0, 2, 1, 2])
    loss, cache = L.cross_entropy_forward(s, t, reduction="sum")
    np.testing.assert_allclose(L.cross_entropy_backward(1.0, cache), L.softmax(s) - np.eye(3)[t], rtol=1e-14)
    # one-hot probabilities give the same loss as the class indices
    assert L.cross_entropy(s, np.eye(3)[t]) == pytest.approx(L.cross_entropy(s, t), rel=1e-14)


@given(n=st.integers(1, 6), c=st.integers(2, 6), seed=seeds)
def test_lecture_hinge_versus_pytorch_multi_margin(n, c, seed):
    """lecture <= C * PyTorch's <= (C - 1) * lecture: one term (the max) versus the sum of C - 1 terms."""
    s, t = make_array((n, c), seed), _labels(n, c, seed + 1)
    lecture = L.multiclass_hinge_loss(s, t, reduction="none")
    torch_form = L.multi_margin_loss(s, t, reduction="none")
    assert np.all(lecture <= c * torch_form + 1e-12)
    assert np.all(c * torch_form <= (c - 1) * lecture + 1e-12)
    if c == 2:
        np.testing.assert_allclose(lecture, 2 * torch_form, rtol=1e-15)


# -- stability and dtypes -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_of_huge_logits_is_exact_and_silent(dtype):
    s = np.array([[1e4, -1e4], [1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    t = np.array([0, 1, 1])
    losses, cache = L.cross_entropy_forward(s, t, reduction="none")
    assert losses.dtype == dtype and losses.tolist() == [0.0, 2e4, 0.0]
    grad = L.cross_entropy_backward(np.ones(3, dtype=dtype), cache)
    assert grad.tolist() == [[0.0, 0.0], [1.0, -1.0], [0.0, 0.0]]
    expected = torch.nn.functional.cross_entropy(torch.tensor(s), torch.tensor(t), reduction="none")
    assert losses.tolist() == expected.tolist()
    assert L.log_softmax(s)[1].tolist() == [0.0, -2e4]
    assert L.softmax(s)[1].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("dtype, gap", [(np.float64, 800.0), (np.float32, 120.0), (np.float16, 20.0)])
def test_log_softmax_is_finite_where_exp_of_the_gap_underflows(dtype, gap):
    # e^-gap rounds to 0 in this dtype, so log(softmax) would be -inf; log-softmax must give -gap (04 shows it)
    s = np.array([[0.0, -gap]], dtype=dtype)
    assert np.exp(s[0, 1]) == 0
    assert L.log_softmax(s, dim=1).tolist() == [[0.0, -gap]] and L.log_softmax(s, dim=1).dtype == dtype
    losses = L.cross_entropy(s, np.array([1]), reduction="none")
    assert losses.dtype == dtype and losses.tolist() == [gap]


def test_cross_entropy_and_sigmoid_of_huge_inputs_in_float16():
    s = np.array([[1e4, -1e4, 0.0]], dtype=np.float16)
    losses = [float(L.cross_entropy(s, np.array([c]))) for c in range(3)]
    expected = [torch.nn.functional.cross_entropy(torch.tensor(s), torch.tensor([c])).item() for c in range(3)]
    assert losses == expected == [0.0, 2e4, 1e4]
    assert sigmoid(np.array([-1000.0, 1000.0], dtype=np.float16)).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("name", FD_CASES)
def test_float32_in_float32_out(name):
    fwd, bwd, kw = FD_CASES[name]
    x, t = _fd_problem(name, 3, 4, 0)
    x = x.astype(np.float32)
    for reduction in ("mean", "none"):
        loss, cache = fwd(x, t, reduction=reduction, **kw)
        assert np.asarray(loss).dtype == np.float32
        g = 1.0 if reduction == "mean" else np.ones(np.shape(loss), dtype=np.float32)
        assert bwd(g, cache).dtype == np.float32


# -- modules ------------------------------------------------------------------------------------
MODULES = [
    (L.CrossEntropyLoss, L.cross_entropy_forward, L.cross_entropy_backward, "cross_entropy", {}),
    (L.MSELoss, L.mse_loss_forward, L.mse_loss_backward, "mse", {}),
    (L.L1Loss, L.l1_loss_forward, L.l1_loss_backward, "l1", {}),
    (L.SmoothL1Loss, L.smooth_l1_loss_forward, L.smooth_l1_loss_backward, "smooth_l1", {"beta": 0.7}),
    (L.HingeLoss, L.hinge_loss_forward, L.hinge_loss_backward, "hinge", {}),
    (L.MultiClassHingeLoss, L.multiclass_hinge_loss_forward, L.multiclass_hinge_loss_backward,
     "multiclass_hinge", {"margin": 2.0}),
]


@pytest.mark.parametrize("cls, fwd, bwd, name, kw", MODULES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_call_their_pairs(cls, fwd, bwd, name, kw, reduction):
    x, t = _fd_problem(name, 3, 4, 5)
    criterion = cls(reduction=reduction, **kw)
    loss = criterion(x, t)
    expected, cache = fwd(x, t, reduction=reduction, **kw)
    np.testing.assert_array_equal(loss, expected)
    ones = 1.0 if reduction != "none" else np.ones(np.shape(expected))
    np.testing.assert_array_equal(criterion.backward(), bwd(ones, cache))
    np.testing.assert_allclose(criterion.backward(ones * 3.0), 3.0 * bwd(ones, cache), rtol=1e-15, atol=1e-16)
    assert f"reduction='{reduction}'" in repr(criterion)


def test_cross_entropy_module_matches_torch_module():
    x, t = make_array((5, 4), 3), _labels(5, 4, 4)
    ours = L.CrossEntropyLoss()
    x_t = torch.tensor(x, requires_grad=True)
    theirs = torch.nn.CrossEntropyLoss()(x_t, torch.tensor(t))
    theirs.backward()
    assert ours(x, t) == pytest.approx(theirs.item(), rel=1e-14)
    np.testing.assert_allclose(ours.backward(), x_t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", [m[0] for m in MODULES])
def test_loss_module_docstrings_and_backward_before_forward(cls):
    assert "Shape:" in cls.__doc__ and "04_losses" in cls.__doc__
    with pytest.raises(RuntimeError, match="backward called before forward"):
        cls().backward()


# -- bad input ----------------------------------------------------------------------------------
X = np.zeros((2, 3))


@pytest.mark.parametrize("call, words", [
    (lambda: L.cross_entropy(X, np.array([0, 3])), "target holds the label 3, out of range: labels must be in [0, 2] for 3 classes"),
    (lambda: L.cross_entropy(X, np.array([-1, 0])), "target holds the label -1"),
    (lambda: L.cross_entropy(X, np.array([0.0, 1.0])), "target holds floats (dtype float64); class labels must be integers"),
    (lambda: L.cross_entropy(X, np.array([0, 1, 2])), "target must have shape (2,)"),
    (lambda: L.cross_entropy(X, np.ones((2, 4))), "target of class probabilities must have input's shape (2, 3)"),
    (lambda: L.cross_entropy(np.zeros(3), np.array([0])), "input must have 2 dimensions"),
    (lambda: L.cross_entropy(X, np.array([0, 1]), reduction="avg"), "reduction must be 'mean', 'sum' or 'none'"),
    (lambda: L.multiclass_hinge_loss(np.zeros((2, 1)), np.array([0, 0])), "at least 2 classes"),
    (lambda: L.multi_margin_loss(X, np.array([0, 5])), "out of range"),
    (lambda: L.hinge_loss(np.zeros(3), np.array([1, 0, -1])), "only -1 and +1"),
    (lambda: L.hinge_loss(np.zeros(3), np.array([1, -1])), "same shape"),
    (lambda: L.mse_loss(np.zeros(3), np.zeros((3, 1))), "input and target must have the same shape"),
    (lambda: L.l1_loss(np.zeros(3), np.array(["a", "b", "c"])), "target must hold numbers"),
    (lambda: L.smooth_l1_loss(np.zeros(3), np.zeros(3), beta=-1), "beta must be >= 0"),
    (lambda: L.SmoothL1Loss(beta="1"), "beta must be a finite real number"),
    (lambda: L.mse_loss_backward(np.ones(2), L.mse_loss_forward(X, X)[1]), "grad_output must be a scalar"),
    (lambda: L.mse_loss_backward(np.ones(2), L.mse_loss_forward(X, X, "none")[1]), "loss's shape (2, 3)"),
    (lambda: L.softmax(X, dim=2), "dim must be in [-2, 1]"),
])
def test_bad_input_says_what_is_wrong(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)
