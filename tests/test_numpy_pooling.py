"""cnnlib.numpy_nn.pooling against PyTorch, against finite differences, and against its own naive loops."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given
from parity import assert_matches_finite_differences, assert_matches_torch, scaled_rel_error
from strategies import make_array, pool2d_configs, seeds

from cnnlib.numpy_nn.pooling import (AvgPool2d, MaxPool2d, avg_pool2d, avg_pool2d_backward,
                                     avg_pool2d_backward_naive, avg_pool2d_forward, avg_pool2d_naive, max_pool2d,
                                     max_pool2d_backward, max_pool2d_backward_naive, max_pool2d_forward,
                                     max_pool2d_naive)
from cnnlib.testing import rel_error

OVERLAPPING = dict(batch=1, channels=1, height=7, width=7, kernel_size=3, stride=2, padding=1,
                   input_shape=(1, 1, 7, 7))
NON_SQUARE = dict(batch=2, channels=3, height=5, width=8, kernel_size=(2, 3), stride=(1, 2), padding=(1, 0),
                  input_shape=(2, 3, 5, 8))

KINDS = {
    "max": (max_pool2d, max_pool2d_forward, max_pool2d_backward, max_pool2d_naive, max_pool2d_backward_naive,
            F.max_pool2d, MaxPool2d, torch.nn.MaxPool2d),
    "avg": (avg_pool2d, avg_pool2d_forward, avg_pool2d_backward, avg_pool2d_naive, avg_pool2d_backward_naive,
            F.avg_pool2d, AvgPool2d, torch.nn.AvgPool2d),
}


def _args(cfg):
    return cfg["kernel_size"], cfg["stride"], cfg["padding"]


@pytest.mark.parametrize("kind", KINDS)
@given(cfg=pool2d_configs(), seed=seeds)
@example(cfg=OVERLAPPING, seed=0)
@example(cfg=NON_SQUARE, seed=0)
def test_pooling_matches_torch(kind, cfg, seed):
    pool, forward, backward, *_, torch_pool, _, _ = KINDS[kind]
    x = make_array(cfg["input_shape"], seed)
    g = make_array(pool(x, *_args(cfg)).shape, seed + 1)

    def numpy_side(x, g):
        out, cache = forward(x, *_args(cfg))
        return out, [backward(g, cache)]

    assert_matches_torch(numpy_side, lambda x: torch_pool(x, *_args(cfg)), [x], g, names=["input"])


@pytest.mark.parametrize("kind", KINDS)
@given(cfg=pool2d_configs(), seed=seeds)
@example(cfg=OVERLAPPING, seed=1)
def test_pooling_backward_matches_finite_differences(kind, cfg, seed):
    pool, forward, backward, *_ = KINDS[kind]
    x = make_array(cfg["input_shape"], seed)
    out, cache = forward(x, *_args(cfg))
    g = make_array(out.shape, seed + 1)
    # h = 1e-6 is far below the gap between two normal samples, so no window changes its winner
    assert_matches_finite_differences(lambda: pool(x, *_args(cfg)), [("input", x, backward(g, cache))], g)


@pytest.mark.parametrize("kind", KINDS)
@given(cfg=pool2d_configs(), seed=seeds)
@example(cfg=OVERLAPPING, seed=2)
def test_naive_loops_equal_vectorized(kind, cfg, seed):
    pool, forward, backward, naive, backward_naive, *_ = KINDS[kind]
    x = make_array(cfg["input_shape"], seed)
    out, cache = forward(x, *_args(cfg))
    g = make_array(out.shape, seed + 1)
    assert scaled_rel_error(naive(x, *_args(cfg)), out) < 1e-12  # same sums, another order
    assert scaled_rel_error(backward_naive(g, x, *_args(cfg)), backward(g, cache)) < 1e-12


# -- specific values --------------------------------------------------------------------------------
def test_max_pool_known_values_and_routing():
    x = np.array([[1.0, 2.0, 5.0, 6.0],
                  [3.0, 4.0, 7.0, 8.0],
                  [0.0, -1.0, 9.0, 9.0],     # a tie: the first maximum (row-major) wins
                  [-2.0, -3.0, 9.0, 1.0]]).reshape(1, 1, 4, 4)
    out, cache = max_pool2d_forward(x, 2)  # stride defaults to kernel_size
    np.testing.assert_array_equal(out[0, 0], [[4.0, 8.0], [0.0, 9.0]])
    grad = max_pool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)[0, 0]
    np.testing.assert_array_equal(grad, [[0, 0, 0, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 0, 0, 0]])
    torch_grad = torch.from_numpy(x).requires_grad_()
    F.max_pool2d(torch_grad, 2).backward(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64))
    np.testing.assert_array_equal(grad, torch_grad.grad[0, 0].numpy())


def test_overlapping_windows_accumulate_gradient():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0  # the centre belongs to all four 3x3 windows of stride 2
    out, cache = max_pool2d_forward(x, 3, stride=2)
    np.testing.assert_array_equal(out[0, 0], np.ones((2, 2)))
    assert max_pool2d_backward(np.ones((1, 1, 2, 2)), cache)[0, 0, 2, 2] == 4.0
    avg_out, avg_cache = avg_pool2d_forward(np.ones((1, 1, 5, 5)), 3, stride=2)
    np.testing.assert_array_equal(avg_out, np.ones((1, 1, 2, 2)))
    grad = avg_pool2d_backward(np.full((1, 1, 2, 2), 9.0), avg_cache)[0, 0]
    assert grad[2, 2] == 4.0 and grad[0, 0] == 1.0 and grad[0, 2] == 2.0


def test_padding_rules_follow_torch():
    x = -np.ones((1, 1, 2, 2))
    # max pooling pads with -inf: the corner windows hold one real pixel, and it wins
    np.testing.assert_array_equal(max_pool2d(x, 2, stride=1, padding=1)[0, 0], -np.ones((3, 3)))
    # average pooling counts the zero padding: a corner window holds one -1 and three zeros
    np.testing.assert_array_equal(avg_pool2d(x, 2, stride=1, padding=1)[0, 0],
                                  [[-0.25, -0.5, -0.25], [-0.5, -1.0, -0.5], [-0.25, -0.5, -0.25]])


def test_float32_stays_float32():
    x = make_array((2, 3, 6, 6), 0, np.float32)
    for forward, backward in [(max_pool2d_forward, max_pool2d_backward), (avg_pool2d_forward, avg_pool2d_backward)]:
        out, cache = forward(x, 3, 2, 1)
        assert out.dtype == np.float32
        assert backward(np.ones_like(out), cache).dtype == np.float32


def test_lecture_sizes():
    x = np.zeros((1, 96, 55, 55))
    assert max_pool2d(x, 3, stride=2).shape == (1, 96, 27, 27)  # AlexNet's overlapping pool
    assert max_pool2d(np.zeros((1, 64, 224, 224)), 2).shape == (1, 64, 112, 112)  # VGG halves the size
    assert avg_pool2d(np.zeros((1, 1, 7, 7)), 7).shape == (1, 1, 1, 1)  # GoogLeNet / ResNet global average


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d, max_pool2d_naive, avg_pool2d_naive])
@pytest.mark.parametrize("x_shape, args, match", [
    ((1, 1, 4, 4), (2, 0), "stride must be positive"),
    ((1, 1, 4, 4), (2, 2, -1), "padding must be non-negative"),
    ((1, 1, 4, 4), (3, 1, 2), r"padding \(2, 2\) must be at most half of kernel_size \(3, 3\)"),
    ((1, 1, 2, 2), (5, 1, 1), r"kernel_size \(5, 5\) is larger than the padded input \(4, 4\)"),
    ((4, 4), (2,), r"input must have 4 dimensions \(N, C, H, W\) or 3 \(C, H, W\)"),
    ((1, 1, 4, 4), (0,), "kernel_size must be positive"),
])
def test_bad_arguments_raise_value_error_naming_them(pool, x_shape, args, match):
    with pytest.raises(ValueError, match=match):
        pool(np.zeros(x_shape), *args)


def test_wrong_grad_output_is_refused():
    _, cache = max_pool2d_forward(np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(1, 1, 2, 2\)"):
        max_pool2d_backward(np.zeros((1, 1, 4, 4)), cache)


# -- the modules ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_modules_match_torch_modules(kind):
    *_, module, torch_module = KINDS[kind]
    ours, ref = module(3, stride=2, padding=1), torch_module(3, stride=2, padding=1)
    assert ours.parameters() == [] and ours.state_dict() == {} == dict(ref.state_dict())
    x = make_array((2, 3, 7, 6), 0)
    g = make_array((2, 3, 4, 3), 1)
    xt = torch.from_numpy(x).requires_grad_()
    out_t = ref(xt)
    out_t.backward(torch.from_numpy(g))
    assert rel_error(ours(x), out_t.detach().numpy()) < 1e-12
    assert rel_error(ours.backward(g), xt.grad.numpy()) < 1e-12
    assert module(2).stride == 2 == torch_module(2).stride  # stride=None means stride=kernel_size


@pytest.mark.parametrize("kind", KINDS)
def test_module_errors(kind):
    module, torch_module = KINDS[kind][-2:]
    with pytest.raises(ValueError, match="must be at most half of kernel_size"):
        module(2, padding=2)
    with pytest.raises(ValueError, match="stride must be positive"):
        module(2, stride=0)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        module(2).backward(np.zeros((1, 1, 1, 1)))
    assert repr(module(3, 2)) == repr(torch_module(3, 2))  # the same repr as torch.nn's
