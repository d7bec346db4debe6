"""cnnlib.torch_nn.loss (and softmax) against torch.nn and cnnlib.numpy_nn, gradcheck, float32, devices, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from strategies import make_array, seeds
from torch_support import DEVICES, DTYPES, F32, assert_runs_close, assert_three_way, needs_cuda, run, \
    skip_unsupported, tensor

import cnnlib.numpy_nn.loss as NL
import cnnlib.torch_nn.loss as L

reductions = st.sampled_from(["mean", "sum", "none"])
shapes = array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)


def _reduce(losses, reduction):
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


# Plain-PyTorch references, called as ref(input, target, reduction, **options). The target is a
# constant for our losses (it gets no gradient), so the references detach it too.
def torch_hinge(y, t, reduction):
    return _reduce(F.relu(1 - t.detach() * y), reduction)


def torch_multiclass_hinge(s, t, reduction, margin=1.0):
    """The lecture's form built from PyTorch ops: the largest wrong score against the true one."""
    true = s.gather(1, t[:, None])[:, 0]
    wrong = s.masked_fill(F.one_hot(t, s.shape[1]).bool(), -math.inf)
    return _reduce(F.relu(margin + wrong.max(dim=1).values - true), reduction)


def _detached(torch_fn):
    return lambda x, t, reduction, **kw: torch_fn(x, t.detach(), reduction=reduction, **kw)


# name -> (ours, the NumPy pair, the PyTorch reference, options, kind of target)
LOSSES = {
    "cross_entropy": (L.cross_entropy, NL.cross_entropy_forward, NL.cross_entropy_backward, F.cross_entropy, {},
                      "labels"),
    "cross_entropy_probs": (L.cross_entropy, NL.cross_entropy_forward, NL.cross_entropy_backward,
                            _detached(F.cross_entropy), {}, "probabilities"),
    "mse": (L.mse_loss, NL.mse_loss_forward, NL.mse_loss_backward, _detached(F.mse_loss), {}, "values"),
    "l1": (L.l1_loss, NL.l1_loss_forward, NL.l1_loss_backward, _detached(F.l1_loss), {}, "values"),
    "smooth_l1": (L.smooth_l1_loss, NL.smooth_l1_loss_forward, NL.smooth_l1_loss_backward,
                  _detached(F.smooth_l1_loss), {"beta": 0.7}, "values"),
    "smooth_l1_beta_0": (L.smooth_l1_loss, NL.smooth_l1_loss_forward, NL.smooth_l1_loss_backward,
                         _detached(F.smooth_l1_loss), {"beta": 0.0}, "values"),
    "hinge": (L.hinge_loss, NL.hinge_loss_forward, NL.hinge_loss_backward, torch_hinge, {}, "signs"),
    "multiclass_hinge": (L.multiclass_hinge_loss, NL.multiclass_hinge_loss_forward,
                         NL.multiclass_hinge_loss_backward, torch_multiclass_hinge, {"margin": 0.5}, "labels"),
    "multi_margin": (L.multi_margin_loss, NL.multi_margin_loss_forward, NL.multi_margin_loss_backward,
                     F.multi_margin_loss, {"margin": 1.5}, "labels"),
}


def _problem(name, n, c, seed):
    """(input (N, C), target) for the loss, drawn from the seed."""
    kind = LOSSES[name][-1]
    x = make_array((n, c), seed, scale=2.0)
    rng = np.random.default_rng(seed + 1)
    if kind == "labels":
        return x, rng.integers(0, c, size=n)
    if kind == "probabilities":
        p = rng.uniform(0, 1, (n, c))
        return x, p / p.sum(axis=1, keepdims=True)
    if kind == "signs":
        return x, np.where(rng.standard_normal((n, c)) > 0, 1.0, -1.0)
    return x, rng.standard_normal((n, c))


def _grad_output(name, reduction, n, c, seed):
    per_sample = LOSSES[name][-1] in ("labels", "probabilities")
    shape = () if reduction != "none" else (n,) if per_sample else (n, c)
    return make_array(shape, seed + 2, scale=2.0)


def _call(fn, name, reduction):
    kw = LOSSES[name][4]
    return lambda x, t: fn(x, t, reduction=reduction, **kw)


sizes = dict(n=st.integers(1, 5), c=st.integers(2, 5), reduction=reductions, seed=seeds)


# -- three-way parity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", LOSSES)
@given(**sizes)
def test_loss_three_way_parity(device, name, n, c, reduction, seed):
    ours, np_forward, np_backward, reference, kw, _ = LOSSES[name]
    x, t = _problem(name, n, c, seed)
    g = _grad_output(name, reduction, n, c, seed)

    def numpy_side(x, t, g):
        loss, cache = np_forward(x, t, reduction=reduction, **kw)
        return loss, [np_backward(g, cache), None]

    assert_three_way(_call(ours, name, reduction), _call(reference, name, reduction), numpy_side, [x, t], g,
                     names=["input", "target"], device=device)


def _gradient_term_size(name, x, g, dim):
    """The size of the terms each gradient entry is computed from, where its round-off lives.

    softmax: grad = s * (g - sum(g*s)); log_softmax: grad = g - s * sum(g). When one class
    dominates, an entry is a small difference of much larger terms, so its error is measured
    against those terms, not against the (cancelled) result.
    """
    s = np.exp(x - x.max(axis=dim, keepdims=True))
    s /= s.sum(axis=dim, keepdims=True)
    if name == "softmax":
        return s * (np.abs(g) + np.abs(np.sum(g * s, axis=dim, keepdims=True)))
    return np.abs(g) + s * np.abs(np.sum(g, axis=dim, keepdims=True))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=shapes, seed=seeds, data=st.data())
def test_softmax_three_way_parity(device, name, shape, seed, data):
    skip_unsupported(device, torch.float64)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    ours, np_forward, np_backward = getattr(L, name), getattr(NL, name + "_forward"), getattr(NL, name + "_backward")
    x, g = make_array(shape, seed, scale=5.0), make_array(shape, seed + 1)
    out, cache = np_forward(x, dim=dim)
    results = {"cnnlib.numpy_nn": (out, np_backward(g, cache)),
               "cnnlib.torch_nn": run(lambda t: ours(t, dim=dim), [x], g, device),
               "torch.nn": run(lambda t: getattr(F, name)(t, dim=dim), [x], g, device)}
    term_size = _gradient_term_size(name, x, g, dim)
    expected_out, (expected_grad,) = results["torch.nn"]
    for side, (out, grad) in results.items():
        out, grad = np.asarray(out), np.asarray(grad[0] if isinstance(grad, list) else grad)
        scale = np.abs(expected_out.numpy()).max()  # log_softmax of a dominant class cancels to near 0
        np.testing.assert_allclose(out, expected_out.numpy(), rtol=1e-10, atol=1e-13 * scale,
                                   err_msg=f"{side} on {device}")
        error = np.abs(grad - expected_grad.numpy()) / np.maximum(term_size, 1e-300)
        assert np.all(error <= 1e-10), f"{side} on {device}: gradient off by {error.max():.3g} of its terms' size"


# -- gradcheck (inputs kept away from the kinks of max, |d| and the hinges) ------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", LOSSES)
@given(**sizes)
def test_loss_gradcheck(device, name, n, c, reduction, seed):
    skip_unsupported(device, torch.float64)
    ours, kw = LOSSES[name][0], LOSSES[name][4]
    x, t = _problem(name, n, c, seed)
    rng = np.random.default_rng(seed)
    if LOSSES[name][-1] == "labels":  # distinct steps of 0.37: no ties, margins 0.13 or more from the kink
        x = 0.37 * np.stack([rng.permutation(c) for _ in range(n)]) + rng.normal(size=(n, 1))
    elif LOSSES[name][-1] in ("values", "signs"):
        x = t + np.where(rng.uniform(size=x.shape) < 0.5, -1, 1) * rng.choice([0.2, 0.5, 1.3, 2.5], size=x.shape)
    xt, tt = tensor(x, device, requires_grad=True), tensor(t, device)
    assert torch.autograd.gradcheck(lambda x: ours(x, tt, reduction=reduction, **kw), (xt,))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradcheck(device, name):
    skip_unsupported(device, torch.float64)
    x = tensor(make_array((3, 4, 2), 0), device, requires_grad=True)
    for dim in (0, 1, -1):
        assert torch.autograd.gradcheck(lambda x: getattr(L, name)(x, dim=dim), (x,))


# -- float32, devices -----------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", LOSSES)
@given(**sizes)
def test_float32_stays_float32_and_matches_torch(device, name, n, c, reduction, seed):
    ours, *_, reference, _, _ = LOSSES[name]
    x, t = _problem(name, n, c, seed)
    g = _grad_output(name, reduction, n, c, seed)
    result = run(_call(ours, name, reduction), [x, t], g, device, torch.float32)
    assert result[0].dtype == torch.float32 and result[1][0].dtype == torch.float32
    assert_runs_close(result, run(_call(reference, name, reduction), [x, t], g, device, torch.float32), **F32)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cuda_matches_cpu(dtype, name, reduction):
    x, t = _problem(name, 6, 5, 0)
    g = _grad_output(name, reduction, 6, 5, 0)
    fn = _call(LOSSES[name][0], name, reduction)
    assert_runs_close(run(fn, [x, t], g, "cuda", dtype), run(fn, [x, t], g, "cpu", dtype), **F32)


# -- values by hand and stability -------------------------------------------------------------------------
def test_values_by_hand():
    y, zeros = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    assert L.mse_loss(y, zeros).item() == pytest.approx(5.25 / 3, rel=1e-15)
    assert L.smooth_l1_loss(y, zeros, reduction="none").tolist() == [0.5, 1.5, 0.125]
    assert L.hinge_loss(torch.tensor([2.0, 0.5, -1.0]), torch.tensor([1, 1, 1]), reduction="none").tolist() == \
        [0, 0.5, 2]
    s, t = torch.tensor([[3.0, 1.0, 2.5]], dtype=torch.float64), torch.tensor([0])
    assert L.multiclass_hinge_loss(s, t).item() == pytest.approx(0.5, rel=1e-15)      # 1 + 2.5 - 3
    assert L.multi_margin_loss(s, t).item() == pytest.approx(0.5 / 3, rel=1e-15)       # (0 + 0.5) / C
    s = make_array((4, 3), 0)
    loss, cache = L.cross_entropy_forward(torch.tensor(s), torch.tensor([0, 2, 1, 2]), reduction="sum")
    grad = L.cross_entropy_backward(1.0, cache)  # a plain float is accepted as grad_output
    torch.testing.assert_close(grad, L.softmax(torch.tensor(s)) - torch.eye(3, dtype=torch.float64)[[0, 2, 1, 2]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_of_huge_logits_is_exact(dtype):
    s = torch.tensor([[1e4, -1e4], [1e4, -1e4], [-1e4, 1e4]], dtype=dtype, requires_grad=True)
    losses = L.cross_entropy(s, torch.tensor([0, 1, 1]), reduction="none")
    assert losses.dtype == dtype and losses.tolist() == [0.0, 2e4, 0.0]
    losses.sum().backward()
    assert s.grad.tolist() == [[0.0, 0.0], [1.0, -1.0], [0.0, 0.0]]


def test_autograd_runs_our_backward():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    loss = L.cross_entropy(x, torch.tensor([0, 3, 1]))
    assert type(loss.grad_fn).__name__ == "LossFunctionBackward"
    assert type(L.softmax(x).grad_fn).__name__ == "SoftmaxFunctionBackward"


# -- bad input: the same messages as cnnlib.numpy_nn -----------------------------------------------------
@pytest.mark.parametrize("fn, args, kwargs", [
    ("cross_entropy", (np.zeros((2, 3)), np.array([0, 3])), {}),
    ("cross_entropy", (np.zeros((2, 3)), np.array([-1, 0])), {}),
    ("cross_entropy", (np.zeros((2, 3)), np.array([0.0, 1.0])), {}),
    ("cross_entropy", (np.zeros((2, 3)), np.array([0, 1, 2])), {}),
    ("cross_entropy", (np.zeros((2, 3)), np.ones((2, 4))), {}),
    ("cross_entropy", (np.zeros(3), np.array([0])), {}),
    ("cross_entropy", (np.zeros((2, 3)), np.array([0, 1])), {"reduction": "avg"}),
    ("multiclass_hinge_loss", (np.zeros((2, 1)), np.array([0, 0])), {}),
    ("hinge_loss", (np.zeros(3), np.array([1.0, 0.0, -1.0])), {}),
    ("mse_loss", (np.zeros(3), np.zeros((3, 1))), {}),
    ("smooth_l1_loss", (np.zeros(3), np.zeros(3)), {"beta": -1}),
    ("softmax", (np.zeros((2, 3)),), {"dim": 2}),
])
def test_bad_input_gives_the_numpy_message(fn, args, kwargs):
    with pytest.raises(ValueError) as numpy_error:
        getattr(NL, fn)(*args, **kwargs)
    with pytest.raises(ValueError) as torch_error:
        getattr(L, fn)(*(torch.tensor(a) for a in args), **kwargs)
    assert str(torch_error.value) == str(numpy_error.value)


def test_wrong_grad_output_is_refused():
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="grad_output must be a scalar for reduction='mean'"):
        L.mse_loss_backward(torch.ones(2), L.mse_loss_forward(x, x)[1])
    with pytest.raises(ValueError, match=r"loss's shape \(2, 3\)"):
        L.mse_loss_backward(torch.ones(2), L.mse_loss_forward(x, x, "none")[1])


# -- modules --------------------------------------------------------------------------------------------
MODULES = [
    (L.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), "cross_entropy"),
    (L.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), "mse"),
    (L.L1Loss(), torch.nn.L1Loss(), "l1"),
    (L.SmoothL1Loss(beta=0.7), torch.nn.SmoothL1Loss(beta=0.7), "smooth_l1"),
    (L.HingeLoss(reduction="none"), lambda y, t: torch_hinge(y, t, "none"), "hinge"),
    (L.MultiClassHingeLoss(margin=0.5), lambda s, t: torch_multiclass_hinge(s, t, "mean", 0.5), "multiclass_hinge"),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("ours, reference, name", MODULES)
def test_loss_modules_match_torch(device, ours, reference, name):
    x, t = _problem(name, 4, 3, 7)
    g = np.ones((4, 3)) if name == "hinge" else None  # HingeLoss(reduction="none") gives one loss per entry
    ref = (lambda x, t: reference(x, t.detach())) if LOSSES[name][-1] != "labels" else reference
    assert_three_way(ours, ref, None, [x, t], g, device=device)
    assert "reduction=" in repr(ours) and "Shape:" in type(ours).__doc__ and "04_losses" in type(ours).__doc__
