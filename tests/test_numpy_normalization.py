"""cnnlib.numpy_nn.normalization (LocalResponseNorm, BatchNorm2d) against PyTorch, finite differences and its loops."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given
from hypothesis import strategies as st
from parity import assert_matches_finite_differences, assert_matches_torch, scaled_rel_error
from strategies import make_array, seeds

from cnnlib.numpy_nn.normalization import (
    BatchNorm2d, LocalResponseNorm, batch_norm, batch_norm_backward, batch_norm_forward, local_response_norm,
    local_response_norm_backward, local_response_norm_backward_naive, local_response_norm_forward,
    local_response_norm_naive,
)
from cnnlib.torch_nn.convert import to_numpy_state_dict


@st.composite
def lrn_configs(draw):
    """(N, C, *) with 1 to 3 trailing dimensions, even and odd window sizes, and the formula's constants."""
    trailing = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    return dict(shape=(draw(st.integers(1, 3)), draw(st.integers(1, 8)), *trailing),
                size=draw(st.integers(1, 7)), alpha=draw(st.sampled_from([1e-4, 0.1, 0.5, 2.0])),
                beta=draw(st.sampled_from([0.5, 0.75, 1.0, 1.5])), k=draw(st.sampled_from([0.5, 1.0, 2.0])))


def _lrn_args(cfg):
    return cfg["size"], cfg["alpha"], cfg["beta"], cfg["k"]


ALEXNET = dict(shape=(2, 9, 3, 3), size=5, alpha=5e-4, beta=0.75, k=2.0)
EVEN = dict(shape=(1, 6, 2), size=4, alpha=0.5, beta=0.75, k=1.0)


@given(cfg=lrn_configs(), seed=seeds)
@example(cfg=ALEXNET, seed=0)
@example(cfg=EVEN, seed=0)
def test_local_response_norm_matches_torch(cfg, seed):
    x = make_array(cfg["shape"], seed)
    g = make_array(cfg["shape"], seed + 1)

    def numpy_side(x, g):
        out, cache = local_response_norm_forward(x, *_lrn_args(cfg))
        return out, [local_response_norm_backward(g, cache)]

    assert_matches_torch(numpy_side, lambda x: F.local_response_norm(x, *_lrn_args(cfg)), [x], g, names=["input"])


@given(cfg=lrn_configs(), seed=seeds)
@example(cfg=EVEN, seed=2)
def test_local_response_norm_backward_matches_finite_differences_and_loops(cfg, seed):
    x = make_array(cfg["shape"], seed)
    g = make_array(cfg["shape"], seed + 1)
    out, cache = local_response_norm_forward(x, *_lrn_args(cfg))
    grad = local_response_norm_backward(g, cache)
    assert_matches_finite_differences(lambda: local_response_norm(x, *_lrn_args(cfg)), [("input", x, grad)], g)
    assert scaled_rel_error(local_response_norm_naive(x, *_lrn_args(cfg)), out) < 1e-12
    assert scaled_rel_error(local_response_norm_backward_naive(g, x, *_lrn_args(cfg)), grad) < 1e-12


def test_local_response_norm_window_is_pytorchs_for_an_even_size():
    # size 4: channel c sums c-2, c-1, c, c+1 (size // 2 before, (size - 1) // 2 after), so a
    # single nonzero x[3] enters s for c = 2, 3, 4, 5 and not for c = 0, 1
    x = np.zeros((1, 6, 1))
    x[0, 3, 0] = 1.0
    s = local_response_norm_forward(x, 4, alpha=4.0, beta=1.0, k=1.0)[1][1][0, :, 0]
    np.testing.assert_array_equal(s, [1, 1, 2, 2, 2, 2])
    probe = np.ones((1, 6, 1)) + x  # where s grows, torch's output shrinks
    theirs = F.local_response_norm(torch.tensor(probe), 4, alpha=4.0, beta=1.0, k=1.0).numpy()
    np.testing.assert_allclose(local_response_norm(probe, 4, alpha=4.0, beta=1.0, k=1.0), theirs, rtol=1e-14)


def test_local_response_norm_module_and_bad_arguments():
    layer = LocalResponseNorm(3, alpha=0.2, beta=0.5, k=1.0)
    x = make_array((2, 4, 3, 3), 0)
    g = make_array((2, 4, 3, 3), 1)
    out = layer(x)
    np.testing.assert_allclose(out, F.local_response_norm(torch.tensor(x), 3, 0.2, 0.5, 1.0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(g), local_response_norm_backward_naive(g, x, 3, 0.2, 0.5, 1.0),
                               rtol=1e-12)
    assert layer.parameters() == [] and layer.state_dict() == {}
    assert repr(layer) == "LocalResponseNorm(3, alpha=0.2, beta=0.5, k=1.0)"
    with pytest.raises(ValueError, match="size must be positive, got 0"):
        LocalResponseNorm(0)
    with pytest.raises(ValueError, match="alpha must be a finite real number"):
        LocalResponseNorm(5, alpha=float("nan"))
    with pytest.raises(ValueError, match=r"at least 3 dimensions, got shape \(2, 4\)"):
        layer(np.ones((2, 4)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        LocalResponseNorm(2).backward(g)


# -- batch norm ---------------------------------------------------------------------------------------
@st.composite
def batch_norm_configs(draw):
    """At least 3 values per channel: with 2, x_hat is always about (-1, +1) and the input gradient is
    of the order of eps (it vanishes as eps -> 0), so a relative comparison measures only round-off."""
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if n * h * w < 3:
        n = 3
    return dict(shape=(n, draw(st.integers(1, 4)), h, w), affine=draw(st.booleans()),
                momentum=draw(st.sampled_from([0.1, 0.5, 1.0, None])), eps=draw(st.sampled_from([1e-5, 1e-3, 0.1])))


def _random_parameters(channels, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, channels), rng.standard_normal(channels)


@given(cfg=batch_norm_configs(), seed=seeds, training=st.booleans())
def test_batch_norm_matches_torch_with_the_running_statistics(cfg, seed, training):
    channels = cfg["shape"][1]
    x = make_array(cfg["shape"], seed, scale=3.0) + 1.0
    g = make_array(cfg["shape"], seed + 1)
    weight, bias = _random_parameters(channels, seed)
    mean0, var0 = make_array((channels,), seed + 2), 1.0 + np.abs(make_array((channels,), seed + 3))
    momentum = 0.1 if cfg["momentum"] is None else cfg["momentum"]
    ours_mean, ours_var = mean0.copy(), var0.copy()

    def numpy_side(x, weight, bias, g):
        out, cache = batch_norm_forward(x, ours_mean, ours_var, weight, bias, training, momentum, cfg["eps"])
        return out, list(batch_norm_backward(g, cache))

    torch_mean, torch_var = torch.tensor(mean0), torch.tensor(var0)
    assert_matches_torch(numpy_side, lambda x, w, b: F.batch_norm(x, torch_mean, torch_var, w, b, training,
                                                                     momentum, cfg["eps"]),
                         [x, weight, bias], g, names=["input", "weight", "bias"])
    np.testing.assert_allclose(ours_mean, torch_mean.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours_var, torch_var.numpy(), rtol=1e-12, atol=1e-14)


@given(cfg=batch_norm_configs(), seed=seeds, training=st.booleans())
def test_batch_norm_backward_matches_finite_differences(cfg, seed, training):
    channels = cfg["shape"][1]
    x = make_array(cfg["shape"], seed, scale=2.0)
    g = make_array(cfg["shape"], seed + 1)
    weight, bias = _random_parameters(channels, seed)
    mean, var = make_array((channels,), seed + 2), 1.0 + np.abs(make_array((channels,), seed + 3))
    _, cache = batch_norm_forward(x, mean, var, weight, bias, training, 0.0, cfg["eps"])  # momentum 0: stats fixed
    grad_x, grad_w, grad_b = batch_norm_backward(g, cache)
    f = lambda: batch_norm(x, mean, var, weight, bias, training, 0.0, cfg["eps"])  # noqa: E731
    assert_matches_finite_differences(f, [("input", x, grad_x), ("weight", weight, grad_w), ("bias", bias, grad_b)],
                                      g)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine, track", [(True, True), (False, True), (True, False)])
def test_batch_norm2d_follows_torch_over_several_steps_then_in_eval(momentum, affine, track):
    torch.manual_seed(0)
    ref = torch.nn.BatchNorm2d(3, momentum=momentum, affine=affine, track_running_stats=track).double()
    if affine:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 2.0)
            ref.bias.normal_()
    ours = BatchNorm2d(3, momentum=momentum, affine=affine, track_running_stats=track)
    ours.load_state_dict(to_numpy_state_dict(ref.state_dict()))
    for step in range(4):
        if step == 3:
            ref.eval()
            ours.eval()
        x = torch.randn(4, 3, 3, 2, dtype=torch.float64) * (step + 1) + step
        g = torch.randn_like(x)
        xt = x.clone().requires_grad_()
        out = ref(xt)
        out.backward(g)
        np.testing.assert_allclose(ours(x.numpy()), out.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.backward(g.numpy()), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        for key, value in ref.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12, atol=1e-14, err_msg=key)
    if affine:
        np.testing.assert_allclose(ours.weight.grad, ref.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.bias.grad, ref.bias.grad.numpy(), rtol=1e-10)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert int(ours.state_dict().get("num_batches_tracked", 3)) == 3


def test_batch_norm2d_buffers_dtypes_and_refusals():
    layer = BatchNorm2d(2, dtype=np.float32)
    assert [(k, v.shape, v.dtype) for k, v in layer.state_dict().items()] == [
        ("weight", (2,), np.float32), ("bias", (2,), np.float32), ("running_mean", (2,), np.float32),
        ("running_var", (2,), np.float32), ("num_batches_tracked", (), np.int64)]
    assert [name for name, _ in layer.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert len(layer.parameters()) == 2  # buffers are not trained
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(np.ones((1, 2, 1, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="input has dtype float64 but running_mean has dtype float32"):
        layer(np.ones((2, 2, 1, 1)))
    with pytest.raises(ValueError, match=r"input has 2 channels, but running_mean has shape \(3,\)"):
        BatchNorm2d(3)(np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"input \(N, C, H, W\), got shape \(2, 3\)"):
        BatchNorm2d(3)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="num_features must be positive"):
        BatchNorm2d(0)
    with pytest.raises(ValueError, match="dtype must be a floating-point type"):
        BatchNorm2d(2, dtype=np.int32)
    assert int(layer.num_batches_tracked) == 0  # the refused calls above changed nothing
    eval_only = BatchNorm2d(2, track_running_stats=False).eval()
    assert eval_only.state_dict().keys() == {"weight", "bias"}
    x = make_array((3, 2, 2, 2), 0)
    np.testing.assert_allclose(eval_only(x).mean(axis=(0, 2, 3)), 0, atol=1e-12)  # batch statistics in eval too
