"""cnnlib.torch_nn.conv against torch.nn and cnnlib.numpy_nn, gradcheck, float32, devices and bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given
from strategies import conv2d_configs, make_array, seeds
from torch_support import DEVICES, DTYPES, F32, assert_runs_close, assert_three_way, needs_cuda, run, \
    skip_unsupported, tensor
from torch_support import full_float32_precision  # noqa: F401  (a fixture, used by pytestmark)

import cnnlib.numpy_nn.conv as np_conv
from cnnlib.torch_nn.conv import (Conv2d, conv2d, conv2d_backward, conv2d_backward_naive, conv2d_forward,
                                  conv2d_naive)

SMALL_CASE = dict(batch=1, in_channels=1, out_channels=1, height=5, width=4, kernel_size=(3, 2),
                  stride=(2, 1), padding=(1, 0), bias=True, input_shape=(1, 1, 5, 4), weight_shape=(1, 1, 3, 2))

pytestmark = pytest.mark.usefixtures("full_float32_precision")  # compare with exact float32, not TF32


def _arrays(cfg, seed):
    x = make_array(cfg["input_shape"], seed)
    w = make_array(cfg["weight_shape"], seed + 1)
    b = make_array((cfg["out_channels"],), seed + 2) if cfg["bias"] else None
    return x, w, b


def _grad_output(x, w, b, cfg, seed):
    out = np_conv.conv2d(x, w, b, cfg["stride"], cfg["padding"])
    return make_array(out.shape, seed + 3)


# -- three-way parity: cnnlib.torch_nn <-> torch.nn <-> cnnlib.numpy_nn ----------------------------------
@pytest.mark.parametrize("device", DEVICES)
@given(cfg=conv2d_configs(), seed=seeds)
@example(cfg=SMALL_CASE, seed=0)
def test_conv2d_three_way_parity(device, cfg, seed):
    x, w, b = _arrays(cfg, seed)
    s, p = cfg["stride"], cfg["padding"]
    g = _grad_output(x, w, b, cfg, seed)

    def numpy_side(x, w, b, g):
        out, cache = np_conv.conv2d_forward(x, w, b, s, p)
        return out, np_conv.conv2d_backward(g, cache)

    assert_three_way(lambda x, w, b: conv2d(x, w, b, s, p), lambda x, w, b: F.conv2d(x, w, b, s, p),
                     numpy_side, [x, w, b], g, names=["input", "weight", "bias"], device=device)


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=conv2d_configs(max_kernel=3), seed=seeds)
@example(cfg=SMALL_CASE, seed=0)
def test_conv2d_gradcheck(device, cfg, seed):
    """Full Jacobians for the small case, random projections of them (fast_mode) for the rest."""
    skip_unsupported(device, torch.float64)
    x, w, b = (tensor(a, device, requires_grad=True) for a in _arrays(cfg, seed))
    s, p = cfg["stride"], cfg["padding"]
    fast = cfg != SMALL_CASE
    assert torch.autograd.gradcheck(lambda x, w, b: conv2d(x, w, b, s, p), (x, w, b), fast_mode=fast)


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=conv2d_configs(), seed=seeds)
def test_naive_loops_equal_vectorized(device, cfg, seed):
    skip_unsupported(device, torch.float64)
    x, w, b = (tensor(a, device) for a in _arrays(cfg, seed))
    s, p = cfg["stride"], cfg["padding"]
    out, cache = conv2d_forward(x, w, b, s, p)
    g = torch.randn_like(out)
    torch.testing.assert_close(conv2d_naive(x, w, b, s, p), out, rtol=1e-12, atol=1e-12)
    for fast, slow in zip(conv2d_backward(g, cache), conv2d_backward_naive(g, x, w, b, s, p)):
        assert (fast is None) == (slow is None)
        if fast is not None:
            torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)


# -- float32, devices -----------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@given(cfg=conv2d_configs(), seed=seeds)
def test_float32_stays_float32_and_matches_torch(device, cfg, seed):
    x, w, b = _arrays(cfg, seed)
    s, p = cfg["stride"], cfg["padding"]
    g = _grad_output(x, w, b, cfg, seed)
    ours = run(lambda x, w, b: conv2d(x, w, b, s, p), [x, w, b], g, device, torch.float32)
    ref = run(lambda x, w, b: F.conv2d(x, w, b, s, p), [x, w, b], g, device, torch.float32)
    assert ours[0].dtype == torch.float32 and all(t is None or t.dtype == torch.float32 for t in ours[1])
    assert_runs_close(ours, ref, **F32)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=conv2d_configs(), seed=seeds)
def test_cuda_matches_cpu(dtype, cfg, seed):
    x, w, b = _arrays(cfg, seed)
    s, p = cfg["stride"], cfg["padding"]
    g = _grad_output(x, w, b, cfg, seed)
    fn = lambda x, w, b: conv2d(x, w, b, s, p)  # noqa: E731
    assert_runs_close(run(fn, [x, w, b], g, "cuda", dtype), run(fn, [x, w, b], g, "cpu", dtype), **F32)


def test_autograd_runs_our_backward_and_not_torch_conv2d(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("cnnlib.torch_nn.conv2d must not call torch.nn.functional.conv2d")

    monkeypatch.setattr(F, "conv2d", forbidden)
    monkeypatch.setattr(torch, "conv2d", forbidden)
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    out = conv2d(x, w, None, 1, 1)
    assert type(out.grad_fn).__name__ == "Conv2dFunctionBackward"
    out.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape


# -- specific values ----------------------------------------------------------------------------------
def test_conv2d_known_values_and_lecture_sizes():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = conv2d(x, torch.ones(1, 1, 2, 2), torch.tensor([0.5]))
    assert out.shape == (1, 1, 3, 3)
    assert out[0, 0, 0, 0].item() == 0 + 1 + 4 + 5 + 0.5
    assert out[0, 0, 2, 2].item() == 10 + 11 + 14 + 15 + 0.5
    assert conv2d(torch.zeros(1, 3, 227, 227), torch.zeros(96, 3, 11, 11), stride=4).shape == (1, 96, 55, 55)
    assert conv2d(torch.zeros(1, 1, 7, 7), torch.ones(1, 1, 3, 3), stride=3).shape == (1, 1, 2, 2)
    padded = conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), padding=1)
    assert padded[0, 0].tolist() == [[4, 6, 4], [6, 9, 6], [4, 6, 4]]
    # every input pixel of a 3x3 'same' convolution of ones is used by 4, 6 or 9 windows
    x = torch.ones(1, 1, 3, 3, requires_grad=True)
    conv2d(x, torch.ones(1, 1, 3, 3), padding=1).sum().backward()
    assert x.grad[0, 0].tolist() == [[4, 6, 4], [6, 9, 6], [4, 6, 4]]


# -- bad input: the same messages as cnnlib.numpy_nn ---------------------------------------------------
@pytest.mark.parametrize("x_shape, w_shape, b_shape, kwargs", [
    ((1, 3, 8, 8), (4, 2, 3, 3), None, {}),
    ((1, 1, 8, 8), (1, 1, 3, 3), None, {"padding": -1}),
    ((1, 1, 8, 8), (1, 1, 3, 3), None, {"stride": (1, 0)}),
    ((1, 1, 4, 4), (1, 1, 7, 3), None, {"padding": 1}),
    ((1, 1, 8, 8), (2, 1, 3, 3), (3,), {}),
    ((8, 8), (2, 1, 3, 3), None, {}),
])
def test_bad_arguments_give_the_numpy_message(x_shape, w_shape, b_shape, kwargs):
    b = None if b_shape is None else np.zeros(b_shape)
    with pytest.raises(ValueError) as numpy_error:
        np_conv.conv2d(np.zeros(x_shape), np.zeros(w_shape), b, **kwargs)
    with pytest.raises(ValueError) as torch_error:
        conv2d(torch.zeros(x_shape), torch.zeros(w_shape), tensor(b, dtype=torch.float32), **kwargs)
    assert str(torch_error.value) == str(numpy_error.value)


def test_mixed_dtypes_and_wrong_grad_output_are_refused():
    with pytest.raises(ValueError, match="input has dtype torch.float32 but weight has dtype torch.float64"):
        conv2d(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3, dtype=torch.float64))
    _, cache = conv2d_forward(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(1, 1, 2, 2\)"):
        conv2d_backward(torch.zeros(1, 1, 4, 4), cache)
    with pytest.raises(ValueError, match="in_channels must be non-negative"):
        Conv2d(-1, 1, 3)


# -- the module -----------------------------------------------------------------------------------------
def test_module_has_torch_init_names_and_repr():
    torch.manual_seed(0)
    ref = torch.nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 0))
    torch.manual_seed(0)
    layer = Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 0))
    assert [(k, v.shape) for k, v in layer.state_dict().items()] == [(k, v.shape) for k, v in ref.state_dict().items()]
    assert torch.equal(layer.weight, ref.weight) and torch.equal(layer.bias, ref.bias)  # same draws, same bound
    assert list(Conv2d(3, 5, 3, bias=False).state_dict()) == ["weight"]
    assert repr(Conv2d(1, 2, 3, stride=2)) == "Conv2d(1, 2, kernel_size=(3, 3), stride=(2, 2), padding=(0, 0), bias=True)"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_module_loads_torch_weights_and_matches_it(device, dtype):
    skip_unsupported(device, dtype)
    ref = torch.nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), device=device, dtype=dtype)
    layer = Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), device=device, dtype=dtype)
    assert layer.weight.device.type == device and layer.weight.dtype == dtype
    layer.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 7, 6, device=device, dtype=dtype)
    out, expected = layer(x), ref(x)
    out.square().sum().backward()
    expected.square().sum().backward()
    tol = F32 if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(out, expected, **tol)
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad, **tol)
    torch.testing.assert_close(layer.bias.grad, ref.bias.grad, **tol)
