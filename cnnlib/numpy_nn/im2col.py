"""Padding, windows, im2col and col2im in NumPy: the unfolding behind `cnnlib.numpy_nn.conv` (taught in 02_convolution).

im2col copies every patch of the (padded) input into one column of a matrix, so that a convolution
becomes one matrix multiply; col2im is its adjoint, adding column gradients back onto the pixels they
were read from. `cnnlib.torch_nn.im2col` has the same functions, names and layouts.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _sides(padding):
    """(pH, pW) or ((top, bottom), (left, right)) as the second form."""
    return tuple(p if isinstance(p, tuple) else (p, p) for p in padding)


def pad2d(x: np.ndarray, padding, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of an (N, C, H, W) array: (pH, pW) on each side, or ((top, bottom), (left, right))."""
    (top, bottom), (left, right) = _sides(padding)
    if top == bottom == left == right == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def unpad2d(x_pad: np.ndarray, padding, hw) -> np.ndarray:
    """The image's own pixels of a padded (N, C, Hp, Wp) array, as a contiguous (N, C, H, W) copy."""
    (top, _), (left, _) = _sides(padding)
    return np.ascontiguousarray(x_pad[:, :, top:top + hw[0], left:left + hw[1]])


def windows(x_pad: np.ndarray, kernel_hw: tuple[int, int], stride: tuple[int, int],
            out_hw: tuple[int, int], dilation=(1, 1)) -> np.ndarray:
    """A read-only strided view of every window: (N, C, H_out, W_out, kH, kW), no copy.

    ``windows(...)[n, c, i, j, a, b]`` is ``x_pad[n, c, i*sH + a*dH, j*sW + b*dW]`` (d: the dilation).
    """
    (sh, sw), (h_out, w_out), (dh, dw) = stride, out_hw, dilation
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel_hw, dilation))
    view = sliding_window_view(x_pad, span, axis=(2, 3))[..., ::dh, ::dw]  # (N, C, Hp-span+1, ..., kH, kW)
    return view[:, :, :(h_out - 1) * sh + 1:sh, :(w_out - 1) * sw + 1:sw]  # (N, C, H_out, W_out, kH, kW)


def im2col(x_pad: np.ndarray, kernel_hw, stride, out_hw, dilation=(1, 1), image_last: bool = False) -> np.ndarray:
    """The column matrix: one column per output pixel (n, i, j), one row per filter entry (c, a, b).

    Shape: (C*kH*kW, N*H_out*W_out), C-contiguous: column (n, i, j) is the patch under output
    pixel (i, j) of image n, unrolled. This is the one unfolded copy of the input. Its rows run
    along the output pixels, so the strided copy reads and writes long runs of pixels (and
    `col2im` adds long runs back). The rows of channel group g are the g-th block of rows.
    ``image_last=True`` orders the columns (i, j, n) instead, for small images: runs of W_out*N
    numbers rather than W_out (LeNet's C3 on 64 images: 0.24 instead of 0.51 ms on the bench machine).
    """
    n, c = x_pad.shape[:2]
    kh, kw = kernel_hw
    h_out, w_out = out_hw
    if image_last and h_out * w_out > 1:  # (one window: both orders are the same) an (N, C, Hp, Wp) view of a
        # (C, Hp, Wp, N) copy, the image index running fastest
        x_pad = np.ascontiguousarray(x_pad.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    order = (1, 4, 5, 2, 3, 0) if image_last else (1, 4, 5, 0, 2, 3)   # (C, kH, kW, Ho, Wo, N) or (..., N, Ho, Wo)
    view = windows(x_pad, kernel_hw, stride, out_hw, dilation).transpose(order)
    return view.copy().reshape(c * kh * kw, n * h_out * w_out)  # a fresh, writable copy


def col2im(grad_columns: np.ndarray, x_pad_shape, kernel_hw, stride, out_hw, dilation=(1, 1)) -> np.ndarray:
    """The adjoint of `im2col`: add every patch entry back onto the pixel it was read from.

    Overlapping windows read a pixel several times, so its gradient is the sum. The loop runs
    over the kH*kW kernel offsets only; each step adds a whole (C, N, H_out, W_out) block (or, where there
    are fewer windows than offsets, over the H_out*W_out windows, each adding a (C, N, kH, kW) block).
    ``grad_columns`` has `im2col`'s shape (C*kH*kW, N*H_out*W_out). Returns the (N, C, Hp, Wp)
    gradient of the padded input.
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out), (dh, dw) = kernel_hw, stride, out_hw, dilation
    cols = grad_columns.reshape(c, kh, kw, n, h_out, w_out)   # a view
    grad = np.zeros((c, n, hp, wp), dtype=cols.dtype)          # channel-first, like cols: long contiguous adds
    if h_out * w_out < kh * kw:  # fewer windows than offsets (LeNet's C5: one): loop over the windows instead
        for i in range(h_out):
            for j in range(w_out):
                grad[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw] += \
                    cols[..., i, j].transpose(0, 3, 1, 2)  # (C, N, kH, kW)
        return grad.transpose(1, 0, 2, 3)
    for a in range(kh):
        for b in range(kw):
            grad[:, :, a * dh:a * dh + (h_out - 1) * sh + 1:sh, b * dw:b * dw + (w_out - 1) * sw + 1:sw] += cols[:, a, b]
    return grad.transpose(1, 0, 2, 3)  # (N, C, Hp, Wp)


def col2im_batch_last(grad_columns, x_pad_shape, kernel_hw, stride, out_hw, dilation=(1, 1)) -> np.ndarray:
    """`col2im` for column gradients whose pixels run (i, j, n), the image index last: the same sums, faster.

    ``grad_columns``: (C*kH*kW, H_out*W_out*N). The gradient is built as (C, Hp, Wp, N), so each
    of the kH*kW slice additions runs over W_out*N contiguous numbers (640 for LeNet's C3) instead
    of W_out (10): NumPy's per-run overhead, not memory, was what `col2im` spent its time on
    (LeNet's C3, GEMM and fold together: 1.2 ms with `col2im`, 0.64 ms with this; measured on the
    bench machine).
    Returns the (N, C, Hp, Wp) gradient of the padded input, a transposed view. `cnnlib.numpy_nn.conv`
    uses it wherever the column gradients are a new array: on small images (columns ordered (i, j, n)
    throughout) and where the columns are kept. A large layer unfolded again writes its column gradients
    over its (n, i, j) columns and folds them with `col2im`.
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out), (dh, dw) = kernel_hw, stride, out_hw, dilation
    cols = grad_columns.reshape(c, kh, kw, h_out, w_out, n)  # a view
    grad = np.zeros((c, hp, wp, n), dtype=cols.dtype)
    if h_out * w_out < kh * kw:  # fewer windows than offsets: loop over the windows
        for i in range(h_out):
            for j in range(w_out):
                grad[:, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw] += \
                    cols[:, :, :, i, j]  # (C, kH, kW, N)
        return grad.transpose(3, 0, 1, 2)
    for a in range(kh):
        for b in range(kw):
            grad[:, a * dh:a * dh + (h_out - 1) * sh + 1:sh, b * dw:b * dw + (w_out - 1) * sw + 1:sw] += cols[:, a, b]
    return grad.transpose(3, 0, 1, 2)  # (N, C, Hp, Wp)
