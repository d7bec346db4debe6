"""Max and average pooling as loops over output pixels, in tensor operations, for reading (taught in 03_pooling).

One window at a time, over the whole batch: the reference that ``cnnlib.torch_nn.pooling`` is tested
against, with PyTorch's arguments and tie rule (the first maximum in row-major order, or the last
NaN). ``cnnlib.torch_nn.pooling`` re-exports every function here.
"""
from __future__ import annotations

import numpy as np
import torch

from cnnlib.pool_args import _divisor, pool_geometry
from cnnlib.numpy_nn.pooling_naive import _window_pixels
from cnnlib.torch_nn.pooling import _as_batch


def _windows(x, geometry):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = geometry
    h, w = x.shape[2:]
    for i in range(h_out):
        for j in range(w_out):
            yield i, j, _window_pixels(i, h, kh, sh, ph, dh), _window_pixels(j, w, kw, sw, pw, dw)


def _window(x, rows, cols):
    return x[:, :, rows][:, :, :, cols].flatten(start_dim=2)  # (N, C, pixels), row-major


def _torch_winner(flat):
    """Per (n, c): the first maximum of the row-major window, or its last NaN (PyTorch's scan)."""
    first_max = flat.argmax(dim=-1)                                       # the first maximum (no NaN)
    nan = flat.isnan()
    last_nan = flat.shape[-1] - 1 - nan.flip(-1).to(torch.uint8).argmax(dim=-1)
    return torch.where(nan.any(dim=-1), last_nan, first_max)


def max_pool2d_naive(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling as loops over output pixels: the largest value of each window. Taught in 03_pooling."""
    x, unbatched = _as_batch(x)
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    out = x.new_full((*x.shape[:2], *geometry[4]), float("-inf"))        # -inf: a window of padding only
    for i, j, rows, cols in _windows(x, geometry):
        if rows and cols:
            flat = _window(x, rows, cols)
            out[:, :, i, j] = flat.gather(-1, _torch_winner(flat)[..., None])[..., 0]
    return out[0] if unbatched else out


def max_pool2d_backward_naive(grad_output, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling's backward as loops: each window's gradient goes to its winner. Taught in 03_pooling."""
    x, unbatched = _as_batch(x)
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    g = grad_output.reshape(*x.shape[:2], *geometry[4])
    grad = torch.zeros_like(x)
    for i, j, rows, cols in _windows(x, geometry):
        if rows and cols:
            winner = _torch_winner(_window(x, rows, cols))               # (N, C) positions in the window
            r = torch.as_tensor(rows, device=x.device)[winner // len(cols)]
            c = torch.as_tensor(cols, device=x.device)[winner % len(cols)]
            flat = grad.view(*x.shape[:2], x.shape[2] * x.shape[3])
            flat.scatter_add_(-1, (r * x.shape[3] + c)[..., None], g[:, :, i, j, None])
    return grad[0] if unbatched else grad


def avg_pool2d_naive(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                     divisor_override=None):
    """Average pooling as loops over output pixels: each window's sum over its divisor. Taught in 03_pooling."""
    x, unbatched = _as_batch(x)
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = np.broadcast_to(_divisor(x.shape, geometry, count_include_pad, divisor_override), geometry[4])
    out = x.new_zeros(*x.shape[:2], *geometry[4])
    for i, j, rows, cols in _windows(x, geometry):
        out[:, :, i, j] = _window(x, rows, cols).sum(dim=-1) / float(divisor[i, j])
    return out[0] if unbatched else out


def avg_pool2d_backward_naive(grad_output, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                              count_include_pad=True, divisor_override=None):
    """Average pooling's backward as loops: each window's gradient is shared by its pixels. Taught in 03_pooling."""
    x, unbatched = _as_batch(x)
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = np.broadcast_to(_divisor(x.shape, geometry, count_include_pad, divisor_override), geometry[4])
    g = grad_output.reshape(*x.shape[:2], *geometry[4])
    grad = torch.zeros_like(x)
    for i, j, rows, cols in _windows(x, geometry):
        for r in rows:
            grad[:, :, r, cols] += (g[:, :, i, j] / float(divisor[i, j]))[:, :, None]
    return grad[0] if unbatched else grad
