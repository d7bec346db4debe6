"""Padding, windows, im2col and col2im in PyTorch, on any device: `cnnlib.numpy_nn.im2col`'s functions with the
same names and layouts, behind `cnnlib.torch_nn.conv` (taught in 02_convolution).
"""
from __future__ import annotations

import torch.nn.functional as F

from cnnlib.numpy_nn.im2col import _sides  # shared: no arrays involved


# -- the same names and layouts as cnnlib.numpy_nn.im2col -------------------------------------------------
def pad2d(x, padding, value: float = 0.0):
    """Pad the last two axes of an (N, C, H, W) tensor: (pH, pW) on each side, or ((top, bottom), (left, right))."""
    (top, bottom), (left, right) = _sides(padding)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)  # (N, C, H+top+bottom, W+left+right)


def unpad2d(x_pad, padding, hw):
    """The image's own pixels of a padded (N, C, Hp, Wp) tensor, as a contiguous (N, C, H, W) tensor."""
    (top, _), (left, _) = _sides(padding)
    return x_pad[:, :, top:top + hw[0], left:left + hw[1]].contiguous()


def windows(x_pad, kernel_hw, stride, out_hw, dilation=(1, 1)):
    """A strided view of every window: (N, C, H_out, W_out, kH, kW), no copy.

    ``windows(...)[n, c, i, j, a, b]`` is ``x_pad[n, c, i*sH + a*dH, j*sW + b*dW]`` (d: the dilation).
    """
    (kh, kw), (sh, sw), (h_out, w_out), (dh, dw) = kernel_hw, stride, out_hw, dilation
    view = x_pad.unfold(2, dh * (kh - 1) + 1, sh).unfold(3, dw * (kw - 1) + 1, sw)  # (N, C, ., ., spanH, spanW)
    return view[:, :, :h_out, :w_out, ::dh, ::dw]                                   # (N, C, H_out, W_out, kH, kW)


def im2col(x_pad, kernel_hw, stride, out_hw, dilation=(1, 1), image_last: bool = False):
    """The column matrix: one column per output pixel (n, i, j), one row per filter entry (c, a, b).

    Shape: (C*kH*kW, N*H_out*W_out), contiguous, as in the NumPy reference. This is the one unfolded
    copy of the input; its rows run along the output pixels, so the strided copy reads and writes
    long runs of pixels, and so does `col2im`. ``image_last=True`` orders the columns (i, j, n), as
    numpy_nn's, for small images (LeNet's C3 on 64 images: 0.09 instead of 0.23 ms on the bench machine).
    """
    n, c = x_pad.shape[:2]
    (kh, kw), (h_out, w_out) = kernel_hw, out_hw
    if image_last and h_out * w_out > 1:  # (one window: both orders are the same) an (N, C, Hp, Wp) view of a
        # (C, Hp, Wp, N) copy, the image index running fastest
        x_pad = x_pad.permute(1, 2, 3, 0).contiguous().permute(3, 0, 1, 2)
    order = (1, 4, 5, 2, 3, 0) if image_last else (1, 4, 5, 0, 2, 3)   # (C, kH, kW, Ho, Wo, N) or (..., N, Ho, Wo)
    view = windows(x_pad, kernel_hw, stride, out_hw, dilation).permute(order)
    return view.reshape(c * kh * kw, n * h_out * w_out)  # the copy (a view only when no copy is needed)


def col2im(grad_columns, x_pad_shape, kernel_hw, stride, out_hw, dilation=(1, 1)):
    """The adjoint of `im2col`: add every patch entry back onto the pixel it was read from.

    Overlapping windows read a pixel several times, so its gradient is the sum. The loop runs
    over the kH*kW kernel offsets only; each step adds a whole (C, N, H_out, W_out) block (or, where there
    are fewer windows than offsets, over the H_out*W_out windows, each adding a (C, N, kH, kW) block).
    ``grad_columns`` has `im2col`'s shape (C*kH*kW, N*H_out*W_out). Returns the (N, C, Hp, Wp)
    gradient of the padded input.
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out), (dh, dw) = kernel_hw, stride, out_hw, dilation
    # view.add_(block), not view += block: Python's += on a subscript also writes the sum back with a
    # copy_ of every element onto itself (LeNet's C3 fold: 0.30 -> 0.24 ms on the bench machine)
    cols = grad_columns.reshape(c, kh, kw, n, h_out, w_out)  # a view when contiguous
    grad = cols.new_zeros(c, n, hp, wp)  # channel-first, like cols: long contiguous adds; cols' device and dtype
    if h_out * w_out < kh * kw:  # fewer windows than offsets (LeNet's C5: one): loop over the windows instead
        for i in range(h_out):
            for j in range(w_out):
                grad[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw].add_(
                    cols[..., i, j].permute(0, 3, 1, 2))  # (C, N, kH, kW)
        return grad.permute(1, 0, 2, 3)
    for a in range(kh):
        rows = slice(a * dh, a * dh + (h_out - 1) * sh + 1, sh)
        for b in range(kw):
            columns = slice(b * dw, b * dw + (w_out - 1) * sw + 1, sw)
            grad[:, :, rows, columns].add_(cols[:, a, b])
    return grad.permute(1, 0, 2, 3)  # (N, C, Hp, Wp)


def col2im_batch_last(grad_columns, x_pad_shape, kernel_hw, stride, out_hw, dilation=(1, 1)):
    """`col2im` for column gradients whose pixels run (i, j, n), the image index last (as numpy_nn's).

    ``grad_columns``: (C*kH*kW, H_out*W_out*N). Built as (C, Hp, Wp, N), each slice addition runs
    over W_out*N contiguous numbers instead of W_out (LeNet's C3, GEMM and fold together: 0.70 ms with
    `col2im`, 0.55 ms with this; measured on the bench machine). Returns the (N, C, Hp, Wp) gradient
    of the padded input, a permuted view. Used where numpy_nn uses it (see `cnnlib.numpy_nn.im2col`).
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out), (dh, dw) = kernel_hw, stride, out_hw, dilation
    cols = grad_columns.reshape(c, kh, kw, h_out, w_out, n)
    grad = cols.new_zeros(c, hp, wp, n)
    if h_out * w_out < kh * kw:  # fewer windows than offsets: loop over the windows
        for i in range(h_out):
            for j in range(w_out):
                grad[:, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw].add_(
                    cols[:, :, :, i, j])  # (C, kH, kW, N)
        return grad.permute(3, 0, 1, 2)
    for a in range(kh):
        rows = slice(a * dh, a * dh + (h_out - 1) * sh + 1, sh)
        for b in range(kw):
            columns = slice(b * dw, b * dw + (w_out - 1) * sw + 1, sw)
            grad[:, rows, columns].add_(cols[:, a, b])
    return grad.permute(3, 0, 1, 2)  # (N, C, Hp, Wp)
