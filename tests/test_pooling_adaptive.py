"""AdaptiveAvgPool2d in cnnlib.numpy_nn and cnnlib.torch_nn against torch.nn, finite differences and bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from parity import assert_matches_finite_differences, assert_matches_torch, assert_torch_fns_match
from strategies import make_array, seeds
from torch_support import DEVICES

import cnnlib.numpy_nn as N
import cnnlib.numpy_nn.pooling_adaptive as NA
import cnnlib.torch_nn as T
import cnnlib.torch_nn.pooling_adaptive as TA

out_sizes = st.one_of(st.integers(0, 7), st.tuples(st.one_of(st.none(), st.integers(0, 7)),
                                                     st.one_of(st.none(), st.integers(0, 7))))


@st.composite
def adaptive_configs(draw):
    """A shape (batched or not, batch and channels possibly 0), an output size and a seed."""
    hw = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    lead = (draw(st.integers(0, 3)),) if draw(st.booleans()) else ()
    shape = (*lead, draw(st.integers(0, 3)), *hw)
    return shape, draw(out_sizes), draw(seeds)


def _out_shape(shape, output_size):
    return tuple(F.adaptive_avg_pool2d(torch.zeros(shape), output_size).shape)


def _torch_backward_refuses(out_shape):
    """torch's backward refuses a grad_output with an empty non-batch axis; the gradient there is all zeros."""
    return 0 in out_shape[-3:]


@given(adaptive_configs())
def test_numpy_pair_matches_torch_forward_and_backward(cfg):
    shape, output_size, seed = cfg
    x, g = make_array(shape, seed), make_array(_out_shape(shape, output_size), seed + 1)

    def numpy_side(x, g):
        out, cache = NA.adaptive_avg_pool2d_forward(x, output_size)
        return out, [NA.adaptive_avg_pool2d_backward(g, cache)]

    if _torch_backward_refuses(g.shape):
        out, (gx,) = numpy_side(x, g)
        assert out.shape == g.shape and gx.shape == x.shape and not gx.any()
        return
    assert_matches_torch(numpy_side, lambda t: F.adaptive_avg_pool2d(t, output_size), [x], g)
    np.testing.assert_allclose(NA.adaptive_avg_pool2d_naive(x, output_size),
                               NA.adaptive_avg_pool2d(x, output_size), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(NA.adaptive_avg_pool2d_backward_naive(g, x.shape, output_size),
                               numpy_side(x, g)[1][0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=adaptive_configs())
def test_torch_nn_matches_torch_forward_and_backward(device, cfg):
    shape, output_size, seed = cfg
    x, g = make_array(shape, seed), make_array(_out_shape(shape, output_size), seed + 1)
    if _torch_backward_refuses(g.shape):
        t = torch.as_tensor(x, device=device).requires_grad_()
        out = TA.adaptive_avg_pool2d(t, output_size)
        out.backward(torch.as_tensor(g, device=device))
        assert out.device == t.device and out.shape == g.shape and t.grad.shape == x.shape and not t.grad.any()
        return
    assert_torch_fns_match(lambda t: TA.adaptive_avg_pool2d(t, output_size),
                           lambda t: F.adaptive_avg_pool2d(t, output_size), [x], g, device=device)
    ours = TA.adaptive_avg_pool2d_naive(torch.as_tensor(x), output_size)
    torch.testing.assert_close(ours, F.adaptive_avg_pool2d(torch.as_tensor(x), output_size), rtol=1e-12, atol=1e-14)


@given(adaptive_configs())
def test_modules_match_torch_nn_module(cfg):
    shape, output_size, seed = cfg
    x = make_array(shape, seed)
    expected = torch.nn.AdaptiveAvgPool2d(output_size)(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(N.AdaptiveAvgPool2d(output_size)(x), expected, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(T.AdaptiveAvgPool2d(output_size)(torch.as_tensor(x)), torch.as_tensor(expected),
                               rtol=1e-12, atol=1e-14)
    assert repr(T.AdaptiveAvgPool2d(output_size)) == repr(torch.nn.AdaptiveAvgPool2d(output_size))


@given(st.integers(1, 6), st.integers(1, 6), out_sizes, seeds)
def test_numpy_backward_matches_finite_differences(h, w, output_size, seed):
    x = make_array((2, 2, h, w), seed)
    module = N.AdaptiveAvgPool2d(output_size)
    g = make_array(module(x).shape, seed + 1)
    gx = module.backward(g)
    assert_matches_finite_differences(lambda: NA.adaptive_avg_pool2d(x, output_size), [("input", x, gx)], g)


def test_windows_follow_torchs_rule():
    # 5 rows into 3: [0, 2), [1, 4), [3, 5); 2 rows into 3: [0, 1), [0, 2), [1, 2)
    assert NA.adaptive_windows(5, 3) == [(0, 2), (1, 4), (3, 5)]
    assert NA.adaptive_windows(2, 3) == [(0, 1), (0, 2), (1, 2)]
    assert NA.adaptive_windows(7, 1) == [(0, 7)]


def test_global_pooling_is_the_mean_and_its_gradient_is_shared():
    x = make_array((2, 3, 4, 5), 0)
    module = N.AdaptiveAvgPool2d(1)
    np.testing.assert_allclose(module(x), x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(module.backward(np.ones((2, 3, 1, 1))), np.full(x.shape, 1 / 20), rtol=1e-12)


def test_torch_nn_keeps_no_tensor_on_ctx_and_works_in_float32():
    x = torch.randn(2, 3, 5, 6, requires_grad=True)
    out = T.AdaptiveAvgPool2d((2, None))(x)
    assert out.dtype == torch.float32 and out.shape == (2, 3, 2, 6)
    tensors = [v for v in vars(out.grad_fn).values() if isinstance(v, torch.Tensor)]
    assert tensors == [] and out.grad_fn.saved_tensors == ()
    out.sum().backward()
    x_ref = x.detach().clone().requires_grad_()
    F.adaptive_avg_pool2d(x_ref, (2, None)).sum().backward()
    torch.testing.assert_close(out, F.adaptive_avg_pool2d(x_ref, (2, None)))
    torch.testing.assert_close(x.grad, x_ref.grad)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "a", (1, 2, 3), (2, -1), [None, 1.0]])
@pytest.mark.parametrize("Module", [N.AdaptiveAvgPool2d, T.AdaptiveAvgPool2d])
def test_bad_output_size_is_a_value_error_naming_it(Module, bad):
    with pytest.raises(ValueError, match="output_size"):
        Module(bad)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="non-zero height and width"):
        N.AdaptiveAvgPool2d(2)(np.zeros((1, 2, 0, 4)))
    with pytest.raises(ValueError, match="non-zero height and width"):
        T.AdaptiveAvgPool2d(2)(torch.zeros(1, 2, 4, 0))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) or \(C, H, W\)"):
        N.AdaptiveAvgPool2d(2)(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) or \(C, H, W\)"):
        T.AdaptiveAvgPool2d(2)(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        T.AdaptiveAvgPool2d(2)(np.zeros((1, 1, 4, 4)))
    with pytest.raises(TypeError, match="floating-point"):
        N.AdaptiveAvgPool2d(2)(np.zeros((1, 1, 4, 4), dtype=np.int64))
    module = N.AdaptiveAvgPool2d(2)
    with pytest.raises(RuntimeError, match="before forward"):
        module.backward(np.zeros((1, 1, 2, 2)))
    module(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="grad_output"):
        module.backward(np.zeros((1, 1, 3, 3)))
