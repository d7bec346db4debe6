"""Max and average pooling in tensor operations, backward by hand (taught in 03_pooling).

The same algorithm, step for step and name for name, as ``cnnlib.numpy_nn.pooling`` (both check
their arguments with `cnnlib.pool_args.pool_geometry`), on tensors of any device and dtype, with
``torch.nn.functional``'s arguments: ``stride=None`` means ``kernel_size``, ``padding`` at most half
the kernel, ``dilation`` and ``ceil_mode``, and for average pooling ``count_include_pad`` and
``divisor_override``; inputs (N, C, H, W) or unbatched (C, H, W).

    max:      out[n, c, i, j] = max over a, b of x_pad[n, c, i*sH + a*dH, j*sW + b*dW]   (padding -inf)
    average:  out[n, c, i, j] = sum of the same window / its divisor                   (padding 0)

A window is reduced over its columns first, then over its rows: two short loops over the kernel
offsets on strided slices, no copy of the windows. Max pooling's gradient goes to the first
maximum of each window in row-major order, or to its last NaN, as PyTorch's CPU kernel routes it.
``torch.nn.functional.max_pool2d`` and ``avg_pool2d`` are never called; `MaxPool2dFunction` and
`AvgPool2dFunction` hand the pairs to autograd. The naive loops, for reading, are in
``cnnlib.torch_nn.pooling_naive`` (importable from here too).
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.checks import check_int
from cnnlib.pool_args import (_divisor, _extent, _first_real_offset, _offset,  # the same slices as numpy_nn's
                              check_pool_arguments, pool_geometry)
from cnnlib.torch_nn.linear import require_tensor


def _as_batch(x):
    require_tensor(x, "input")
    return (x.unsqueeze(0), True) if x.dim() == 3 else (x, False)


def _padded(x, padding, extent, value):
    (ph, pw), (eh, ew) = padding, extent
    h, w = x.shape[2:]
    if ph == pw == 0 and eh <= h and ew <= w:
        return x[:, :, :eh, :ew]
    x_pad = x.new_full((*x.shape[:2], eh, ew), value)
    rows, cols = min(h, eh - ph), min(w, ew - pw)
    x_pad[:, :, ph:ph + rows, pw:pw + cols] = x[:, :, :rows, :cols]
    return x_pad


def _unpad(grad_pad, x_shape, padding):
    (ph, pw), (h, w) = padding, x_shape[2:]
    if ph == pw == 0 and tuple(grad_pad.shape[2:]) == (h, w):
        return grad_pad
    rows, cols = min(h, grad_pad.shape[2] - ph), min(w, grad_pad.shape[3] - pw)
    grad = grad_pad.new_zeros(x_shape)
    grad[:, :, :rows, :cols] = grad_pad[:, :, ph:ph + rows, pw:pw + cols]
    return grad


def _check_grad_output(grad_output, expected):
    if tuple(grad_output.shape) != tuple(expected):
        raise ValueError(f"grad_output must have the output's shape {tuple(expected)}, got {tuple(grad_output.shape)}")
    return grad_output


# -- max pooling ----------------------------------------------------------------------------------------
def _running_max(views, start, nan_wins, carried=None):
    """Elementwise maximum of ``views`` in order, which won (strictly larger, or NaN with ``nan_wins``), and its
    ``carried``.

    As `cnnlib.numpy_nn.pooling._running_max`: the row stage carries the column stage's winners, the
    first two offsets are compared in one pass each, and a later offset k wins only where it is
    larger than everything before it, so the winner so far is below k there and
    ``maximum(winner, better * k)`` records it. That form, instead of ``masked_fill_`` on a clone
    of a broadcast ``start``, took the VGG pool's forward from 20 to 6 ms (measured on the bench
    machine).
    """
    if len(views) == 1:
        winner = torch.zeros(views[0].shape, dtype=torch.uint8, device=views[0].device)
        winner += torch.as_tensor(start, dtype=torch.uint8, device=winner.device)
        return views[0].clone(), winner, None if carried is None else carried[0].clone()
    better = _beats(views[1], views[0], nan_wins)
    best = torch.maximum(views[0], views[1])                   # NaN propagates, as the winner's value
    winner = better.to(torch.uint8)                            # offset 1 where it won, else 0 ...
    if (start != 0).any():                                     # ... or the first real offset (padding first)
        winner = torch.maximum(winner, torch.as_tensor(start, dtype=torch.uint8, device=winner.device))
    taken = None if carried is None else carried[0] + (carried[1] - carried[0]) * better  # uint8, modulo 256
    for k, v in enumerate(views[2:], start=2):
        better = _beats(v, best, nan_wins)
        best = torch.maximum(best, v)
        winner = torch.maximum(winner, better.view(torch.uint8) * k)
        if carried is not None:
            taken += (carried[k] - taken) * better  # taken[better] = carried[k][better], uint8 arithmetic modulo 256
    return best, winner, taken


def _beats(v, best, nan_wins):
    """Where ``v`` takes over from ``best``: strictly larger, or (``nan_wins``) NaN."""
    better = v > best
    return better | v.isnan() if nan_wins else better


def _max_stages(x_pad, geometry, nan_wins):
    """The maximum of every window, its winning column and row offsets, all (N, C, H_out, W_out) (as numpy_nn's)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = geometry
    start_w = _first_real_offset(w_out, sw, pw, dw)
    start_h = _first_real_offset(h_out, sh, ph, dh)[:, None]
    cols, col_winner, _ = _running_max([x_pad[_offset(3, b, sw, dw, w_out)] for b in range(kw)], start_w, nan_wins)
    rows = [_offset(2, a, sh, dh, h_out) for a in range(kh)]
    out, row_winner, column = _running_max([cols[r] for r in rows], start_h, nan_wins, [col_winner[r] for r in rows])
    return out, column, row_winner


def max_pool2d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling; returns ``(out, cache)`` for `max_pool2d_backward` (see ``cnnlib.numpy_nn.pooling``).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out),
    H_out = floor((H + 2*pH - dH*(kH-1) - 1) / sH) + 1. Taught in 03_pooling.

    A window's last NaN wins, as in PyTorch. On the CPU the first pass ignores NaN and a second runs
    only if the output holds one (reading a CPU tensor costs no wait); on any other device a single pass
    applies the rule, since asking whether the output holds a NaN would wait for the device (a sync).
    """
    x, unbatched = _as_batch(x)
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    x_pad = _padded(x, geometry[2], _extent(*(geometry[i] for i in (0, 1, 3, 4))), float("-inf"))
    on_cpu = x.device.type == "cpu"
    out, col_winner, row_winner = _max_stages(x_pad, geometry, nan_wins=not on_cpu)
    if on_cpu and out.isnan().any():  # rare: redo with PyTorch's rule that a window's last NaN wins
        out, col_winner, row_winner = _max_stages(x_pad, geometry, nan_wins=True)
    cache = (col_winner, row_winner, x.shape, x_pad.shape, geometry, unbatched)
    return (out[0] if unbatched else out), cache


def _winner_flat_index(col_winner, row_winner, x_pad_shape, geometry):
    """For every output, row-major, the flat index in the padded input of its window's winner (as numpy_nn's)."""
    _, (sh, sw), _, (dh, dw), (h_out, w_out) = geometry
    n, c, h_pad, w_pad = x_pad_shape
    device = row_winner.device
    flat = row_winner.long() * (dh * w_pad)                                                 # a*dH rows down
    flat += col_winner if dw == 1 else col_winner.long() * dw                               # b*dW columns along
    flat += (torch.arange(0, h_out * sh, sh, device=device)[:, None] * w_pad
             + torch.arange(0, w_out * sw, sw, device=device))                              # the windows' corners
    flat += torch.arange(0, n * c * h_pad * w_pad, h_pad * w_pad, device=device).view(n, c, 1, 1)
    return flat.flatten()


def max_pool2d_backward(grad_output, cache):
    """Gradient of max pooling: each output's gradient is added (``scatter_add_``) at its window's winner.

    Where windows overlap, the CPU sums came out bit for bit equal to PyTorch's (measured on the bench's
    3x3/2 layer, float32 and float64, one and two threads; tests/test_torch_pooling.py checks a smaller one).
    Shape: grad_output (N, C, H_out, W_out) -> grad_input (N, C, H, W), unbatched alike. Taught in 03_pooling.
    """
    col_winner, row_winner, x_shape, x_pad_shape, geometry, unbatched = cache
    g = _check_grad_output(grad_output, (*x_shape[unbatched:2], *geometry[4]))
    grad_pad = g.new_zeros(x_pad_shape.numel())
    grad_pad.scatter_add_(0, _winner_flat_index(col_winner, row_winner, x_pad_shape, geometry), g.flatten())
    grad = _unpad(grad_pad.view(x_pad_shape), x_shape, geometry[2])
    return grad[0] if unbatched else grad


# -- average pooling ------------------------------------------------------------------------------------
def _as_divisor(divisor, like):
    return divisor if isinstance(divisor, int) else torch.as_tensor(divisor, dtype=like.dtype, device=like.device)


def _window_sum(x, axis, k, s, n_out):
    """The sum of the ``k`` offsets of every window along ``axis`` (2: rows, 3: columns), a new tensor."""
    first = x[_offset(axis, 0, s, 1, n_out)]
    total = first + x[_offset(axis, 1, s, 1, n_out)] if k > 1 else first.clone()  # two added in one pass
    for a in range(2, k):
        total += x[_offset(axis, a, s, 1, n_out)]
    return total


def _window_spread(share, axis, k, s, size):
    """The adjoint of `_window_sum`: written where windows do not overlap (s >= k), into no zeros where they tile
    (s == k), else added (see `cnnlib.numpy_nn.pooling`)."""
    shape = list(share.shape)
    shape[axis], n_out = size, shape[axis]
    grad = share.new_empty(shape) if s == k else share.new_zeros(shape)
    for a in range(k):
        if s >= k:
            grad[_offset(axis, a, s, 1, n_out)] = share
        else:
            grad[_offset(axis, a, s, 1, n_out)].add_(share)  # not +=, which copies the sum onto itself
    return grad


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                       divisor_override=None):
    """Average pooling; returns ``(out, cache)`` for `avg_pool2d_backward` (see ``cnnlib.numpy_nn.pooling``).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out). Taught in 03_pooling.
    """
    if not isinstance(count_include_pad, bool):
        raise ValueError(f"count_include_pad must be True or False, got {count_include_pad!r}")
    x, unbatched = _as_batch(x)
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode)
    (kh, kw), (sh, sw), padding, _, (h_out, w_out) = geometry
    divisor = _as_divisor(_divisor(x.shape, geometry, count_include_pad, divisor_override), x)
    x_pad = _padded(x, padding, _extent((kh, kw), (sh, sw), (1, 1), (h_out, w_out)), 0.0)
    cols = _window_sum(x_pad, 3, kw, sw, w_out)                          # (N, C, rows, W_out)
    out = _window_sum(cols, 2, kh, sh, h_out)                            # (N, C, H_out, W_out)
    out /= divisor
    cache = (x.shape, x_pad.shape, cols.shape, geometry, divisor, unbatched)
    return (out[0] if unbatched else out), cache


def avg_pool2d_backward(grad_output, cache):
    """Gradient of average pooling: each output's gradient over its divisor goes to every pixel of its window.

    Shape: grad_output (N, C, H_out, W_out) -> grad_input (N, C, H, W), unbatched alike. Taught in 03_pooling.
    """
    x_shape, x_pad_shape, cols_shape, geometry, divisor, unbatched = cache
    (kh, kw), (sh, sw), padding, _, (h_out, w_out) = geometry
    g = _check_grad_output(grad_output, (*x_shape[unbatched:2], h_out, w_out))
    share = (g.unsqueeze(0) if unbatched else g) / divisor
    grad_cols = _window_spread(share, 2, kh, sh, cols_shape[2])          # (N, C, rows, W_out)
    grad_pad = _window_spread(grad_cols, 3, kw, sw, x_pad_shape[3])      # (N, C, rows, columns)
    grad = _unpad(grad_pad, x_shape, padding)
    return grad[0] if unbatched else grad


# -- autograd nodes and the functions -------------------------------------------------------------------
class MaxPool2dFunction(torch.autograd.Function):
    """max_pool2d as an autograd node: forward keeps the winners (no tensor of the input), backward routes."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode):
        out, ctx.cache = max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        return max_pool2d_backward(grad_output, ctx.cache), None, None, None, None, None


class AvgPool2dFunction(torch.autograd.Function):
    """avg_pool2d as an autograd node: the cache holds shapes and the divisor only, no tensor of the input."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
        out, ctx.cache = avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                            divisor_override)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        return (avg_pool2d_backward(grad_output, ctx.cache),) + (None,) * 6


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """``torch.nn.functional.max_pool2d``, differentiable through `max_pool2d_backward`. Taught in 03_pooling."""
    require_tensor(x, "input")
    return MaxPool2dFunction.apply(x, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """``torch.nn.functional.avg_pool2d``, differentiable through `avg_pool2d_backward`. Taught in 03_pooling."""
    require_tensor(x, "input")
    return AvgPool2dFunction.apply(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


# -- the modules ----------------------------------------------------------------------------------------
class MaxPool2d(torch.nn.Module):
    """Max pooling with ``torch.nn.MaxPool2d``'s arguments, in its order (``return_indices=True`` is refused).

    Math: out[n, c, i, j] = max of the window x_pad[n, c, i*sH + a*dH, j*sW + b*dW] (padding -inf).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out). No parameters. Taught in 03_pooling.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        if return_indices:
            raise ValueError("return_indices=True is not supported; use max_pool2d_forward, whose cache holds "
                             "each window's winner")
        check_pool_arguments(kernel_size, stride, padding, dilation)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = False, ceil_mode

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(torch.nn.Module):
    """Average pooling with ``torch.nn.AvgPool2d``'s arguments, in its order.

    Math: out[n, c, i, j] = sum of the window x_pad[n, c, i*sH + a, j*sW + b] / divisor (padding 0).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out). No parameters. Taught in 03_pooling.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        check_pool_arguments(kernel_size, stride, padding)
        if divisor_override is not None:
            check_int(divisor_override, "divisor_override", minimum=1)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


# the naive loops live beside this module; imported last, since they use the helpers above
from cnnlib.torch_nn.pooling_naive import (avg_pool2d_backward_naive, avg_pool2d_naive,  # noqa: E402,F401
                                           max_pool2d_backward_naive, max_pool2d_naive)
