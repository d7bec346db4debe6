"""Max and average pooling in NumPy, forward and backward (taught in 03_pooling).

A pooling layer slides a window over each channel on its own and keeps one number per window:

    max:      out[n, c, i, j] = max  over a < kH, b < kW of x_pad[n, c, i*sH + a*dH, j*sW + b*dW]
    average:  out[n, c, i, j] = sum of the same window / its divisor

It has no parameters. The arguments are PyTorch's: ``stride=None`` means ``stride=kernel_size``,
``padding`` is at most half the kernel, max pooling pads with -inf (padding never wins) and may
spread its window with ``dilation``, ``ceil_mode=True`` keeps a last, partial window, and average
pooling divides by kH*kW including the zero padding (``count_include_pad=True``), by the real
pixels only (``False``), or by ``divisor_override``. Inputs are (N, C, H, W) or unbatched (C, H, W).

Backward: max pooling routes each output gradient to the pixel that won its window: the first
maximum in row-major order, or the last NaN if the window holds one, exactly as PyTorch's CPU
kernel does; average pooling shares it among the window's pixels. Where windows overlap (kernel 3,
stride 2) a pixel collects the gradients of every window it belongs to.

Two versions exist:

- `max_pool2d_naive`, `avg_pool2d_naive` and their backward (in ``cnnlib.numpy_nn.pooling_naive``,
  importable from here too): loops over every window, for reading;
- here, `max_pool2d_forward` / `max_pool2d_backward` (and avg's): a window's maximum (or sum) is the
  maximum over its rows of the maximum over its columns, so the work is two short loops over the
  kernel offsets, each a whole-array operation on strided slices. Max pooling's backward is one
  ``np.add.at`` of the output gradients at the winners' flat indices. No copy of the windows is
  made: the largest temporary has the size of the input (the row stage's result).
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_int
from cnnlib.numpy_nn.conv import as_float_array
from cnnlib.numpy_nn.module import Module
# the window's arguments and geometry, shared with cnnlib.torch_nn.pooling (pool_geometry stays importable from here)
from cnnlib.pool_args import _divisor, _extent, _first_real_offset, _offset, check_pool_arguments, pool_geometry


def _padded(x, padding, extent, value):
    """The (N, C, extent_h, extent_w) block of the padded input the windows read (a view when no padding is needed)."""
    (ph, pw), (eh, ew) = padding, extent
    h, w = x.shape[2:]
    if ph == pw == 0 and eh <= h and ew <= w:
        return x[:, :, :eh, :ew]
    x_pad = np.full((*x.shape[:2], eh, ew), value, dtype=x.dtype)
    rows, cols = min(h, eh - ph), min(w, ew - pw)
    x_pad[:, :, ph:ph + rows, pw:pw + cols] = x[:, :, :rows, :cols]
    return x_pad


def _unpad(grad_pad, x_shape, padding):
    """The gradient of the real input from that of the padded block (which may be shorter than the input)."""
    (ph, pw), (h, w) = padding, x_shape[2:]
    rows, cols = min(h, grad_pad.shape[2] - ph), min(w, grad_pad.shape[3] - pw)
    if ph == pw == 0 and grad_pad.shape[2:] == (h, w):
        return grad_pad
    grad = np.zeros(x_shape, dtype=grad_pad.dtype)
    grad[:, :, :rows, :cols] = grad_pad[:, :, ph:ph + rows, pw:pw + cols]
    return grad


def _as_batch(x):
    """(C, H, W) becomes (1, C, H, W); returns the array and whether it was unbatched."""
    return (x[None], True) if x.ndim == 3 else (x, False)


def _check_grad_output(grad_output, expected, dtype) -> np.ndarray:
    grad_output = np.asarray(grad_output)
    if grad_output.shape != tuple(expected):
        raise ValueError(f"grad_output must have the output's shape {tuple(expected)}, got {grad_output.shape}")
    return grad_output.astype(dtype, copy=False)


# -- max pooling ----------------------------------------------------------------------------------
def _take_where(dst, src, mask):
    """``dst[mask] = src[mask]`` for small unsigned integers, in place, as dst + mask * (src - dst).

    The difference wraps around modulo 2**bits and the sum wraps back, so the result is exact. Three
    whole-array passes: ``np.copyto(dst, src, where=mask)`` took 8 ms on the VGG pool's 1.6M outputs,
    these 0.5 ms (measured on the bench machine).
    """
    step = np.subtract(src, dst, dtype=dst.dtype)   # wraps modulo 256 where src < dst
    step *= mask
    dst += step


def _running_max(views, start, nan_wins, carried=None):
    """Elementwise maximum of ``views`` (one per kernel offset, in order), which offset won, and its ``carried``.

    PyTorch's rule: a later offset wins only if strictly larger (ties go to the first maximum), or
    if it is NaN (``nan_wins``: the last NaN). ``start`` (broadcastable) is where the count begins.
    ``carried`` (optional, one array per view) is taken along from the winning view: the row stage
    carries the column stage's winners, so the column that won each window is known without a gather.
    The first two offsets are compared in one pass each; then, as in `cnnlib.torch_nn.pooling`,
    offset k can only win where everything before it lost, so the winner so far is below k there
    and ``maximum(winner, better * k)`` records it (two passes, not three). The VGG pool's forward
    went from 15.7 to 11.4 ms (measured on the bench machine, alone).
    """
    kind = np.min_scalar_type(len(views) - 1)
    if len(views) == 1:
        winner = np.empty(views[0].shape, dtype=kind)
        winner[...] = start
        return views[0].copy(), winner, None if carried is None else carried[0].copy()
    better = _beats(views[1], views[0], nan_wins)
    best = np.maximum(views[0], views[1])      # NaN propagates, as the winner's value
    winner = better.astype(kind)               # offset 1 where it won, else 0 ...
    if np.any(start):                          # ... or the first real offset, for windows that begin in the padding
        np.maximum(winner, np.asarray(start, dtype=kind), out=winner)
    taken = None
    if carried is not None:                    # carried[1] where offset 1 won, else carried[0], in uint8 arithmetic
        taken = np.subtract(carried[1], carried[0], dtype=carried[0].dtype)  # (np.where: 10x slower here)
        taken *= better
        taken += carried[0]
    for k, v in enumerate(views[2:], start=2):
        better = _beats(v, best, nan_wins)
        np.maximum(best, v, out=best)
        np.maximum(winner, better * kind.type(k), out=winner)
        if carried is not None:
            _take_where(taken, carried[k], better)
    return best, winner, taken


def _beats(v, best, nan_wins):
    """Where ``v`` takes over from ``best``: strictly larger, or (``nan_wins``) NaN."""
    better = v > best
    if nan_wins:
        better |= np.isnan(v)
    return better


def _max_stages(x_pad, geometry, nan_wins):
    """The maximum of every window, its winning row offset a and column offset b (all (N, C, H_out, W_out)).

    Where no row beats the first real one (``start_h`` > 0 only for windows that begin in the padding),
    the carried column is row 0's: a padded row of -inf and a real row whose maximum is -inf both
    keep their first real column, so it is the same column.
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = geometry
    start_w = _first_real_offset(w_out, sw, pw, dw)                       # (W_out,)
    start_h = _first_real_offset(h_out, sh, ph, dh)[:, None]              # (H_out, 1)
    cols, col_winner, _ = _running_max([x_pad[_offset(3, b, sw, dw, w_out)] for b in range(kw)], start_w, nan_wins)
    rows = [_offset(2, a, sh, dh, h_out) for a in range(kh)]              # (N, C, rows, W_out) -> (N, C, H_out, W_out)
    out, row_winner, column = _running_max([cols[r] for r in rows], start_h, nan_wins, [col_winner[r] for r in rows])
    return out, column, row_winner


def max_pool2d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling; returns ``(out, cache)`` for `max_pool2d_backward`.

    Math: out[n, c, i, j] = max_a max_b x_pad[n, c, i*sH + a*dH, j*sW + b*dW], x_pad padded by -inf.
    First every row of each window is reduced (``cols``: the maximum of kW columns, and which
    column won), then the kH rows. The winner of the rows' maxima, then of that row's columns, is
    the first maximum of the window in row-major order.

    Shape:
        x: (N, C, H, W) or (C, H, W) -> out: (N, C, H_out, W_out) or (C, H_out, W_out),
        H_out = floor((H + 2*pH - dH*(kH-1) - 1) / sH) + 1.

    The row stage carries along the column that won, so both winners have the output's shape.
    The cache keeps the two winners (small integers), not the windows. Taught in 03_pooling.
    """
    x, unbatched = _as_batch(as_float_array(x, "input"))
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    x_pad = _padded(x, geometry[2], _extent(*(geometry[i] for i in (0, 1, 3, 4))), -np.inf)
    out, col_winner, row_winner = _max_stages(x_pad, geometry, nan_wins=False)
    if np.isnan(out).any():  # rare: redo with PyTorch's rule that the last NaN of a window wins
        out, col_winner, row_winner = _max_stages(x_pad, geometry, nan_wins=True)
    cache = (col_winner, row_winner, x.shape, x_pad.shape, x.dtype, geometry, unbatched)
    return (out[0] if unbatched else out), cache


def _winner_flat_index(col_winner, row_winner, x_pad_shape, geometry) -> np.ndarray:
    """For every output, in row-major order, the flat index in the padded input of the pixel that won its window.

    The row is i*sH + a*dH for the winning row offset a; the column j*sW + b*dW for the winning
    column offset b (``col_winner``, (N, C, H_out, W_out), as `_max_stages` returns it).
    """
    _, (sh, sw), _, (dh, dw), (h_out, w_out) = geometry
    n, c, h_pad, w_pad = x_pad_shape
    index = np.int32 if n * c * h_pad * w_pad < 2**31 else np.intp     # half the memory traffic where it fits
    flat = row_winner.astype(index)
    flat *= dh * w_pad                                                  # a*dH rows down the padded image
    flat += col_winner if dw == 1 else dw * col_winner.astype(index)   # b*dW columns along
    window = np.arange(0, h_out * sh, sh)[:, None] * w_pad + np.arange(0, w_out * sw, sw)  # (H_out, W_out) corners
    flat += window.astype(index)
    flat += np.arange(0, n * c * h_pad * w_pad, h_pad * w_pad, dtype=index).reshape(n, c, 1, 1)  # image, channel
    return flat.ravel()


def max_pool2d_backward(grad_output, cache) -> np.ndarray:
    """Gradient of max pooling: each output's gradient goes to the input that won its window.

    Math: grad_x_pad[n, c, i*sH + a*dH, j*sW + b*dW] += grad_output[n, c, i, j] for the winner (a, b).
    The winners' flat indices are rebuilt from the cache, and ``np.add.at`` adds the gradients in
    the outputs' row-major order, the order PyTorch's CPU kernel adds them in: where windows overlap
    the sums match it bit for bit.

    Shape: grad_output (N, C, H_out, W_out) -> grad_input (N, C, H, W), unbatched alike. Taught in 03_pooling.
    """
    col_winner, row_winner, x_shape, x_pad_shape, dtype, geometry, unbatched = cache
    g = _check_grad_output(grad_output, (*x_shape[unbatched:2], *geometry[4]), dtype)
    grad_pad = np.zeros(int(np.prod(x_pad_shape)), dtype=dtype)
    np.add.at(grad_pad, _winner_flat_index(col_winner, row_winner, x_pad_shape, geometry), g.ravel())
    grad = _unpad(grad_pad.reshape(x_pad_shape), x_shape, padding=geometry[2])
    return grad[0] if unbatched else grad


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> np.ndarray:
    """``torch.nn.functional.max_pool2d`` in NumPy (forward only); see `max_pool2d_forward`. Taught in 03_pooling."""
    return max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)[0]


# -- average pooling ------------------------------------------------------------------------------
def _window_sum(x, axis, k, s, n_out):
    """The sum of the ``k`` offsets of every window along ``axis`` (2: rows, 3: columns), a new array.

    The first two offsets are added in one pass (no copy of the first made to add the second into).
    """
    first = x[_offset(axis, 0, s, 1, n_out)]
    total = first + x[_offset(axis, 1, s, 1, n_out)] if k > 1 else first.copy()
    for a in range(2, k):
        total += x[_offset(axis, a, s, 1, n_out)]
    return total


def _window_spread(share, axis, k, s, size):
    """The adjoint of `_window_sum`: ``size`` rows (or columns) along ``axis``, each offset of window i given share[i].

    Windows that overlap (s < k) add into zeros. Windows that do not (s >= k) are written, not
    added; if they tile the axis (s == k, LeNet's 2x2/2) there is no gap to zero first either.
    """
    shape = list(share.shape)
    shape[axis], n_out = size, shape[axis]
    grad = np.empty(shape, share.dtype) if s == k else np.zeros(shape, share.dtype)
    for a in range(k):
        if s >= k:
            grad[_offset(axis, a, s, 1, n_out)] = share
        else:
            grad[_offset(axis, a, s, 1, n_out)] += share
    return grad


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                       divisor_override=None):
    """Average pooling; returns ``(out, cache)`` for `avg_pool2d_backward`.

    Math: out[n, c, i, j] = (sum_{a<kH, b<kW} x_pad[n, c, i*sH + a, j*sW + b]) / divisor[i, j], x_pad
    padded by zeros; the divisor is kH*kW (PyTorch's default), the count of real pixels
    (``count_include_pad=False``) or ``divisor_override``. Rows are summed first (whole rows, contiguous), then columns.

    Shape:
        x: (N, C, H, W) or (C, H, W) -> out: (N, C, H_out, W_out) or (C, H_out, W_out),
        H_out = floor((H + 2*pH - kH) / sH) + 1.

    Taught in 03_pooling.
    """
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise ValueError(f"count_include_pad must be True or False, got {count_include_pad!r}")
    x, unbatched = _as_batch(as_float_array(x, "input"))
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode)
    (kh, kw), (sh, sw), padding, _, (h_out, w_out) = geometry
    divisor = _divisor(x.shape, geometry, count_include_pad, divisor_override)
    x_pad = _padded(x, padding, _extent((kh, kw), (sh, sw), (1, 1), (h_out, w_out)), 0.0)
    rows = _window_sum(x_pad, 2, kh, sh, h_out)     # (N, C, H_out, columns): whole rows, contiguous runs
    out = _window_sum(rows, 3, kw, sw, w_out)       # (N, C, H_out, W_out): strided, on the smaller array
    out /= divisor
    cache = (x.shape, x_pad.shape, rows.shape, x.dtype, geometry, divisor, unbatched)
    return (out[0] if unbatched else out), cache


def avg_pool2d_backward(grad_output, cache) -> np.ndarray:
    """Gradient of average pooling: each output's gradient, divided by its divisor, goes to every pixel of its window.

    Math: grad_x_pad[n, c, i*sH + a, j*sW + b] += grad_output[n, c, i, j] / divisor[i, j] for every (a, b).

    Shape: grad_output (N, C, H_out, W_out) -> grad_input (N, C, H, W), unbatched alike. Taught in 03_pooling.
    """
    x_shape, x_pad_shape, rows_shape, dtype, geometry, divisor, unbatched = cache
    (kh, kw), (sh, sw), padding, _, (h_out, w_out) = geometry
    g = _check_grad_output(grad_output, (*x_shape[unbatched:2], h_out, w_out), dtype)
    share = (g[None] if unbatched else g) / divisor                      # (N, C, H_out, W_out)
    share = share.astype(dtype, copy=False)
    grad_rows = _window_spread(share, 3, kw, sw, rows_shape[3])         # (N, C, H_out, columns)
    grad_pad = _window_spread(grad_rows, 2, kh, sh, x_pad_shape[2])    # (N, C, rows, columns): whole rows
    grad = _unpad(grad_pad, x_shape, padding)
    return grad[0] if unbatched else grad


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> np.ndarray:
    """``torch.nn.functional.avg_pool2d`` in NumPy (forward only); see `avg_pool2d_forward`. Taught in 03_pooling."""
    return avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)[0]


# -- the modules ----------------------------------------------------------------------------------
class MaxPool2d(Module):
    """Max pooling with ``torch.nn.MaxPool2d``'s arguments, in its order (``stride=None`` means ``kernel_size``).

    Math: out[n, c, i, j] = max of the window x_pad[n, c, i*sH + a*dH, j*sW + b*dW] (padding -inf).

    Shape: input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out) or (C, H_out, W_out),
    H_out = floor((H + 2*pH - dH*(kH-1) - 1) / sH) + 1 (ceil with ``ceil_mode``).

    ``return_indices=True`` is refused (PyTorch's flat indices are not kept). No parameters;
    ``backward(grad_output)`` returns the gradient with respect to the input. Taught in 03_pooling.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        if return_indices:
            raise ValueError("return_indices=True is not supported; use max_pool2d_forward, whose cache holds "
                             "each window's winner")
        check_pool_arguments(kernel_size, stride, padding, dilation)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride  # as torch.nn.MaxPool2d stores it
        self.return_indices, self.ceil_mode = False, ceil_mode
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = max_pool2d_forward(x, self.kernel_size, self.stride, self.padding, self.dilation,
                                              self.ceil_mode)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return max_pool2d_backward(grad_output, self._saved(self._cache))

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling with ``torch.nn.AvgPool2d``'s arguments, in its order (zero padding counted by default).

    Math: out[n, c, i, j] = sum of the window x_pad[n, c, i*sH + a, j*sW + b] / divisor (padding 0).

    Shape: input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out) or (C, H_out, W_out),
    H_out = floor((H + 2*pH - kH) / sH) + 1 (ceil with ``ceil_mode``).

    No parameters; ``backward(grad_output)`` returns the gradient with respect to the input.
    Taught in 03_pooling.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        check_pool_arguments(kernel_size, stride, padding)
        if divisor_override is not None:
            check_int(divisor_override, "divisor_override", minimum=1)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride  # as torch.nn.AvgPool2d stores it
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = avg_pool2d_forward(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                              self.count_include_pad, self.divisor_override)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return avg_pool2d_backward(grad_output, self._saved(self._cache))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


# the naive loops live beside this module; imported last, since they use the geometry above
from cnnlib.numpy_nn.pooling_naive import (avg_pool2d_backward_naive, avg_pool2d_naive,  # noqa: E402,F401
                                           max_pool2d_backward_naive, max_pool2d_naive)
