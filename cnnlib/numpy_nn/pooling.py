"""Max and average pooling in NumPy, forward and backward (taught in 03_pooling).

A pooling layer slides a window over each channel on its own and keeps one number per window:

    max:      out[n, c, i, j] = max  of x_pad[n, c, i*sH : i*sH+kH, j*sW : j*sW+kW]
    average:  out[n, c, i, j] = mean of the same window

It has no parameters. As in PyTorch, ``stride=None`` means ``stride=kernel_size`` (windows that
tile the input), max pooling pads with -inf (padding never wins the max), average pooling pads
with zeros and still divides by kH*kW (``count_include_pad=True``, PyTorch's default), and the
padding may be at most half the kernel.

Backward: max pooling routes each output gradient to the one input that won its window (the
first maximum in row-major order, as PyTorch does); average pooling spreads it evenly,
1/(kH*kW) to each pixel of the window. Where windows overlap (kernel 3, stride 2) a pixel
collects the gradients of every window it belongs to.
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_pool_padding, check_window, pair
from cnnlib.numpy_nn.conv import as_float_array, pad2d, windows
from cnnlib.numpy_nn.module import Module


def _prepare(x, kernel_size, stride, padding):
    x = as_float_array(x, "input")
    if stride is None:
        stride = kernel_size
    kernel_hw, stride, padding, out_hw = check_window(x.shape, kernel_size, stride, padding)
    check_pool_padding(kernel_hw, padding)
    return x, kernel_hw, stride, padding, out_hw


def _check_grad_output(grad_output, expected, dtype) -> np.ndarray:
    grad_output = np.asarray(grad_output)
    if grad_output.shape != tuple(expected):
        raise ValueError(f"grad_output must have the output's shape {tuple(expected)}, got {grad_output.shape}")
    return grad_output.astype(dtype, copy=False)


def _scatter(per_offset, x_pad_shape, kernel_hw, stride, out_hw, x_shape, padding, dtype) -> np.ndarray:
    """Add ``per_offset(a, b)`` (an (N, C, H_out, W_out) array) onto the pixels that kernel offset
    (a, b) read, for every offset; return the gradient of the unpadded input. Loops over kH*kW only."""
    (kh, kw), (sh, sw), (h_out, w_out), (ph, pw) = kernel_hw, stride, out_hw, padding
    grad_pad = np.zeros(x_pad_shape, dtype=dtype)  # (N, C, Hp, Wp)
    for a in range(kh):
        for b in range(kw):
            grad_pad[:, :, a:a + (h_out - 1) * sh + 1:sh, b:b + (w_out - 1) * sw + 1:sw] += per_offset(a, b)
    h, w = x_shape[2:]
    return grad_pad[:, :, ph:ph + h, pw:pw + w].copy()  # (N, C, H, W)


# -- max pooling ----------------------------------------------------------------------------------
def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Max pooling; returns ``(out, cache)`` for `max_pool2d_backward`.

    Math: out[n, c, i, j] = max_{a<kH, b<kW} x_pad[n, c, i*sH+a, j*sW+b], with x_pad padded by -inf.

    Shape:
        x: (N, C, H, W) -> out: (N, C, H_out, W_out), H_out = floor((H + 2*pH - kH) / sH) + 1.

    The cache keeps, for every output pixel, which of the kH*kW window positions won (row-major
    index a*kW + b). Taught in 03_pooling.
    """
    x, kernel_hw, stride, padding, out_hw = _prepare(x, kernel_size, stride, padding)
    x_pad = pad2d(x, padding, value=-np.inf)                          # (N, C, Hp, Wp)
    n, c = x.shape[:2]
    patches = windows(x_pad, kernel_hw, stride, out_hw).reshape(n, c, *out_hw, -1)  # (N, C, H_out, W_out, kH*kW)
    winner = np.argmax(patches, axis=-1)                              # (N, C, H_out, W_out): first maximum
    out = np.take_along_axis(patches, winner[..., None], axis=-1)[..., 0]
    cache = (winner, x.shape, x_pad.shape, x.dtype, kernel_hw, stride, padding, out_hw)
    return out, cache


def max_pool2d_backward(grad_output, cache) -> np.ndarray:
    """Gradient of max pooling: each output's gradient goes to the input that was the maximum.

    Math: grad_x_pad[n, c, i*sH+a, j*sW+b] += grad_output[n, c, i, j] if (a, b) won window (i, j).

    Shape: grad_output (N, C, H_out, W_out) -> grad_input (N, C, H, W). Taught in 03_pooling.
    """
    winner, x_shape, x_pad_shape, dtype, kernel_hw, stride, padding, out_hw = cache
    g = _check_grad_output(grad_output, (*x_shape[:2], *out_hw), dtype)
    kw = kernel_hw[1]
    return _scatter(lambda a, b: np.where(winner == a * kw + b, g, 0),
                    x_pad_shape, kernel_hw, stride, out_hw, x_shape, padding, dtype)


def max_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """``torch.nn.functional.max_pool2d`` in NumPy (forward only); see `max_pool2d_forward`. Taught in 03_pooling."""
    return max_pool2d_forward(x, kernel_size, stride, padding)[0]


# -- average pooling ------------------------------------------------------------------------------
def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Average pooling (zero padding counted, as PyTorch's default); returns ``(out, cache)``.

    Math: out[n, c, i, j] = (1 / (kH*kW)) * sum_{a<kH, b<kW} x_pad[n, c, i*sH+a, j*sW+b].

    Shape:
        x: (N, C, H, W) -> out: (N, C, H_out, W_out), H_out = floor((H + 2*pH - kH) / sH) + 1.

    Taught in 03_pooling.
    """
    x, kernel_hw, stride, padding, out_hw = _prepare(x, kernel_size, stride, padding)
    x_pad = pad2d(x, padding)                                                # (N, C, Hp, Wp)
    out = windows(x_pad, kernel_hw, stride, out_hw).mean(axis=(-2, -1))      # (N, C, H_out, W_out)
    return out, (x.shape, x_pad.shape, x.dtype, kernel_hw, stride, padding, out_hw)


def avg_pool2d_backward(grad_output, cache) -> np.ndarray:
    """Gradient of average pooling: each output's gradient is shared equally by its kH*kW inputs.

    Math: grad_x_pad[n, c, i*sH+a, j*sW+b] += grad_output[n, c, i, j] / (kH*kW) for every (a, b).

    Shape: grad_output (N, C, H_out, W_out) -> grad_input (N, C, H, W). Taught in 03_pooling.
    """
    x_shape, x_pad_shape, dtype, kernel_hw, stride, padding, out_hw = cache
    g = _check_grad_output(grad_output, (*x_shape[:2], *out_hw), dtype)
    share = g / (kernel_hw[0] * kernel_hw[1])  # (N, C, H_out, W_out)
    return _scatter(lambda a, b: share, x_pad_shape, kernel_hw, stride, out_hw, x_shape, padding, dtype)


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """``torch.nn.functional.avg_pool2d`` in NumPy (forward only); see `avg_pool2d_forward`. Taught in 03_pooling."""
    return avg_pool2d_forward(x, kernel_size, stride, padding)[0]


# -- the naive loops, for reading -----------------------------------------------------------------
def _pool_naive(x, kernel_size, stride, padding, reduce, pad_value):
    x, (kh, kw), (sh, sw), padding, (h_out, w_out) = _prepare(x, kernel_size, stride, padding)
    x_pad = pad2d(x, padding, value=pad_value)
    n_batch, channels = x.shape[:2]
    out = np.zeros((n_batch, channels, h_out, w_out), dtype=x.dtype)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(h_out):
                for j in range(w_out):
                    out[n, c, i, j] = reduce(x_pad[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return out


def max_pool2d_naive(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Max pooling as loops over (n, c, i, j): the largest value of each window. Taught in 03_pooling."""
    return _pool_naive(x, kernel_size, stride, padding, np.max, -np.inf)


def avg_pool2d_naive(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Average pooling as loops over (n, c, i, j): the mean of each zero-padded window. Taught in 03_pooling."""
    return _pool_naive(x, kernel_size, stride, padding, np.mean, 0.0)


def _pool_backward_naive(grad_output, x, kernel_size, stride, padding, route, pad_value):
    x, (kh, kw), (sh, sw), (ph, pw), (h_out, w_out) = _prepare(x, kernel_size, stride, padding)
    x_pad = pad2d(x, (ph, pw), value=pad_value)
    grad_pad = np.zeros_like(x_pad)
    grad_output = np.asarray(grad_output, dtype=x.dtype)
    n_batch, channels, h, w = x.shape
    for n in range(n_batch):
        for c in range(channels):
            for i in range(h_out):
                for j in range(w_out):
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    grad_pad[n, c, rows, cols] += route(x_pad[n, c, rows, cols], grad_output[n, c, i, j])
    return grad_pad[:, :, ph:ph + h, pw:pw + w]


def _to_first_max(window, g):
    share = np.zeros_like(window)
    share[np.unravel_index(np.argmax(window), window.shape)] = g  # first maximum, row-major
    return share


def max_pool2d_backward_naive(grad_output, x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Max pooling's backward as loops: each window's gradient goes to its first maximum. Taught in 03_pooling."""
    return _pool_backward_naive(grad_output, x, kernel_size, stride, padding, _to_first_max, -np.inf)


def avg_pool2d_backward_naive(grad_output, x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Average pooling's backward as loops: each window's gradient is shared by its pixels. Taught in 03_pooling."""
    return _pool_backward_naive(grad_output, x, kernel_size, stride, padding,
                                lambda window, g: np.full_like(window, g / window.size), 0.0)


# -- the modules ----------------------------------------------------------------------------------
class _Pool2d(Module):
    """What MaxPool2d and AvgPool2d share: the arguments, checked when the layer is built."""

    def __init__(self, kernel_size, stride=None, padding=0):
        kernel_hw = pair(kernel_size, "kernel_size", minimum=1)
        if stride is not None:
            pair(stride, "stride", minimum=1)
        check_pool_padding(kernel_hw, pair(padding, "padding", minimum=0))
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride  # as torch.nn.MaxPool2d stores it
        self.padding = padding
        self._cache = None

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling with ``torch.nn.MaxPool2d``'s arguments (``stride=None`` means ``kernel_size``).

    Math: out[n, c, i, j] = max of the window x_pad[n, c, i*sH : i*sH+kH, j*sW : j*sW+kW] (padding -inf).

    Shape: input (N, C, H, W) -> output (N, C, H_out, W_out), H_out = floor((H + 2*pH - kH) / sH) + 1.

    No parameters; ``backward(grad_output)`` returns the gradient with respect to the input.
    Taught in 03_pooling.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = max_pool2d_forward(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return max_pool2d_backward(grad_output, self._saved(self._cache))


class AvgPool2d(_Pool2d):
    """Average pooling with ``torch.nn.AvgPool2d``'s arguments (zero padding counted in the mean).

    Math: out[n, c, i, j] = mean of the window x_pad[n, c, i*sH : i*sH+kH, j*sW : j*sW+kW] (padding 0).

    Shape: input (N, C, H, W) -> output (N, C, H_out, W_out), H_out = floor((H + 2*pH - kH) / sH) + 1.

    No parameters; ``backward(grad_output)`` returns the gradient with respect to the input.
    Taught in 03_pooling.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = avg_pool2d_forward(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return avg_pool2d_backward(grad_output, self._saved(self._cache))
