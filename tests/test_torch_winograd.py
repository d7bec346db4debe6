"""cnnlib.torch_nn.winograd against torch.nn and cnnlib.numpy_nn.winograd, gradcheck, float32 and devices."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from strategies import make_array, seeds, winograd_configs
from torch_support import DEVICES, DTYPES, F32, assert_runs_close, assert_three_way, needs_cuda, run, \
    skip_unsupported, tensor
from torch_support import full_float32_precision  # noqa: F401  (a fixture, used by pytestmark)

import cnnlib.numpy_nn.conv as np_conv
from cnnlib.torch_nn import winograd
from cnnlib.torch_nn.conv import Conv2d, conv2d, conv2d_backward, conv2d_forward

pytestmark = pytest.mark.usefixtures("full_float32_precision")


def _arrays(cfg, seed):
    x = make_array(cfg["input_shape"], seed)
    w = make_array(cfg["weight_shape"], seed + 1)
    b = make_array(cfg["weight_shape"][:1], seed + 2) if cfg["bias"] else None
    return x, w, b


def _grad_output(x, w, b, p, seed):
    return make_array(np_conv.conv2d(x, w, b, 1, p, algorithm="im2col").shape, seed + 3)


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=winograd_configs(), seed=seeds)
def test_winograd_three_way_parity(device, cfg, seed):
    x, w, b = _arrays(cfg, seed)
    p = cfg["padding"]
    g = _grad_output(x, w, b, p, seed)

    def numpy_side(x, w, b, g):
        out, cache = np_conv.conv2d_forward(x, w, b, 1, p, algorithm="winograd")
        return out, np_conv.conv2d_backward(g, cache)

    assert_three_way(lambda x, w, b: conv2d(x, w, b, 1, p, algorithm="winograd"),
                     lambda x, w, b: F.conv2d(x, w, b, 1, p), numpy_side, [x, w, b], g,
                     names=["input", "weight", "bias"], device=device)


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=winograd_configs(), seed=seeds)
def test_winograd_gradcheck(device, cfg, seed):
    skip_unsupported(device, torch.float64)
    x, w, b = (tensor(a, device, requires_grad=True) for a in _arrays(cfg, seed))
    p = cfg["padding"]
    assert torch.autograd.gradcheck(lambda x, w, b: conv2d(x, w, b, 1, p, algorithm="winograd"), (x, w, b),
                                    fast_mode=True)


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=winograd_configs(), seed=seeds)
def test_winograd_float32_stays_float32_and_matches_torch(device, cfg, seed):
    x, w, b = _arrays(cfg, seed)
    p = cfg["padding"]
    g = _grad_output(x, w, b, p, seed)
    ours = run(lambda x, w, b: conv2d(x, w, b, 1, p, algorithm="winograd"), [x, w, b], g, device, torch.float32)
    ref = run(lambda x, w, b: F.conv2d(x, w, b, 1, p), [x, w, b], g, device, torch.float32)
    assert ours[0].dtype == torch.float32 and all(t is None or t.dtype == torch.float32 for t in ours[1])
    assert_runs_close(ours, ref, **F32)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=winograd_configs(), seed=seeds)
def test_winograd_cuda_matches_cpu(dtype, cfg, seed):
    x, w, b = _arrays(cfg, seed)
    p = cfg["padding"]
    g = _grad_output(x, w, b, p, seed)
    fn = lambda x, w, b: conv2d(x, w, b, 1, p, algorithm="winograd")  # noqa: E731
    assert_runs_close(run(fn, [x, w, b], g, "cuda", dtype), run(fn, [x, w, b], g, "cpu", dtype), **F32)


def test_the_cache_names_the_algorithm_and_both_give_the_same_gradients():
    x = torch.randn(2, 3, 7, 6, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    fast_out, fast = conv2d_forward(x, w, None, 1, 1)
    slow_out, slow = conv2d_forward(x, w, None, 1, 1, algorithm="im2col")
    assert fast[0] == "winograd" and slow[0] == "im2col"
    torch.testing.assert_close(fast_out, slow_out, rtol=1e-12, atol=1e-12)
    g = torch.randn_like(fast_out)
    for a, e in zip(conv2d_backward(g, fast), conv2d_backward(g, slow)):
        assert (a is None) == (e is None)
        if a is not None:
            torch.testing.assert_close(a, e, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 4, 7, 6\)"):
        conv2d_backward(torch.zeros(2, 4, 5, 5, dtype=torch.float64), fast)


def test_module_algorithm_argument_and_bad_choices():
    layer = Conv2d(3, 4, 3, padding=1, algorithm="im2col")
    assert "algorithm='im2col'" in repr(layer) and "algorithm" not in repr(Conv2d(3, 4, 3))
    with pytest.raises(ValueError, match=r"algorithm='winograd' needs a 3x3 kernel, stride 1, dilation 1, groups=1"):
        Conv2d(3, 4, 5, algorithm="winograd")
    with pytest.raises(ValueError, match=r"algorithm must be one of"):
        conv2d(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3), algorithm="fft")


def test_the_same_functions_as_the_numpy_module():
    from cnnlib.numpy_nn import winograd as np_winograd

    public = [name for name in dir(np_winograd) if callable(getattr(np_winograd, name)) and not name.startswith("_")
              and getattr(getattr(np_winograd, name), "__module__", "") == np_winograd.__name__]
    assert sorted(public) == sorted(name for name in winograd.__all__ if name not in ("AT", "BT", "G", "CHUNK"))
    assert winograd.parity_slices is np_winograd.parity_slices and winograd.tiles_for is np_winograd.tiles_for


def test_transforming_a_channel_at_a_time_changes_nothing(monkeypatch):
    x = torch.randn(2, 5, 7, 8, dtype=torch.float64)
    w, b = torch.randn(3, 5, 3, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    whole, whole_cache = conv2d_forward(x, w, b, 1, 1, algorithm="winograd")
    monkeypatch.setattr(winograd, "CHUNK", 1)
    pieces, pieces_cache = conv2d_forward(x, w, b, 1, 1, algorithm="winograd")
    torch.testing.assert_close(pieces, whole, rtol=0, atol=0)
    g = torch.randn_like(whole)
    for a, e in zip(conv2d_backward(g, pieces_cache), conv2d_backward(g, whole_cache)):
        torch.testing.assert_close(a, e, rtol=1e-13, atol=1e-13)


def test_auto_picks_winograd_on_the_cpu_only(monkeypatch):
    x, w = torch.randn(1, 2, 6, 6), torch.randn(3, 2, 3, 3)
    assert conv2d_forward(x, w, None, 1, 1)[1][0] == "winograd"
    chunks = []
    monkeypatch.setattr(winograd, "CHUNK", 1)
    winograd.in_chunks(chunks.append, 5, 1, "cuda")  # a GPU gets every channel in one slice
    assert chunks == [slice(0, 5)]
    winograd.in_chunks(chunks.append, 2, 1)
    assert chunks[1:] == [slice(0, 1), slice(1, 2)]


def test_the_pure_pair_works_on_tensors_that_require_grad():
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    out, cache = conv2d_forward(x, w, None, 1, 1, algorithm="winograd")
    assert out.grad_fn is None  # the hand-written backward is the gradient, not autograd
    grad_x, grad_w, _ = conv2d_backward(torch.ones_like(out), cache)
    (F.conv2d(x, w, None, 1, 1) * torch.ones_like(out)).sum().backward()
    torch.testing.assert_close(grad_x, x.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_w, w.grad, rtol=1e-12, atol=1e-12)
