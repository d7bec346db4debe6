"""cnnlib.numpy_nn.conv against PyTorch, against finite differences, and against its own naive loops."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given
from parity import assert_matches_finite_differences, assert_matches_torch, scaled_rel_error
from strategies import as_pair, conv2d_configs, make_array, seeds

from cnnlib.numpy_nn.conv import (Conv2d, conv2d, conv2d_backward, conv2d_backward_naive, conv2d_forward,
                                  conv2d_naive)
from cnnlib.testing import rel_error

SMALL_CASE = dict(batch=1, in_channels=1, out_channels=1, height=5, width=4, kernel_size=(3, 2),
                  stride=(2, 1), padding=(1, 0), bias=True, input_shape=(1, 1, 5, 4), weight_shape=(1, 1, 3, 2))


def _arrays(cfg, seed, dtype=np.float64):
    x = make_array(cfg["input_shape"], seed, dtype)
    w = make_array(cfg["weight_shape"], seed + 1, dtype)
    b = make_array((cfg["out_channels"],), seed + 2, dtype) if cfg["bias"] else None
    return x, w, b


# -- PyTorch oracle -------------------------------------------------------------------------------
@given(cfg=conv2d_configs(), seed=seeds)
@example(cfg=SMALL_CASE, seed=0)
def test_conv2d_matches_torch(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    s, p = cfg["stride"], cfg["padding"]
    out = conv2d(x, w, b, s, p)
    g = make_array(out.shape, seed + 3)

    def numpy_side(x, w, b, g):
        out, cache = conv2d_forward(x, w, b, s, p)
        return out, conv2d_backward(g, cache)

    assert_matches_torch(numpy_side, lambda x, w, b: F.conv2d(x, w, b, s, p), [x, w, b], g,
                         names=["input", "weight", "bias"])


# -- finite differences -----------------------------------------------------------------------------
@given(cfg=conv2d_configs(max_kernel=3), seed=seeds)
@example(cfg=SMALL_CASE, seed=1)
def test_conv2d_backward_matches_finite_differences(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    s, p = cfg["stride"], cfg["padding"]
    out, cache = conv2d_forward(x, w, b, s, p)
    g = make_array(out.shape, seed + 3)
    grad_x, grad_w, grad_b = conv2d_backward(g, cache)
    f = lambda: conv2d(x, w, b, s, p)  # noqa: E731  (reads x, w, b as they are perturbed)
    checks = [("input", x, grad_x), ("weight", w, grad_w)] + ([("bias", b, grad_b)] if b is not None else [])
    assert_matches_finite_differences(f, checks, g)


# -- naive loops ----------------------------------------------------------------------------------
@given(cfg=conv2d_configs(), seed=seeds)
def test_naive_loops_equal_vectorized(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    s, p = cfg["stride"], cfg["padding"]
    out, cache = conv2d_forward(x, w, b, s, p)
    g = make_array(out.shape, seed + 3)
    # The two add the same products in different orders: round-off is relative to the size of
    # the terms, so an entry that cancels to nearly 0 is measured against the array's scale.
    assert scaled_rel_error(conv2d_naive(x, w, b, s, p), out) < 1e-12
    fast = conv2d_backward(g, cache)
    slow = conv2d_backward_naive(g, x, w, b, s, p)
    for name, a, e in zip(["grad_input", "grad_weight", "grad_bias"], fast, slow):
        assert (a is None) == (e is None), name
        if a is not None:
            assert scaled_rel_error(a, e) < 1e-12, name


# -- specific values --------------------------------------------------------------------------------
def test_conv2d_known_values_and_no_flip():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    ones = np.ones((1, 1, 2, 2))
    out = conv2d(x, ones, np.array([0.5]))
    assert out.shape == (1, 1, 3, 3)
    assert out[0, 0, 0, 0] == 0 + 1 + 4 + 5 + 0.5
    assert out[0, 0, 2, 2] == 10 + 11 + 14 + 15 + 0.5
    corner = np.zeros((1, 1, 2, 2))
    corner[0, 0, 0, 0] = 1.0  # cross-correlation: the filter's top-left entry meets the patch's top-left pixel
    np.testing.assert_array_equal(conv2d(x, corner)[0, 0], x[0, 0, :3, :3])


def test_conv2d_padding_and_stride_give_lecture_sizes():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 3, 5, 5))
    assert conv2d(rng.standard_normal((1, 3, 32, 32)), w).shape == (1, 6, 28, 28)
    assert conv2d(rng.standard_normal((2, 3, 32, 32)), w, padding=2).shape == (2, 6, 32, 32)
    assert conv2d(np.zeros((1, 1, 7, 7)), np.ones((1, 1, 3, 3)), stride=2).shape == (1, 1, 3, 3)
    # stride 3 does not fit 7 exactly: like PyTorch, the last column and row are dropped
    assert conv2d(np.zeros((1, 1, 7, 7)), np.ones((1, 1, 3, 3)), stride=3).shape == (1, 1, 2, 2)
    padded = conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), padding=1)
    np.testing.assert_array_equal(padded[0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])  # zeros at the border


def test_integer_input_takes_the_weight_dtype():
    out = conv2d(np.ones((1, 1, 3, 3), dtype=np.int64), np.ones((1, 1, 2, 2), dtype=np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 4.0))


@given(cfg=conv2d_configs(), seed=seeds)
def test_float32_stays_float32(cfg, seed):
    x, w, b = _arrays(cfg, seed, np.float32)
    out, cache = conv2d_forward(x, w, b, cfg["stride"], cfg["padding"])
    assert out.dtype == np.float32
    grads = conv2d_backward(np.ones_like(out), cache)
    for grad in grads:
        assert grad is None or grad.dtype == np.float32
    out64 = conv2d(x.astype(np.float64), w.astype(np.float64), None if b is None else b.astype(np.float64),
                   cfg["stride"], cfg["padding"])
    np.testing.assert_allclose(out, out64, rtol=1e-4, atol=1e-4)


def test_forward_does_not_modify_input():
    x = make_array((2, 3, 6, 6), 0)
    w = make_array((4, 3, 3, 3), 1)
    x0, w0 = x.copy(), w.copy()
    out, cache = conv2d_forward(x, w, None, 1, 1)
    conv2d_backward(out, cache)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, w_shape, b_shape, kwargs, match", [
    ((1, 3, 8, 8), (4, 2, 3, 3), None, {}, "input has 3 channels but weight expects C_in=2"),
    ((1, 1, 8, 8), (1, 1, 3, 3), None, {"padding": -1}, "padding must be non-negative"),
    ((1, 1, 8, 8), (1, 1, 3, 3), None, {"stride": 0}, "stride must be positive"),
    ((1, 1, 8, 8), (1, 1, 3, 3), None, {"stride": (1, 0)}, "stride must be positive"),
    ((1, 1, 4, 4), (1, 1, 7, 3), None, {"padding": 1}, r"kernel_size \(7, 3\) is larger than the padded input \(6, 6\)"),
    ((1, 1, 8, 8), (2, 1, 3, 3), (3,), {}, r"bias must have shape \(2,\)"),
    ((8, 8), (2, 1, 3, 3), None, {}, r"input must have 4 dimensions \(N, C_in, H, W\) or 3 \(C_in, H, W\)"),
    ((1, 1, 8, 8), (2, 3, 3), None, {}, r"weight must have 4 dimensions"),
    ((1, 1, 8, 8), (1, 1, 3, 3), None, {"padding": (1, 2, 3)}, "padding must be an int or a pair"),
])
def test_bad_arguments_raise_value_error_naming_them(x_shape, w_shape, b_shape, kwargs, match):
    b = None if b_shape is None else np.zeros(b_shape)
    with pytest.raises(ValueError, match=match):
        conv2d(np.zeros(x_shape), np.zeros(w_shape), b, **kwargs)
    with pytest.raises(ValueError, match=match):
        conv2d_naive(np.zeros(x_shape), np.zeros(w_shape), b, **kwargs)


def test_mixed_dtypes_and_wrong_grad_output_are_refused():
    with pytest.raises(ValueError, match="input has dtype float32 but weight has dtype float64"):
        conv2d(np.zeros((1, 1, 4, 4), np.float32), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="bias has dtype float32"):
        conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), np.zeros(1, np.float32))
    _, cache = conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(1, 1, 2, 2\)"):
        conv2d_backward(np.zeros((1, 1, 4, 4)), cache)


# -- the module -----------------------------------------------------------------------------------
def test_module_init_matches_torch_distribution():
    layer = Conv2d(16, 32, (3, 5), rng=0)
    bound = 1 / np.sqrt(16 * 3 * 5)
    torch_bound = torch.nn.Conv2d(16, 32, (3, 5)).weight.detach().abs().max().item()
    assert torch_bound <= bound
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound          # the whole range is used ...
    assert abs(layer.weight.data.mean()) < 0.05 * bound             # ... evenly around zero
    assert layer.weight.shape == (32, 16, 3, 5) and layer.bias.shape == (32,)
    assert layer.weight.data.dtype == np.float64
    assert np.array_equal(Conv2d(2, 3, 3, rng=7).weight.data, Conv2d(2, 3, 3, rng=7).weight.data)
    assert Conv2d(2, 3, 3, dtype=np.float32).weight.data.dtype == np.float32


def test_module_load_state_dict_from_torch_gives_identical_outputs():
    torch.manual_seed(0)
    ref = torch.nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 0)).double()
    layer = Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 0))
    layer.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    assert list(layer.state_dict()) == list(ref.state_dict()) == ["weight", "bias"]
    x = make_array((2, 3, 7, 6), 3)
    out = layer(x)
    expected = ref(torch.from_numpy(x)).detach().numpy()
    assert rel_error(out, expected) < 1e-12
    no_bias = Conv2d(3, 5, 3, bias=False)
    assert list(no_bias.state_dict()) == list(torch.nn.Conv2d(3, 5, 3, bias=False).state_dict()) == ["weight"]


def test_module_grads_accumulate_over_two_backward_calls_like_torch():
    torch.manual_seed(1)
    ref = torch.nn.Conv2d(2, 3, 3, padding=1).double()
    layer = Conv2d(2, 3, 3, padding=1)
    layer.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x1, x2 = make_array((2, 2, 5, 5), 4), make_array((2, 2, 5, 5), 5)
    g = make_array((2, 3, 5, 5), 6)
    for x in (x1, x2):
        layer(x)
        grad_input = layer.backward(g)
        xt = torch.from_numpy(x).requires_grad_()
        ref(xt).backward(torch.from_numpy(g))
        assert rel_error(grad_input, xt.grad.numpy()) < 1e-12
    assert rel_error(layer.weight.grad, ref.weight.grad.numpy()) < 1e-12
    assert rel_error(layer.bias.grad, ref.bias.grad.numpy()) < 1e-12
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def test_module_backward_before_forward_and_bad_constructor_arguments():
    with pytest.raises(RuntimeError, match="Conv2d.backward called before forward"):
        Conv2d(1, 1, 3).backward(np.zeros((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="in_channels must be non-negative"):
        Conv2d(-1, 1, 3)
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        Conv2d(1, 1, (3, 0))
    with pytest.raises(ValueError, match="dtype must be a floating-point type"):
        Conv2d(1, 1, 3, dtype=np.int32)
    assert repr(Conv2d(1, 2, 3, stride=2)) == (
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(2, 2), padding=(0, 0), bias=True)")


def test_module_uses_stride_and_padding_pairs():
    layer = Conv2d(2, 4, kernel_size=(3, 1), stride=(1, 2), padding=(0, 1), rng=0)
    x = make_array((1, 2, 6, 5), 9)
    expected = conv2d(x, layer.weight.data, layer.bias.data, (1, 2), (0, 1))
    np.testing.assert_array_equal(layer(x), expected)
    assert layer(x).shape == (1, 4, 4, 4)
    assert as_pair(layer.kernel_size) == (3, 1)
