"""Max and average pooling from strided windows, backward by hand (taught in 03_pooling).

The same algorithm, step for step and name for name, as ``cnnlib.numpy_nn.pooling``, on tensors
of any device and dtype. Every window is read through a strided view of the padded input
(`cnnlib.torch_nn.conv.windows`, no copy) and reduced:

    max:      out[n, c, i, j] = max  of x_pad[n, c, i*sH : i*sH+kH, j*sW : j*sW+kW]
    average:  out[n, c, i, j] = mean of the same window

As in PyTorch, ``stride=None`` means ``stride=kernel_size``, max pooling pads with -inf, average
pooling pads with zeros and divides by kH*kW, and the padding is at most half the kernel.
Backward: max routes each output gradient to the first maximum of its window; average shares it
equally. Overlapping windows (3x3, stride 2) add up. ``torch.nn.functional.max_pool2d`` and
``avg_pool2d`` are never called; `MaxPool2dFunction` and `AvgPool2dFunction` hand the pairs to autograd.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.checks import check_pool_padding, check_window, pair
from cnnlib.torch_nn.conv import pad2d, windows


def _prepare(x, kernel_size, stride, padding):
    if stride is None:
        stride = kernel_size
    kernel_hw, stride, padding, out_hw = check_window(x.shape, kernel_size, stride, padding)
    check_pool_padding(kernel_hw, padding)
    return kernel_hw, stride, padding, out_hw


def _check_grad_output(grad_output, expected):
    if tuple(grad_output.shape) != tuple(expected):
        raise ValueError(f"grad_output must have the output's shape {tuple(expected)}, got {tuple(grad_output.shape)}")
    return grad_output


def _scatter(per_offset, x_pad_shape, kernel_hw, stride, out_hw, x_shape, padding, like):
    """Add ``per_offset(a, b)`` (an (N, C, H_out, W_out) tensor) onto the pixels that kernel offset
    (a, b) read, for every offset; return the gradient of the unpadded input. Loops over kH*kW only."""
    (kh, kw), (sh, sw), (h_out, w_out), (ph, pw) = kernel_hw, stride, out_hw, padding
    grad_pad = like.new_zeros(x_pad_shape)  # (N, C, Hp, Wp), on like's device, in its dtype
    for a in range(kh):
        for b in range(kw):
            grad_pad[:, :, a:a + (h_out - 1) * sh + 1:sh, b:b + (w_out - 1) * sw + 1:sw] += per_offset(a, b)
    h, w = x_shape[2:]
    return grad_pad[:, :, ph:ph + h, pw:pw + w].contiguous()  # (N, C, H, W)


# -- max pooling ----------------------------------------------------------------------------------------
def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Max pooling; returns ``(out, cache)`` for `max_pool2d_backward`.

    Math: out[n, c, i, j] = max_{a<kH, b<kW} x_pad[n, c, i*sH+a, j*sW+b], with x_pad padded by -inf.

    Shape:
        x: (N, C, H, W) -> out: (N, C, H_out, W_out), H_out = floor((H + 2*pH - kH) / sH) + 1.

    The cache keeps, for every output pixel, which of the kH*kW window positions won (row-major
    index a*kW + b). Taught in 03_pooling.
    """
    kernel_hw, stride, padding, out_hw = _prepare(x, kernel_size, stride, padding)
    x_pad = pad2d(x, padding, value=float("-inf"))                    # (N, C, Hp, Wp)
    n, c = x.shape[:2]
    patches = windows(x_pad, kernel_hw, stride, out_hw).reshape(n, c, *out_hw, -1)  # (N, C, H_out, W_out, kH*kW)
    winner = patches.argmax(dim=-1)                                   # (N, C, H_out, W_out): first maximum
    out = patches.gather(-1, winner.unsqueeze(-1)).squeeze(-1)        # (N, C, H_out, W_out)
    cache = (winner, x.shape, x_pad.shape, kernel_hw, stride, padding, out_hw)
    return out, cache


def max_pool2d_backward(grad_output, cache):
    """Gradient of max pooling: each output's gradient goes to the input that was the maximum.

    Math: grad_x_pad[n, c, i*sH+a, j*sW+b] += grad_output[n, c, i, j] if (a, b) won window (i, j).

    Shape: grad_output (N, C, H_out, W_out) -> grad_input (N, C, H, W). Taught in 03_pooling.
    """
    winner, x_shape, x_pad_shape, kernel_hw, stride, padding, out_hw = cache
    g = _check_grad_output(grad_output, (*x_shape[:2], *out_hw))
    kw = kernel_hw[1]
    return _scatter(lambda a, b: torch.where(winner == a * kw + b, g, 0),
                    x_pad_shape, kernel_hw, stride, out_hw, x_shape, padding, like=g)


# -- average pooling ------------------------------------------------------------------------------------
def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Average pooling (zero padding counted, as PyTorch's default); returns ``(out, cache)``.

    Math: out[n, c, i, j] = (1 / (kH*kW)) * sum_{a<kH, b<kW} x_pad[n, c, i*sH+a, j*sW+b].

    Shape:
        x: (N, C, H, W) -> out: (N, C, H_out, W_out), H_out = floor((H + 2*pH - kH) / sH) + 1.

    Taught in 03_pooling.
    """
    kernel_hw, stride, padding, out_hw = _prepare(x, kernel_size, stride, padding)
    x_pad = pad2d(x, padding)                                                 # (N, C, Hp, Wp)
    out = windows(x_pad, kernel_hw, stride, out_hw).mean(dim=(-2, -1))        # (N, C, H_out, W_out)
    return out, (x.shape, x_pad.shape, kernel_hw, stride, padding, out_hw)


def avg_pool2d_backward(grad_output, cache):
    """Gradient of average pooling: each output's gradient is shared equally by its kH*kW inputs.

    Math: grad_x_pad[n, c, i*sH+a, j*sW+b] += grad_output[n, c, i, j] / (kH*kW) for every (a, b).

    Shape: grad_output (N, C, H_out, W_out) -> grad_input (N, C, H, W). Taught in 03_pooling.
    """
    x_shape, x_pad_shape, kernel_hw, stride, padding, out_hw = cache
    g = _check_grad_output(grad_output, (*x_shape[:2], *out_hw))
    share = g / (kernel_hw[0] * kernel_hw[1])  # (N, C, H_out, W_out)
    return _scatter(lambda a, b: share, x_pad_shape, kernel_hw, stride, out_hw, x_shape, padding, like=g)


# -- autograd nodes and the functions -------------------------------------------------------------------
class MaxPool2dFunction(torch.autograd.Function):
    """max_pool2d as an autograd node: forward keeps the cache, backward calls `max_pool2d_backward`."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        out, ctx.cache = max_pool2d_forward(x, kernel_size, stride, padding)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        return max_pool2d_backward(grad_output, ctx.cache), None, None, None


class AvgPool2dFunction(torch.autograd.Function):
    """avg_pool2d as an autograd node: forward keeps the cache, backward calls `avg_pool2d_backward`."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        out, ctx.cache = avg_pool2d_forward(x, kernel_size, stride, padding)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        return avg_pool2d_backward(grad_output, ctx.cache), None, None, None


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """``torch.nn.functional.max_pool2d`` from strided windows, differentiable through `max_pool2d_backward`.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out). Taught in 03_pooling.
    """
    return MaxPool2dFunction.apply(x, kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """``torch.nn.functional.avg_pool2d`` from strided windows, differentiable through `avg_pool2d_backward`.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out). Taught in 03_pooling.
    """
    return AvgPool2dFunction.apply(x, kernel_size, stride, padding)


# -- the naive loops, for reading -----------------------------------------------------------------------
def _pool_naive(x, kernel_size, stride, padding, reduce, pad_value):
    (kh, kw), (sh, sw), padding, (h_out, w_out) = _prepare(x, kernel_size, stride, padding)
    x_pad = pad2d(x, padding, value=pad_value)
    out = x.new_zeros(*x.shape[:2], h_out, w_out)                            # (N, C, H_out, W_out)
    for i in range(h_out):
        for j in range(w_out):
            window = x_pad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]   # (N, C, kH, kW)
            out[:, :, i, j] = reduce(window.flatten(start_dim=2))
    return out


def max_pool2d_naive(x, kernel_size, stride=None, padding=0):
    """Max pooling as loops over output pixels: the largest value of each window. Taught in 03_pooling."""
    return _pool_naive(x, kernel_size, stride, padding, lambda w: w.max(dim=-1).values, float("-inf"))


def avg_pool2d_naive(x, kernel_size, stride=None, padding=0):
    """Average pooling as loops over output pixels: the mean of each zero-padded window. Taught in 03_pooling."""
    return _pool_naive(x, kernel_size, stride, padding, lambda w: w.mean(dim=-1), 0.0)


def _pool_backward_naive(grad_output, x, kernel_size, stride, padding, route, pad_value):
    (kh, kw), (sh, sw), (ph, pw), (h_out, w_out) = _prepare(x, kernel_size, stride, padding)
    x_pad = pad2d(x, (ph, pw), value=pad_value)
    grad_pad = torch.zeros_like(x_pad)
    h, w = x.shape[2:]
    for i in range(h_out):
        for j in range(w_out):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            grad_pad[:, :, rows, cols] += route(x_pad[:, :, rows, cols], grad_output[:, :, i, j])
    return grad_pad[:, :, ph:ph + h, pw:pw + w]


def _to_first_max(window, g):
    """(N, C, kH, kW) windows, (N, C) gradients: each gradient lands on its window's first maximum."""
    flat = window.flatten(start_dim=2)                                     # (N, C, kH*kW)
    share = torch.zeros_like(flat).scatter_(-1, flat.argmax(dim=-1, keepdim=True), g.unsqueeze(-1))
    return share.reshape(window.shape)


def max_pool2d_backward_naive(grad_output, x, kernel_size, stride=None, padding=0):
    """Max pooling's backward as loops: each window's gradient goes to its first maximum. Taught in 03_pooling."""
    return _pool_backward_naive(grad_output, x, kernel_size, stride, padding, _to_first_max, float("-inf"))


def avg_pool2d_backward_naive(grad_output, x, kernel_size, stride=None, padding=0):
    """Average pooling's backward as loops: each window's gradient is shared by its pixels. Taught in 03_pooling."""
    def share(window, g):
        return (g / (window.shape[2] * window.shape[3]))[:, :, None, None].expand_as(window)

    return _pool_backward_naive(grad_output, x, kernel_size, stride, padding, share, 0.0)


# -- the modules ----------------------------------------------------------------------------------------
class _Pool2d(torch.nn.Module):
    """What MaxPool2d and AvgPool2d share: the arguments, checked when the layer is built."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        kernel_hw = pair(kernel_size, "kernel_size", minimum=1)
        if stride is not None:
            pair(stride, "stride", minimum=1)
        check_pool_padding(kernel_hw, pair(padding, "padding", minimum=0))
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride  # as torch.nn.MaxPool2d stores it
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling with ``torch.nn.MaxPool2d``'s arguments (``stride=None`` means ``kernel_size``).

    Math: out[n, c, i, j] = max of the window x_pad[n, c, i*sH : i*sH+kH, j*sW : j*sW+kW] (padding -inf).

    Shape: input (N, C, H, W) -> output (N, C, H_out, W_out), H_out = floor((H + 2*pH - kH) / sH) + 1.
    No parameters. Taught in 03_pooling.
    """

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Average pooling with ``torch.nn.AvgPool2d``'s arguments (zero padding counted in the mean).

    Math: out[n, c, i, j] = mean of the window x_pad[n, c, i*sH : i*sH+kH, j*sW : j*sW+kW] (padding 0).

    Shape: input (N, C, H, W) -> output (N, C, H_out, W_out), H_out = floor((H + 2*pH - kH) / sH) + 1.
    No parameters. Taught in 03_pooling.
    """

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)
