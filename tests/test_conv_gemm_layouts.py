"""Both GEMM layouts of im2col (one GEMM per image, or one over all pixels ordered (i, j, n)), with kept
or re-unfolded columns, give torch's convolution and gradients in float64, in both libraries."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.numpy_nn import conv as numpy_conv
from cnnlib.torch_nn import conv as torch_conv

LAYOUTS = {"per image": 1, "image last": 10**9}       # PER_IMAGE_PIXELS forcing each layout
KEEP = {"kept": numpy_conv.KEEP_COLUMNS_BYTES, "unfolded again": 0}


def _case(seed):
    """A random convolution: shapes, groups, stride, padding, dilation; N up to 3, H and W up to 12."""
    rng = np.random.default_rng(seed)
    groups = int(rng.integers(1, 3))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kh, kw = (int(k) for k in rng.integers(1, 4, size=2))
    stride, dilation = tuple(int(s) for s in rng.integers(1, 3, size=2)), tuple(int(d) for d in rng.integers(1, 3, size=2))
    padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
    h, w = (int(s) for s in rng.integers(dilation[0] * (kh - 1) + 1, 13, size=2))
    w = max(w, dilation[1] * (kw - 1) + 1)
    n = int(rng.integers(1, 4))
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups, kh, kw))
    bias = rng.standard_normal(c_out)
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation, groups=groups), rng


def _torch_reference(x, weight, bias, kw, grad):
    x, weight, bias = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    out = F.conv2d(x, weight, bias, **kw)
    out.backward(torch.from_numpy(grad))
    return [t.detach().numpy() for t in (out, x.grad, weight.grad, bias.grad)]


@pytest.mark.parametrize("keep", KEEP)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", range(6))
def test_each_layout_gives_torchs_answer(monkeypatch, layout, keep, seed):
    monkeypatch.setattr(numpy_conv, "PER_IMAGE_PIXELS", LAYOUTS[layout])
    monkeypatch.setattr(numpy_conv, "KEEP_COLUMNS_BYTES", KEEP[keep])
    monkeypatch.setattr(torch_conv, "KEEP_COLUMNS_BYTES", KEEP[keep])
    x, weight, bias, kw, rng = _case(seed)
    out, cache = numpy_conv.conv2d_forward(x, weight, bias, algorithm="im2col", **kw)
    grad = rng.standard_normal(out.shape)
    expected = _torch_reference(x, weight, bias, kw, grad)
    channels_per_group = weight.shape[0] // kw["groups"]
    per_image = layout == "per image" and out.shape[2] * out.shape[3] >= channels_per_group
    assert cache[1][-2] == per_image == numpy_conv.per_image_gemms(out.shape[2:], channels_per_group)
    assert (cache[1][-1] is None) == (keep == "unfolded again")
    got = [out, *numpy_conv.conv2d_backward(grad, cache)]
    t_out, t_cache = torch_conv.conv2d_forward(*(torch.from_numpy(a) for a in (x, weight, bias)),
                                               algorithm="im2col", **kw)
    got_torch = [t_out, *torch_conv.conv2d_backward(torch.from_numpy(grad), t_cache)]
    for name, a, t, e in zip(("output", "input", "weight", "bias"), got, got_torch, expected):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10, err_msg=f"numpy_nn {name}, {layout}, {keep}")
        np.testing.assert_allclose(t.numpy(), e, rtol=1e-10, atol=1e-10, err_msg=f"torch_nn {name}, {layout}, {keep}")
    assert numpy_conv.conv2d_backward(grad, cache, need_input_grad=False)[0] is None


@pytest.mark.parametrize("seed", range(4))
def test_image_last_columns_are_the_columns_reordered(seed):
    x, weight, _, kw, _ = _case(seed)
    x_pad = numpy_conv.pad2d(x, kw["padding"])
    kh, kwid = weight.shape[2:]
    out_hw = tuple((s - d * (k - 1) - 1) // st + 1
                   for s, k, st, d in zip(x_pad.shape[2:], (kh, kwid), kw["stride"], kw["dilation"]))
    plain = numpy_conv.im2col(x_pad, (kh, kwid), kw["stride"], out_hw, kw["dilation"])
    last = numpy_conv.im2col(x_pad, (kh, kwid), kw["stride"], out_hw, kw["dilation"], image_last=True)
    n = x.shape[0]
    reordered = plain.reshape(len(plain), n, -1).transpose(0, 2, 1).reshape(plain.shape)  # (n, i, j) -> (i, j, n)
    np.testing.assert_array_equal(last, reordered)
    last_torch = torch_conv.im2col(torch.from_numpy(x_pad), (kh, kwid), kw["stride"], out_hw, kw["dilation"],
                                   image_last=True)
    np.testing.assert_array_equal(last_torch.numpy(), reordered)


def test_lenets_layers_take_the_layouts_measured_fastest():
    """C1 (28x28 outputs) one GEMM per image; C3 (10x10) and C5 (1x1) one GEMM over the whole batch."""
    assert numpy_conv.per_image_gemms((28, 28), 6)
    assert not numpy_conv.per_image_gemms((10, 10), 16)
    assert not numpy_conv.per_image_gemms((1, 1), 120)
    assert not numpy_conv.per_image_gemms((16, 16), 512)  # more channels than pixels: the summed weight
    # gradients of every image would outgrow the columns
