"""cnnlib.numpy_nn.winograd (F(2x2, 3x3)) against PyTorch, finite differences, im2col and its own algebra."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from parity import assert_matches_finite_differences, assert_matches_torch, scaled_rel_error
from strategies import make_array, seeds, winograd_configs

from cnnlib.numpy_nn import winograd
from cnnlib.numpy_nn.conv import Conv2d, choose_algorithm, conv2d, conv2d_backward, conv2d_forward


def _arrays(cfg, seed, dtype=np.float64):
    x = make_array(cfg["input_shape"], seed, dtype)
    w = make_array(cfg["weight_shape"], seed + 1, dtype)
    b = make_array(cfg["weight_shape"][:1], seed + 2, dtype) if cfg["bias"] else None
    return x, w, b


@given(cfg=winograd_configs(), seed=seeds)
def test_winograd_matches_torch(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    p = cfg["padding"]
    out = conv2d(x, w, b, 1, p, algorithm="winograd")
    g = make_array(out.shape, seed + 3)

    def numpy_side(x, w, b, g):
        out, cache = conv2d_forward(x, w, b, 1, p, algorithm="winograd")
        assert cache[0] == "winograd"
        return out, conv2d_backward(g, cache)

    assert_matches_torch(numpy_side, lambda x, w, b: F.conv2d(x, w, b, 1, p), [x, w, b], g,
                         names=["input", "weight", "bias"])


@given(cfg=winograd_configs(), seed=seeds)
def test_winograd_backward_matches_finite_differences(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    p = cfg["padding"]
    out, cache = conv2d_forward(x, w, b, 1, p, algorithm="winograd")
    g = make_array(out.shape, seed + 3)
    grad_x, grad_w, grad_b = conv2d_backward(g, cache)
    f = lambda: conv2d(x, w, b, 1, p, algorithm="winograd")  # noqa: E731
    checks = [("input", x, grad_x), ("weight", w, grad_w)] + ([("bias", b, grad_b)] if b is not None else [])
    assert_matches_finite_differences(f, checks, g)


@given(cfg=winograd_configs(), seed=seeds)
def test_winograd_equals_im2col_in_float32_and_float64(cfg, seed):
    # float32 round-off is measured against the array's size: an entry that cancels to near zero
    # keeps the absolute error of the terms it came from
    for dtype, tol, floor in ((np.float64, 1e-12, 1e-3), (np.float32, 1e-5, 1.0)):
        x, w, b = _arrays(cfg, seed, dtype)
        fast, fast_cache = conv2d_forward(x, w, b, 1, cfg["padding"], algorithm="winograd")
        ref, ref_cache = conv2d_forward(x, w, b, 1, cfg["padding"], algorithm="im2col")
        assert fast.dtype == dtype and scaled_rel_error(fast, ref, floor) < tol
        g = make_array(ref.shape, seed + 3, dtype)
        for name, a, e in zip(["input", "weight", "bias"], conv2d_backward(g, fast_cache),
                              conv2d_backward(g, ref_cache)):
            assert (a is None) == (e is None), name
            if a is not None:
                assert a.dtype == dtype and scaled_rel_error(a, e, floor) < tol, name


def test_the_matrices_make_a_one_dimensional_convolution_with_four_products():
    # F(2, 3) in one dimension: two outputs of a 3-tap filter from four inputs, 4 products not 6
    rng = np.random.default_rng(0)
    d, g = rng.standard_normal(4), rng.standard_normal(3)
    y = winograd.AT @ ((winograd.G @ g) * (winograd.BT @ d))
    np.testing.assert_allclose(y, [d[0:3] @ g, d[1:4] @ g], rtol=1e-14)
    assert set(np.unique(winograd.BT)) <= {-1, 0, 1} and set(np.unique(winograd.AT)) <= {-1, 0, 1}


def test_filter_transform_and_its_adjoint():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((5, 4, 3, 3))
    u = winograd.transform_filters(w)
    g = winograd.G
    np.testing.assert_allclose(u.reshape(4, 4, 5, 4)[:, :, 2, 3], g @ w[2, 3] @ g.T, rtol=1e-14)
    du = rng.standard_normal(u.shape)  # <U(w), dU> = <w, U^T(dU)>
    np.testing.assert_allclose(np.sum(u * du), np.sum(w * winograd.transform_filters_adjoint(du)), rtol=1e-12)


def test_planes_round_trip_and_tile_counts():
    x = np.arange(2 * 3 * 5 * 7, dtype=np.float64).reshape(2, 3, 5, 7)
    tiles = winograd.tiles_for((5, 7))
    assert tiles == (3, 4)
    flat = winograd.to_planes(x, (1, 2), tiles, slack=4)
    assert flat.shape == (2, 2, 3 * 2 * 4 * 5 + 4)
    grid = flat[..., :-4].reshape(2, 2, 3, 2, 4, 5)
    assert grid[1, 0, 2, 1, 0, 1] == x[1, 2, 0, 0]  # padded (row 1, col 2) = image (0, 0)
    back = winograd.from_planes(flat, (1, 2), tiles, np.empty_like(x))
    np.testing.assert_array_equal(back, x)


def test_choosing_the_algorithm():
    assert choose_algorithm("auto", (3, 3), (1, 1)) == "winograd"
    assert choose_algorithm("auto", (5, 5), (1, 1)) == "im2col"
    assert choose_algorithm("auto", (3, 3), (2, 2)) == "im2col"
    assert choose_algorithm("im2col", (3, 3), (1, 1)) == "im2col"
    with pytest.raises(ValueError, match=r"algorithm must be one of \('auto', 'im2col', 'winograd'\), got 'fft'"):
        conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), algorithm="fft")
    with pytest.raises(ValueError, match=r"algorithm='winograd' needs a 3x3 kernel, stride 1, dilation 1, groups=1 "
                                         r"and symmetric padding, got kernel_size=\(5, 5\); use 'im2col' or 'auto'"):
        conv2d(np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 5, 5)), algorithm="winograd")
    with pytest.raises(ValueError, match=r"got stride=\(2, 2\);"):
        Conv2d(1, 1, 3, stride=2, algorithm="winograd")
    with pytest.raises(ValueError, match=r"got dilation=\(2, 1\), groups=2;"):
        Conv2d(2, 2, 3, dilation=(2, 1), groups=2, algorithm="winograd")
    with pytest.raises(ValueError, match=r"got padding=\(\(1, 2\), \(1, 2\)\) \(not the same on both sides\)"):
        choose_algorithm("winograd", (3, 3), (1, 1), padding=((1, 2), (1, 2)))
    # where Winograd does not apply, "auto" takes im2col
    assert choose_algorithm("auto", (3, 3), (1, 1), dilation=(2, 2)) == "im2col"
    assert choose_algorithm("auto", (3, 3), (1, 1), groups=3) == "im2col"
    assert choose_algorithm("auto", (3, 3), (1, 1), padding=((0, 1), (1, 1))) == "im2col"
    assert conv2d_forward(np.zeros((1, 4, 6, 6)), np.zeros((4, 1, 3, 3)), groups=4)[1][0] == "im2col"
    assert conv2d_forward(np.zeros((1, 4, 6, 6)), np.zeros((4, 4, 3, 3)), padding="same")[1][0] == "winograd"


def test_module_uses_the_chosen_algorithm_and_both_agree():
    rng = np.random.default_rng(2)
    fast, slow = Conv2d(3, 4, 3, padding=1, rng=0), Conv2d(3, 4, 3, padding=1, rng=0, algorithm="im2col")
    assert "algorithm='im2col'" in repr(slow) and "algorithm" not in repr(fast)
    x = rng.standard_normal((2, 3, 6, 5))
    np.testing.assert_allclose(fast(x), slow(x), rtol=1e-12, atol=1e-12)
    assert fast._cache[0] == "winograd" and slow._cache[0] == "im2col"
    g = rng.standard_normal((2, 4, 6, 5))
    np.testing.assert_allclose(fast.backward(g), slow.backward(g), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast.weight.grad, slow.weight.grad, rtol=1e-12, atol=1e-12)


def test_winograd_keeps_one_transformed_copy_of_the_input(monkeypatch):
    monkeypatch.setattr(winograd, "CHUNK", 162)  # one channel at a time: the transforms' temporaries stay small
    rng = np.random.default_rng(0)
    n, c, size, c_out = 2, 16, 16, 8
    x = rng.standard_normal((n, c, size, size), dtype=np.float32)
    w = rng.standard_normal((c_out, c, 3, 3), dtype=np.float32)
    points = n * (size // 2 + 1) ** 2                       # grid points per channel, extra row and column
    transformed_in, transformed_out = 16 * c * points * 4, 16 * c_out * points * 4
    image_out = n * c_out * size * size * 4
    tracemalloc.start()
    try:
        out, cache = conv2d_forward(x, w, None, 1, 1, algorithm="winograd")
        _, forward_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        conv2d_backward(np.ones_like(out), cache)
        _, backward_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # V and M are alive together in the forward pass, V and dM in the backward, plus one channel's
    # temporaries; a second copy of V (16 * 16 * 162 * 4 = 165,888 bytes) would break either bound
    assert transformed_in < forward_peak < 1.15 * (transformed_in + transformed_out) + image_out
    assert transformed_in < backward_peak < 1.15 * (transformed_in + transformed_out) + x.nbytes + out.nbytes


def test_transforming_a_channel_at_a_time_changes_nothing(monkeypatch):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 5, 7, 8)), rng.standard_normal((3, 5, 3, 3)), rng.standard_normal(3)
    whole, whole_cache = conv2d_forward(x, w, b, 1, 1, algorithm="winograd")
    monkeypatch.setattr(winograd, "CHUNK", 1)  # every transform runs one channel at a time
    pieces, pieces_cache = conv2d_forward(x, w, b, 1, 1, algorithm="winograd")
    np.testing.assert_array_equal(pieces, whole)
    g = rng.standard_normal(whole.shape)
    for a, e in zip(conv2d_backward(g, pieces_cache), conv2d_backward(g, whole_cache)):
        np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-13)


def test_auto_stays_with_im2col_off_the_cpu():
    assert choose_algorithm("auto", (3, 3), (1, 1), on_cpu=False) == "im2col"
    assert choose_algorithm("winograd", (3, 3), (1, 1), on_cpu=False) == "winograd"  # asked for, given
