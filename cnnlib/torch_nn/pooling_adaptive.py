"""Adaptive average pooling in tensor operations, backward by hand: ``cnnlib.numpy_nn.pooling_adaptive`` again.

The same windows (start = floor(i*H/out), end = ceil((i+1)*H/out)), the same two matrix
products ``out = A_h @ x @ A_w.T`` and backward ``A_h.T @ g @ A_w``, on tensors of any device and
dtype. ``torch.nn.functional.adaptive_avg_pool2d`` is never called; `AdaptiveAvgPool2dFunction`
hands the pair to autograd and keeps only shapes on ``ctx`` (no tensor of the input is needed).
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.numpy_nn.pooling_adaptive import adaptive_output_size, adaptive_windows, check_adaptive_output_size
from cnnlib.torch_nn.autocast import autocast_off
from cnnlib.torch_nn.linear import require_tensor


def _check_input(x):
    require_tensor(x, "input")
    if x.dim() not in (3, 4):
        raise ValueError(f"input must have shape (N, C, H, W) or (C, H, W), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"input must be a floating-point tensor, got dtype {x.dtype}")
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        raise ValueError(f"input must have non-zero height and width (as torch demands), got shape {tuple(x.shape)}")


def averaging_matrix(size: int, n_out: int, like: torch.Tensor) -> torch.Tensor:
    """(n_out, size) on ``like``'s device and dtype: row i is 1 / window length on output i's window."""
    a = torch.zeros(n_out, size, dtype=like.dtype, device=like.device)
    for i, (start, end) in enumerate(adaptive_windows(size, n_out)):
        a[i, start:end] = 1.0 / (end - start)
    return a


def adaptive_avg_pool2d_forward(x, output_size):
    """Forward pass: the output and the cache (the input's shape, dtype and device) for the backward."""
    _check_input(x)
    h, w = x.shape[-2:]
    out_h, out_w = adaptive_output_size(output_size, (h, w))
    out = averaging_matrix(h, out_h, x) @ x @ averaging_matrix(w, out_w, x).T   # (..., out_h, out_w)
    return out, (tuple(x.shape), (out_h, out_w))


def adaptive_avg_pool2d_backward(grad_output, cache):
    """Backward pass: each output's gradient shared equally by the pixels of its window."""
    x_shape, (out_h, out_w) = cache
    expected = (*x_shape[:-2], out_h, out_w)
    if tuple(grad_output.shape) != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {tuple(grad_output.shape)}")
    h, w = x_shape[-2:]
    return averaging_matrix(h, out_h, grad_output).T @ grad_output @ averaging_matrix(w, out_w, grad_output)


class AdaptiveAvgPool2dFunction(torch.autograd.Function):
    """adaptive_avg_pool2d as an autograd node: ``ctx`` holds two shapes, no tensor."""

    @staticmethod
    @autocast_off  # our two matrix products are a pooling, not a matmul autocast would cast: the input's dtype
    def forward(ctx, x, output_size):
        out, ctx.cache = adaptive_avg_pool2d_forward(x, output_size)
        return out

    @staticmethod
    @once_differentiable
    @autocast_off
    def backward(ctx, grad_output):
        return adaptive_avg_pool2d_backward(grad_output, ctx.cache), None


def adaptive_avg_pool2d(x, output_size):
    """``torch.nn.functional.adaptive_avg_pool2d``, differentiable through `adaptive_avg_pool2d_backward`."""
    _check_input(x)
    return AdaptiveAvgPool2dFunction.apply(x, output_size)


# -- the naive loops, for reading: one window at a time -------------------------------------------------
def adaptive_avg_pool2d_naive(x, output_size):
    """Adaptive average pooling as loops over output pixels: the mean of each window."""
    _check_input(x)
    h, w = x.shape[-2:]
    out_h, out_w = adaptive_output_size(output_size, (h, w))
    out = x.new_zeros(*x.shape[:-2], out_h, out_w)
    for i, (r0, r1) in enumerate(adaptive_windows(h, out_h)):
        for j, (c0, c1) in enumerate(adaptive_windows(w, out_w)):
            out[..., i, j] = x[..., r0:r1, c0:c1].mean(dim=(-2, -1))
    return out


class AdaptiveAvgPool2d(torch.nn.Module):
    """Average pooling to a fixed output size, with ``torch.nn.AdaptiveAvgPool2d``'s argument.

    Math: out[n, c, i, j] = mean of x[n, c, start(i):end(i), start(j):end(j)] with
    start(i) = floor(i * H / out_h), end(i) = ceil((i + 1) * H / out_h).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, out_h, out_w) or (C, out_h, out_w). No parameters.
    """

    def __init__(self, output_size):
        super().__init__()
        check_adaptive_output_size(output_size)
        self.output_size = output_size

    def forward(self, x):
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
