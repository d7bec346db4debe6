"""cnnlib.numpy_nn.pooling against torch.nn.functional beyond the lecture: ceil_mode, dilation,
count_include_pad, divisor_override, unbatched input, an empty batch, ties, NaN and -inf, and the
memory bound of the vectorized path (no copy of every window)."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.numpy_nn import pooling as P
from cnnlib.torch_nn import pooling as T


@st.composite
def pool_contract_configs(draw):
    """Any pooling PyTorch accepts (windows that hold a real pixel), with extras and awkward values."""
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(2))
    cfg = dict(kernel_size=kernel, stride=tuple(draw(st.integers(1, 3)) for _ in range(2)),
               padding=tuple(draw(st.integers(0, k // 2)) for k in kernel), ceil_mode=draw(st.booleans()),
               dilation=tuple(draw(st.integers(1, 2)) for _ in range(2)),
               count_include_pad=draw(st.booleans()), divisor_override=draw(st.one_of(st.none(), st.integers(1, 5))))
    size = tuple(draw(st.integers(1, 8)) for _ in range(2))
    shape = (draw(st.integers(0, 3)), draw(st.integers(1, 3)), *size) if draw(st.booleans()) else (2, *size)
    values = draw(st.sampled_from(["normal", "ties", "nan", "-inf"]))
    return cfg, shape, values, draw(st.integers(0, 2**32 - 1))


def _input(shape, values, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if values == "ties":
        x = np.round(x)  # after ReLU, whole windows tie: the first maximum must win
    elif values == "nan" and x.size:
        x.flat[rng.integers(x.size, size=2)] = np.nan  # PyTorch: a window's last NaN wins
    elif values == "-inf":
        x[...] = -np.inf
    return x


@pytest.mark.parametrize("kind", ["max", "avg"])
@given(case=pool_contract_configs())
def test_pooling_matches_torch_beyond_the_lecture(kind, case):
    cfg, shape, values, seed = case
    args = {k: cfg[k] for k in ("kernel_size", "stride", "padding", "ceil_mode")}
    args.update({"dilation": cfg["dilation"]} if kind == "max" else
                {"count_include_pad": cfg["count_include_pad"], "divisor_override": cfg["divisor_override"]})
    x = _input(shape, values, seed)
    try:
        out, cache = getattr(P, f"{kind}_pool2d_forward")(x, **args)
    except ValueError as err:  # refused: PyTorch must refuse too, or the window covers padding only
        if "padding only" not in str(err):
            with pytest.raises(RuntimeError):
                getattr(F, f"{kind}_pool2d")(torch.tensor(x), **args)
        return
    xt = torch.tensor(x, requires_grad=True)
    expected = getattr(F, f"{kind}_pool2d")(xt, **args)
    g = np.random.default_rng(seed + 1).standard_normal(expected.shape)
    expected.backward(torch.tensor(g))
    grad = getattr(P, f"{kind}_pool2d_backward")(g, cache)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert out.shape == tuple(expected.shape) and grad.shape == x.shape
    naive = getattr(P, f"{kind}_pool2d_naive")(x, **args)
    naive_grad = getattr(P, f"{kind}_pool2d_backward_naive")(g, x, **args)
    np.testing.assert_allclose(naive, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(naive_grad, grad, rtol=1e-12, atol=1e-12)
    xo = torch.tensor(x, requires_grad=True)  # cnnlib.torch_nn: the same numbers through autograd
    ours = getattr(T, f"{kind}_pool2d")(xo, **args)
    ours.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.detach().numpy(), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xo.grad.numpy(), grad, rtol=1e-12, atol=1e-12)
    t_naive = getattr(T, f"{kind}_pool2d_naive")(torch.tensor(x), **args)
    t_naive_grad = getattr(T, f"{kind}_pool2d_backward_naive")(torch.tensor(g), torch.tensor(x), **args)
    np.testing.assert_allclose(t_naive.numpy(), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t_naive_grad.numpy(), grad, rtol=1e-12, atol=1e-12)


def test_max_pool_gradient_goes_to_the_first_maximum_and_the_last_nan():
    x = np.array([[[[0.0, 0.0], [0.0, 0.0]]], [[[np.nan, 1.0], [np.nan, 2.0]]]])  # (2, 1, 2, 2)
    out, cache = P.max_pool2d_forward(x, 2)
    grad = P.max_pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(grad[0, 0], [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(grad[1, 0], [[0.0, 0.0], [1.0, 0.0]])
    assert np.isnan(out[1, 0, 0, 0])


@pytest.mark.parametrize("shape, match", [
    ((2, 0, 4, 4), "only the batch dimension may be 0"),
    ((4, 4), r"4 dimensions \(N, C, H, W\) or 3 \(C, H, W\)"),
])
def test_degenerate_inputs_that_torch_refuses_are_refused(shape, match):
    for pool in (P.max_pool2d, P.avg_pool2d):
        with pytest.raises(ValueError, match=match):
            pool(np.zeros(shape), 2)


def test_bad_extras_are_refused_by_name():
    with pytest.raises(ValueError, match="dilation must be positive"):
        P.max_pool2d(np.zeros((1, 1, 4, 4)), 2, dilation=0)
    with pytest.raises(ValueError, match="divisor_override must be positive"):
        P.avg_pool2d(np.zeros((1, 1, 4, 4)), 2, divisor_override=0)
    with pytest.raises(ValueError, match="return_indices=True is not supported"):
        P.MaxPool2d(2, return_indices=True)
    with pytest.raises(ValueError, match="covers padding only"):
        P.max_pool2d(np.zeros((1, 1, 1, 3)), (2, 1), 1, (1, 0), dilation=(2, 1))


def test_modules_take_torch_positional_order():
    ours, ref = P.MaxPool2d(3, 2, 1, 2, False, True), torch.nn.MaxPool2d(3, 2, 1, 2, False, True)
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    np.testing.assert_allclose(ours(x), ref(torch.tensor(x)).numpy(), rtol=1e-12)
    assert repr(ours) == repr(ref)
    ours, ref = P.AvgPool2d(3, 2, 1, True, False, None), torch.nn.AvgPool2d(3, 2, 1, True, False, None)
    np.testing.assert_allclose(ours(x), ref(torch.tensor(x)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_memory_is_bounded_by_the_output_not_by_the_windows(kind):
    """A 256 KiB input with a 32x32 window at stride 1: a copy of every window would take ~200 MiB."""
    x = np.random.default_rng(0).standard_normal((1, 1, 128, 256))            # 256 KiB of float64
    tracemalloc.start()
    try:
        out, cache = getattr(P, f"{kind}_pool2d_forward")(x, 32, 1)
        getattr(P, f"{kind}_pool2d_backward")(np.ones_like(out), cache)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == (1, 1, 97, 225)
    assert peak < 8 * x.nbytes, f"peak {peak / 2**20:.1f} MiB for a {x.nbytes / 2**10:.0f} KiB input"


def test_torch_nn_memory_stays_small():
    """The same 32x32 window at stride 1 in cnnlib.torch_nn: no tensor near the windows' 200 MiB."""
    x = torch.randn(1, 1, 128, 256, dtype=torch.float64, requires_grad=True)
    sizes = []

    def pack(t):
        sizes.append(t.numel() * t.element_size())
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = T.max_pool2d(x, 32, 1)
    out.sum().backward()
    _, cache = T.max_pool2d_forward(x.detach(), 32, 1)
    kept = sum(t.numel() * t.element_size() for t in cache if isinstance(t, torch.Tensor))
    assert kept < 2 * x.numel() * x.element_size() and sum(sizes) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, stride, padding", [(3, 2, 1), (3, 1, 0), (4, 2, 2)])
def test_overlapping_windows_sum_gradients_in_torchs_order(dtype, kernel, stride, padding):
    """Where windows overlap, a pixel's gradient is a sum; cnnlib's must equal torch's bit for bit, ties included."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 23, 19)).astype(dtype)
    x[:, :, ::3, ::2] = 0.5                                                   # ties and repeated winners
    xt = torch.from_numpy(x).requires_grad_()
    out = F.max_pool2d(xt, kernel, stride, padding)
    g = torch.from_numpy(rng.standard_normal(out.shape).astype(dtype))
    out.backward(g)
    _, cache = P.max_pool2d_forward(x, kernel, stride, padding)
    np.testing.assert_array_equal(P.max_pool2d_backward(g.numpy(), cache), xt.grad.numpy())
    _, cache = T.max_pool2d_forward(torch.from_numpy(x), kernel, stride, padding)
    assert torch.equal(T.max_pool2d_backward(g, cache), xt.grad)
