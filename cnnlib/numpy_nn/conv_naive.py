"""The convolution of `cnnlib.numpy_nn.conv` as plain loops, forward and backward: slow, but it reads like the formula.

    out[n, co, i, j] = bias[co] + sum_{c, a, b} weight[co, c, a, b] * x_pad[n, g*C_g + c, i*sH + a*dH, j*sW + b*dW]

with ``g = co // (C_out / groups)`` the group of filter ``co`` and ``C_g = C_in / groups`` the channels
each group reads. The vectorized pair in `cnnlib.numpy_nn.conv` computes the same numbers; the tests
check one against the other. Taught in 02_convolution.
"""
from __future__ import annotations

import numpy as np

from cnnlib.numpy_nn.conv import _prepare, no_channels_backward, pad2d, unpad2d


def _window(channels, i, j, kernel_hw, args):
    """Index of the (C_g, kH, kW) patch under output pixel (i, j) in one padded image: every dH-th row, dW-th column."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_hw, args.stride, args.dilation
    rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
    cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
    return channels, rows, cols


def conv2d_naive(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """The convolution as four nested loops over (n, c_out, i, j).

    Shape: as `cnnlib.numpy_nn.conv.conv2d_forward` ((N, C_in, H, W) or (C_in, H, W) input).
    """
    x, weight, bias, args, batched = _prepare(x, weight, bias, stride, padding, dilation, groups)
    c_out, c_group, kh, kw = weight.shape
    n_batch, (h_out, w_out) = x.shape[0], args.out_hw
    per_group = c_out // args.groups                              # filters in each group
    if x.shape[1] == 0:                                           # PyTorch's answer without input channels
        return np.zeros((n_batch, 0, h_out, w_out) if batched else (0, h_out, w_out), x.dtype)
    x_pad = pad2d(x, args.padding)
    out = np.zeros((n_batch, c_out, h_out, w_out), dtype=x.dtype)
    for n in range(n_batch):
        for co in range(c_out):
            g = co // per_group
            channels = slice(g * c_group, (g + 1) * c_group)      # the input channels filter co reads
            for i in range(h_out):
                for j in range(w_out):
                    patch = x_pad[n][_window(channels, i, j, (kh, kw), args)]  # (C_g, kH, kW)
                    out[n, co, i, j] = np.sum(patch * weight[co])
            if bias is not None:
                out[n, co] += bias[co]
    return out if batched else out[0]


def conv2d_backward_naive(grad_output, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The backward pass as loops: each output pixel sends its gradient back to its patch and its filter.

    Math: for every (n, co, i, j) with g = grad_output[n, co, i, j]:
    grad_weight[co] += g * patch,  grad_x_pad[n, group's channels, window] += g * weight[co],  grad_bias[co] += g.

    Shape: as `cnnlib.numpy_nn.conv.conv2d_backward`; returns ``(grad_input, grad_weight, grad_bias_or_None)``.
    """
    x, weight, bias, args, batched = _prepare(x, weight, bias, stride, padding, dilation, groups)
    c_out, c_group, kh, kw = weight.shape
    n_batch, (h_out, w_out) = x.shape[0], args.out_hw
    per_group = c_out // args.groups
    if x.shape[1] == 0:                                           # PyTorch's empty output: zero gradients
        grad_input, grad_weight, grad_bias = no_channels_backward(grad_output, (x.shape, weight, bias is not None,
                                                                                args), batched)
        return (grad_input if batched else grad_input[0]), grad_weight, grad_bias
    grad_output = np.asarray(grad_output, dtype=x.dtype).reshape(n_batch, c_out, h_out, w_out)
    x_pad = pad2d(x, args.padding)
    grad_pad = np.zeros_like(x_pad)
    grad_weight = np.zeros_like(weight)
    grad_bias = None if bias is None else np.zeros_like(bias)
    for n in range(n_batch):
        for co in range(c_out):
            g_index = co // per_group
            channels = slice(g_index * c_group, (g_index + 1) * c_group)
            for i in range(h_out):
                for j in range(w_out):
                    g = grad_output[n, co, i, j]
                    window = _window(channels, i, j, (kh, kw), args)
                    grad_weight[co] += g * x_pad[n][window]
                    grad_pad[n][window] += g * weight[co]
                    if grad_bias is not None:
                        grad_bias[co] += g
    grad_input = unpad2d(grad_pad, args.padding, x.shape[2:])
    return (grad_input if batched else grad_input[0]), grad_weight, grad_bias
