"""The convolution of `cnnlib.torch_nn.conv` as loops over output pixels, forward and backward (as the NumPy loops).

    out[n, co, i, j] = bias[co] + sum_{c, a, b} weight[co, c, a, b] * x_pad[n, g*C_g + c, i*sH + a*dH, j*sW + b*dW]

Each loop step handles one output pixel (i, j) of one group of filters, vectorized over the batch
and the group's filters: slow, but plain. Taught in 02_convolution.
"""
from __future__ import annotations

import torch

from cnnlib.torch_nn.conv import _prepare, pad2d, unpad2d


def _window(i, j, kernel_hw, args):
    """Rows and columns of the patch under output pixel (i, j): every dH-th row and dW-th column."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_hw, args.stride, args.dilation
    return slice(i * sh, i * sh + dh * (kh - 1) + 1, dh), slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)


def conv2d_naive(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The convolution as loops over groups and output pixels. Shape: as `cnnlib.torch_nn.conv.conv2d_forward`."""
    x, args, batched = _prepare(x, weight, bias, stride, padding, dilation, groups)
    c_out, c_group, kh, kw = weight.shape
    (h_out, w_out), per_group = args.out_hw, c_out // args.groups
    if x.shape[1] == 0:                                                # PyTorch's answer without input channels
        out = x.new_zeros(x.shape[0], 0, h_out, w_out)
        return out if batched else out[0]
    x_pad = pad2d(x, args.padding)                                     # (N, C_in, Hp, Wp)
    out = x.new_zeros(x.shape[0], c_out, h_out, w_out)                 # (N, C_out, H_out, W_out)
    for g in range(args.groups):
        channels, filters = slice(g * c_group, (g + 1) * c_group), slice(g * per_group, (g + 1) * per_group)
        for i in range(h_out):
            for j in range(w_out):
                rows, cols = _window(i, j, (kh, kw), args)
                patch = x_pad[:, channels, rows, cols]                 # (N, C_g, kH, kW)
                out[:, filters, i, j] = torch.einsum("nchw,ochw->no", patch, weight[filters])
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out if batched else out[0]


def conv2d_backward_naive(grad_output, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The backward pass as loops: each output pixel sends its gradient back to its patch and its filters.

    Math: for every (i, j), with g = grad_output[:, group's filters, i, j] of shape (N, C_out/groups):
    grad_weight[filters] += g^T . patch,  grad_x_pad[:, channels, window] += g . weight[filters],
    grad_bias += sum_n g. Shape: as `cnnlib.torch_nn.conv.conv2d_backward`.
    """
    x, args, batched = _prepare(x, weight, bias, stride, padding, dilation, groups)
    c_out, c_group, kh, kw = weight.shape
    (h_out, w_out), per_group = args.out_hw, c_out // args.groups
    grad_weight = torch.zeros_like(weight)
    if x.shape[1] == 0:                                                # PyTorch's empty output: zero gradients
        grad_bias = None if bias is None else torch.zeros_like(bias)
        return (torch.zeros_like(x) if batched else torch.zeros_like(x[0])), grad_weight, grad_bias
    grad_output = grad_output.reshape(x.shape[0], c_out, h_out, w_out)
    x_pad = pad2d(x, args.padding)
    grad_pad = torch.zeros_like(x_pad)
    grad_bias = None if bias is None else grad_output.sum(dim=(0, 2, 3))
    for g in range(args.groups):
        channels, filters = slice(g * c_group, (g + 1) * c_group), slice(g * per_group, (g + 1) * per_group)
        for i in range(h_out):
            for j in range(w_out):
                rows, cols = _window(i, j, (kh, kw), args)
                grad = grad_output[:, filters, i, j]                   # (N, C_out/groups)
                grad_weight[filters] += torch.einsum("no,nchw->ochw", grad, x_pad[:, channels, rows, cols])
                grad_pad[:, channels, rows, cols] += torch.einsum("no,ochw->nchw", grad, weight[filters])
    grad_input = unpad2d(grad_pad, args.padding, x.shape[2:])
    return (grad_input if batched else grad_input[0]), grad_weight, grad_bias
