"""Max and average pooling as loops over every window, for reading (taught in 03_pooling).

The reference that ``cnnlib.numpy_nn.pooling``'s whole-array version is tested against: each output
pixel is computed on its own from the pixels of its window, with PyTorch's arguments and tie rule
(the first maximum in row-major order wins, or the last NaN). ``cnnlib.numpy_nn.pooling`` re-exports
every function here, so ``from cnnlib.numpy_nn.pooling import max_pool2d_naive`` works too.
"""
from __future__ import annotations

import numpy as np

from cnnlib.numpy_nn.conv import as_float_array
from cnnlib.numpy_nn.pooling import _as_batch, _divisor, pool_geometry


def _window_pixels(i, size, k, s, p, d):
    """The input rows (or columns) that window ``i`` covers, padding left out."""
    return [i * s - p + a * d for a in range(k) if 0 <= i * s - p + a * d < size]


def _windows_naive(x, geometry):
    """Yield (n, c, i, j, rows, cols) for every window, rows and cols in input coordinates."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = geometry
    h, w = x.shape[2:]
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(h_out):
                for j in range(w_out):
                    yield n, c, i, j, _window_pixels(i, h, kh, sh, ph, dh), \
                        _window_pixels(j, w, kw, sw, pw, dw)


def _torch_winner(window):
    """Row-major scan of a window: a value wins if strictly larger than the best so far, or if it is NaN."""
    best, winner = -np.inf, (0, 0)
    for a in range(window.shape[0]):
        for b in range(window.shape[1]):
            if window[a, b] > best or np.isnan(window[a, b]):
                best, winner = window[a, b], (a, b)
    return winner


def max_pool2d_naive(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> np.ndarray:
    """Max pooling as loops over (n, c, i, j): the largest value of each window. Taught in 03_pooling."""
    x, unbatched = _as_batch(as_float_array(x, "input"))
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    out = np.zeros((*x.shape[:2], *geometry[4]), dtype=x.dtype)
    for n, c, i, j, rows, cols in _windows_naive(x, geometry):
        out[n, c, i, j] = np.max(x[n, c][np.ix_(rows, cols)], initial=-np.inf)  # -inf: a window of padding only
    return out[0] if unbatched else out


def max_pool2d_backward_naive(grad_output, x, kernel_size, stride=None, padding=0, dilation=1,
                              ceil_mode=False) -> np.ndarray:
    """Max pooling's backward as loops: each window's gradient goes to its winner. Taught in 03_pooling."""
    x, unbatched = _as_batch(as_float_array(x, "input"))
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    g = np.asarray(grad_output, dtype=x.dtype).reshape(*x.shape[:2], *geometry[4])
    grad = np.zeros_like(x)
    for n, c, i, j, rows, cols in _windows_naive(x, geometry):
        if not rows or not cols:
            continue  # a window that holds only padding (possible with dilation) passes no gradient on
        a, b = _torch_winner(x[n, c][np.ix_(rows, cols)])
        grad[n, c, rows[a], cols[b]] += g[n, c, i, j]
    return grad[0] if unbatched else grad


def avg_pool2d_naive(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                     divisor_override=None) -> np.ndarray:
    """Average pooling as loops over (n, c, i, j): each window's sum over its divisor. Taught in 03_pooling."""
    x, unbatched = _as_batch(as_float_array(x, "input"))
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = np.broadcast_to(_divisor(x.shape, geometry, count_include_pad, divisor_override), geometry[4])
    out = np.zeros((*x.shape[:2], *geometry[4]), dtype=x.dtype)
    for n, c, i, j, rows, cols in _windows_naive(x, geometry):
        out[n, c, i, j] = np.sum(x[n, c][np.ix_(rows, cols)]) / divisor[i, j]
    return out[0] if unbatched else out


def avg_pool2d_backward_naive(grad_output, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                              count_include_pad=True, divisor_override=None) -> np.ndarray:
    """Average pooling's backward as loops: each window's gradient is shared by its pixels. Taught in 03_pooling."""
    x, unbatched = _as_batch(as_float_array(x, "input"))
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = np.broadcast_to(_divisor(x.shape, geometry, count_include_pad, divisor_override), geometry[4])
    g = np.asarray(grad_output, dtype=x.dtype).reshape(*x.shape[:2], *geometry[4])
    grad = np.zeros_like(x)
    for n, c, i, j, rows, cols in _windows_naive(x, geometry):
        grad[n, c][np.ix_(rows, cols)] += g[n, c, i, j] / divisor[i, j]
    return grad[0] if unbatched else grad
