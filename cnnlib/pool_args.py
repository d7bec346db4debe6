"""The arguments of a 2-D pooling window, checked once for cnnlib.numpy_nn and cnnlib.torch_nn.

``torch.nn.functional.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)`` and
``avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)``
accept: ``kernel_size``, ``stride`` (``None``: the kernel size), ``padding`` and (max pooling only)
``dilation`` as an int or a pair (h, w); padding at most half the kernel; ``ceil_mode`` to keep a last, partial window
that starts inside the input or its left padding. `pool_geometry` checks them against the input's
shape and returns the pairs and the output size; `_divisor` is average pooling's divisor, counted as
PyTorch counts it. The slices every window offset reads (`_offset`) are shared by both libraries'
pooling too. Each refusal is a ValueError naming the argument and what would be right (as in
`cnnlib.conv_args`, the convolution's counterpart).
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_int, check_pool_padding, pair


def pool_geometry(x_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Check a pooling window as PyTorch does; return ``(kernel, stride, padding, dilation, out_hw)`` pairs.

    H_out = floor((H + 2*pH - dH*(kH-1) - 1) / sH) + 1 (ceil with ``ceil_mode``, but a last window
    must start inside the input or its left padding). Inputs are (N, C, H, W) or (C, H, W); only
    the batch may be empty, as in PyTorch.
    """
    if len(x_shape) not in (3, 4):
        raise ValueError(f"input must have 4 dimensions (N, C, H, W) or 3 (C, H, W), got shape {tuple(x_shape)}")
    if 0 in tuple(x_shape)[-3:]:
        raise ValueError(f"input of shape {tuple(x_shape)} has an empty C, H or W; only the batch "
                         f"dimension may be 0 (as in PyTorch)")
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    stride = kernel if stride is None else pair(stride, "stride", minimum=1)
    padding = pair(padding, "padding", minimum=0)
    dilation = pair(dilation, "dilation", minimum=1)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise ValueError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    check_pool_padding(kernel, padding)
    out_hw = []
    for size, k, s, p, d in zip(x_shape[-2:], kernel, stride, padding, dilation):
        room = size + 2 * p - d * (k - 1) - 1
        n_out = (-(-room // s) if ceil_mode else room // s) + 1
        if ceil_mode and (n_out - 1) * s >= size + p:  # PyTorch's rule: no window starts in the right padding
            n_out -= 1
        if n_out < 1:
            span = tuple(d_ * (k_ - 1) + 1 for k_, d_ in zip(kernel, dilation))
            padded = tuple(n + 2 * p_ for n, p_ in zip(x_shape[-2:], padding))
            raise ValueError(
                f"kernel_size {kernel}" + (f" (spanning {span} with dilation {dilation})" if dilation != (1, 1) else "")
                + f" is larger than the padded input {padded} (input {tuple(x_shape[-2:])} with padding {padding}); "
                f"use a smaller kernel or more padding"
            )
        if p:  # (without padding every window starts on a real pixel)
            first = _first_real_offset(n_out, s, p, d)
            if np.any((first >= k) | (np.arange(n_out) * s - p + first * d >= size)):
                raise ValueError(
                    f"with dilation {dilation} and padding {padding}, a window on input {tuple(x_shape[-2:])} "
                    f"covers padding only (PyTorch then reads outside the input); use less padding or a smaller "
                    f"dilation"
                )
        out_hw.append(n_out)
    return kernel, stride, padding, dilation, tuple(out_hw)


def _extent(kernel, stride, dilation, out_hw):
    """Rows and columns of the padded input that the windows read: (H_out-1)*sH + dH*(kH-1) + 1, and W's."""
    return tuple((o - 1) * s + d * (k - 1) + 1 for k, s, d, o in zip(kernel, stride, dilation, out_hw))


def _first_real_offset(n_out, s, p, d) -> np.ndarray:
    """For each window along one axis, its first offset that lands on a real pixel, not on the padding.

    PyTorch starts each window's maximum there, so a window of -inf sends its gradient to that pixel.
    """
    start = np.arange(n_out) * s - p                        # the window's first row, in input coordinates
    return np.where(start < 0, -(start // d), 0)              # ceil(-start / d) offsets skip the padding


def _offset(axis, a, s, d, n_out):
    """The slice along ``axis`` (2 for rows, 3 for columns) that offset ``a`` of every window reads."""
    index = [slice(None)] * 4
    index[axis] = slice(a * d, a * d + (n_out - 1) * s + 1, s)
    return tuple(index)


def _window_counts(size, n_out, k, s, p, include_pad) -> np.ndarray:
    """How many rows (or columns) of each window count in the divisor, as PyTorch counts them."""
    start = np.arange(n_out) * s - p
    end = np.minimum(start + k, size + p)             # a ceil_mode window stops at the right padding
    if not include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return end - start


def _divisor(x_shape, geometry, count_include_pad, divisor_override):
    (kh, kw), (sh, sw), (ph, pw), _, (h_out, w_out) = geometry
    if divisor_override is not None:
        return check_int(divisor_override, "divisor_override", minimum=1)
    if ph == pw == 0 and (h_out - 1) * sh + kh <= x_shape[2] and (w_out - 1) * sw + kw <= x_shape[3]:
        return kh * kw  # every window lies inside the input (the common case: no counting needed)
    rows = _window_counts(x_shape[2], h_out, kh, sh, ph, count_include_pad)
    cols = _window_counts(x_shape[3], w_out, kw, sw, pw, count_include_pad)
    if np.all(rows == kh) and np.all(cols == kw):
        return kh * kw
    return (rows[:, None] * cols[None, :]).astype(np.float64)  # (H_out, W_out)


def check_pool_arguments(kernel_size, stride=None, padding=0, dilation=1) -> None:
    """The checks a pooling module makes when it is built (the input's size is checked at forward)."""
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    if stride is not None:
        pair(stride, "stride", minimum=1)
    pair(dilation, "dilation", minimum=1)
    check_pool_padding(kernel, pair(padding, "padding", minimum=0))
