"""The pure functions behind the explorers (cnnlib.widgets): no widgets, no browser."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.shapes import conv_output_size
from cnnlib.shapes import fitting_paddings, nearest_fitting_padding
from cnnlib.widgets.arithmetic import conv_arithmetic, example_activation_map, formula_text, pool_map
from cnnlib.widgets.curves import activation_curves, activation_formula
from cnnlib.widgets.kernels import apply_filter, as_grey_image, filter_kernel, sample_photograph
from cnnlib.surfaces import bowl, optimizer_path, ravine
from cnnlib.widgets.paths import describe_final_losses, optimizer_paths


# -- convolution arithmetic -----------------------------------------------------------------------
def test_conv_arithmetic_lecture_examples():
    r = conv_arithmetic(7, 3, stride=1)
    assert (r.fits, r.output_size, r.positions, r.ignored) == (True, 5, (0, 1, 2, 3, 4), 0)
    r = conv_arithmetic(7, 3, stride=2)
    assert (r.fits, r.output_size, r.positions, r.padded_size) == (True, 3, (0, 2, 4), 7)
    assert r.message == "fits: the output is 3 × 3"
    assert conv_arithmetic(227, 11, stride=4).output_size == 55          # AlexNet CONV1
    assert conv_arithmetic(32, 5, stride=1, padding=2).output_size == 32  # "same" padding


def test_conv_arithmetic_doesnt_fit_names_the_nearest_padding():
    r = conv_arithmetic(7, 3, stride=3)
    assert (r.fits, r.output_size, r.positions, r.ignored, r.suggestion) == (False, 2, (0, 3), 1, 1)
    assert r.formula == "(N − F + 2P) / S + 1 = (7 − 3 + 2·0) / 3 + 1 = 2.33"
    assert r.message.startswith("doesn't fit")
    assert "Nearest padding that fits: P = 1 (output 3 × 3)" in r.message


def test_conv_arithmetic_no_padding_fits_an_odd_span_with_an_even_stride():
    r = conv_arithmetic(8, 3, stride=2)
    assert (r.fits, r.suggestion, r.output_size, r.ignored) == (False, None, 3, 1)
    assert "No padding fits with stride 2: N − F = 5 is odd" in r.message
    assert fitting_paddings(8, 3, 2, 5) == []


def test_conv_arithmetic_filter_larger_than_padded_input():
    r = conv_arithmetic(3, 5, stride=1)
    assert (r.fits, r.output_size, r.positions, r.suggestion) == (False, 0, (), 1)
    assert "larger than the 3 × 3 padded input" in r.message


def test_nearest_fitting_padding_prefers_the_smaller_on_a_tie():
    assert fitting_paddings(7, 3, 4, 3) == [0, 2]
    assert nearest_fitting_padding(7, 3, 4, 1) == 0
    assert nearest_fitting_padding(7, 3, 3, 3) == 4    # 3 gives 10/3; 4 gives 12/3


def test_formula_text_whole_number():
    assert formula_text(5, 3, 1, 1) == "(N − F + 2P) / S + 1 = (5 − 3 + 2·1) / 1 + 1 = 5"


@given(n=st.integers(1, 20), f=st.integers(1, 9), s=st.integers(1, 5), p=st.integers(0, 5))
def test_conv_arithmetic_agrees_with_the_shapes_module(n, f, s, p):
    r = conv_arithmetic(n, f, s, p)
    try:
        expected = conv_output_size(n, f, s, p)
    except ValueError:
        expected = None
    assert r.fits == (expected is not None)
    if r.fits:
        assert r.output_size == expected and r.ignored == 0
    if r.positions:
        assert r.positions[-1] + f + r.ignored == n + 2 * p      # the last window plus the leftover
        assert 0 <= r.ignored < s
    if r.suggestion is not None:
        conv_output_size(n, f, s, r.suggestion)                  # it really fits
        brute = [q for q in range(p + 20) if n + 2 * q >= f and (n + 2 * q - f) % s == 0]
        assert abs(r.suggestion - p) == min(abs(q - p) for q in brute)
    else:
        assert s % 2 == 0 and (n - f) % 2 == 1


def test_conv_arithmetic_rejects_bad_arguments():
    with pytest.raises(ValueError, match="stride must be positive"):
        conv_arithmetic(7, 3, stride=0)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        conv_arithmetic(7, 3, padding=-1)


# -- pooling --------------------------------------------------------------------------------------
def test_pool_map_max_and_avg_by_hand():
    x = np.array([[1, 3, 2, 0],
                  [4, 2, 1, 5],
                  [0, 0, 7, 1],
                  [1, 2, 3, 4]], dtype=float)
    res = pool_map(x, "max", 2, 2)
    np.testing.assert_array_equal(res.output, [[4, 5], [2, 7]])
    np.testing.assert_array_equal(res.argmax, [[[1, 0], [1, 3]], [[3, 1], [2, 2]]])
    np.testing.assert_array_equal(res.window_origins[1, 1], [2, 2])
    assert res.ignored == 0
    avg = pool_map(x, "avg", 2, 2)
    np.testing.assert_allclose(avg.output, [[2.5, 2.0], [0.75, 3.75]])
    assert avg.argmax is None


@given(size=st.integers(2, 9), k=st.integers(1, 4), s=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_pool_map_matches_pytorch(size, k, s, seed):
    k = min(k, size)
    x = np.random.default_rng(seed).standard_normal((size, size))
    t = torch.from_numpy(x)[None, None]
    for mode, fn in (("max", torch.nn.functional.max_pool2d), ("avg", torch.nn.functional.avg_pool2d)):
        res = pool_map(x, mode, k, s)
        np.testing.assert_allclose(res.output, fn(t, k, s)[0, 0].numpy(), rtol=1e-12, atol=1e-12)
        assert res.ignored == size - ((res.output.shape[0] - 1) * s + k)
    res = pool_map(x, "max", k, s)
    rows, cols = res.argmax[..., 0], res.argmax[..., 1]
    np.testing.assert_array_equal(x[rows, cols], res.output)   # the shaded cell holds the maximum
    _, index = torch.nn.functional.max_pool2d(t, k, s, return_indices=True)
    np.testing.assert_array_equal(rows * size + cols, index[0, 0].numpy())   # the same winner as PyTorch


def test_pool_map_errors_and_example_map():
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg'"):
        pool_map(np.zeros((4, 4)), "min", 2)
    with pytest.raises(ValueError, match="larger than the 4 × 4 map"):
        pool_map(np.zeros((4, 4)), "max", 5)
    x = example_activation_map()
    assert x.shape == (8, 8) and x.min() >= 0 and x.max() <= 9 and np.all(x == np.round(x))
    np.testing.assert_array_equal(x, example_activation_map())   # deterministic


# -- filters --------------------------------------------------------------------------------------
def test_filter_kernels_values():
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
    np.testing.assert_allclose(filter_kernel("edge_x", 3), sobel / 4)
    np.testing.assert_allclose(filter_kernel("edge_y", 3), sobel.T / 4)
    np.testing.assert_allclose(filter_kernel("box", 3), np.full((3, 3), 1 / 9))
    sharpen = filter_kernel("sharpen", 3)
    assert math.isclose(sharpen[1, 1], 2 - 1 / 9) and math.isclose(sharpen[0, 0], -1 / 9)
    g = filter_kernel("gaussian", 3, sigma=1.0)
    assert math.isclose(g[1, 1], 1 / (1 + 4 * math.exp(-0.5) + 4 * math.exp(-1)))
    for name, total in (("gaussian", 1.0), ("box", 1.0), ("sharpen", 1.0), ("edge_x", 0.0), ("edge_y", 0.0)):
        k = filter_kernel(name, 7, sigma=2.0)
        assert k.shape == (7, 7) and math.isclose(k.sum(), total, abs_tol=1e-12)
    np.testing.assert_array_equal(filter_kernel("edge_x", 1), [[0.0]])


def test_filter_kernel_errors():
    with pytest.raises(ValueError, match="size must be odd"):
        filter_kernel("box", 4)
    with pytest.raises(ValueError, match="name must be one of gaussian, box"):
        filter_kernel("blur", 3)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        filter_kernel("gaussian", 3, sigma=0.0)


def test_apply_filter_step_edge_gives_one():
    image = np.zeros((10, 16))
    image[:, 8:] = 1.0
    out = apply_filter(image, filter_kernel("edge_x", 3))
    assert out.shape == (10, 16)
    interior = out[1:-1, 1:-1]                                   # away from the zero padding
    np.testing.assert_allclose(interior[:, 6:8], 1.0)             # columns 7 and 8 straddle the step
    np.testing.assert_allclose(np.delete(interior, [6, 7], axis=1), 0.0)


def test_apply_filter_blur_keeps_a_constant_image_and_float32():
    image = np.full((12, 12), 0.5, dtype=np.float32)
    out = apply_filter(image, filter_kernel("gaussian", 5, 1.5))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[2:-2, 2:-2], 0.5, rtol=1e-6)
    assert out[0, 0] < 0.5                                        # zero padding darkens the corner
    with pytest.raises(ValueError, match="kernel must be square with an odd size"):
        apply_filter(image, np.ones((2, 2)))


def test_photographs():
    photo = sample_photograph()
    assert photo.shape == (256, 256) and photo.dtype == np.float32
    assert 0.0 <= photo.min() < photo.max() <= 1.0
    white = np.full((600, 300, 3), 255, dtype=np.uint8)
    grey = as_grey_image(white)
    assert grey.shape == (200, 100)                               # every 3rd pixel: 600 / 3 = 200
    np.testing.assert_allclose(grey, 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="image must be grey-scale"):
        as_grey_image(np.zeros((2, 3, 5)))


# -- activations ----------------------------------------------------------------------------------
def test_activation_curves_values():
    x = np.array([-1.0, 0.0, 2.0])
    y, dy = activation_curves("relu", x)
    np.testing.assert_array_equal(y, [0, 0, 2])
    np.testing.assert_array_equal(dy, [0, 0, 1])                  # PyTorch: relu'(0) = 0
    _, dy = activation_curves("sigmoid", np.array([0.0]))
    assert dy[0] == 0.25
    _, dy = activation_curves("tanh", np.array([0.0]))
    assert dy[0] == 1.0
    y, dy = activation_curves("leaky_relu", np.array([-2.0, 3.0]), negative_slope=0.1)
    np.testing.assert_allclose(y, [-0.2, 3.0])
    np.testing.assert_allclose(dy, [0.1, 1.0])
    y, dy = activation_curves("elu", np.array([-1.0]), alpha=2.0)
    np.testing.assert_allclose([y[0], dy[0]], [2 * (math.exp(-1) - 1), 2 * math.exp(-1)])


def test_activation_formula_and_errors():
    assert activation_formula("leaky_relu", negative_slope=0.1) == "leaky_relu(x) = max(x, 0.1·x)"
    assert activation_formula("elu", alpha=1.5) == "elu(x) = x if x > 0 else 1.5·(e^x − 1)"
    with pytest.raises(ValueError, match="name must be one of sigmoid, tanh, relu"):
        activation_curves("softplus", np.zeros(3))


# -- optimizers -----------------------------------------------------------------------------------
def test_optimizer_paths_are_the_surfaces_module_runs():
    res = optimizer_paths(lr=0.05, momentum=0.8, betas=(0.9, 0.99), steps=30)
    assert list(res.paths) == ["SGD", "momentum 0.80", "Adam"]
    expected = {"SGD": optimizer_path("sgd", None, 30, surface=ravine, lr=0.05),
                "momentum 0.80": optimizer_path("momentum", None, 30, surface=ravine, lr=0.05, momentum=0.8),
                "Adam": optimizer_path("adam", None, 30, surface=ravine, lr=0.05, betas=(0.9, 0.99))}
    start_loss = float(ravine(*ravine.start))
    for name, path in res.paths.items():
        assert path.shape == (31, 2)
        np.testing.assert_array_equal(path, expected[name])
        assert res.final_losses[name] == float(ravine(*path[-1])) < start_loss   # all went downhill
    assert optimizer_paths(steps=5, surface="bowl").surface is bowl


def test_optimizer_paths_report_divergence_and_bad_arguments():
    res = optimizer_paths(lr=1.5, steps=40)          # lr·curvature = 1.5·2 > 2: SGD blows up across the ravine
    assert math.isnan(res.final_losses["SGD"]) and np.isnan(res.paths["SGD"][-1]).all()
    assert res.final_losses["Adam"] < 1.0               # Adam's steps are at most about lr in size
    with pytest.raises(ValueError, match="momentum must be in"):
        optimizer_paths(momentum=1.0)
    with pytest.raises(ValueError, match="surface must be one of ravine, bowl"):
        optimizer_paths(surface="saddle")
    assert describe_final_losses({"SGD": 0.29312, "Adam": float("nan")}) == "SGD 0.293, Adam diverged"


@pytest.mark.parametrize("module", ["arithmetic", "kernels", "curves", "paths"])
def test_docstring_examples_hold(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"cnnlib.widgets.{module}"))
    assert result.attempted > 0 and result.failed == 0
