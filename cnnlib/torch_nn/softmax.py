"""Softmax and log-softmax in PyTorch tensor operations, backward by hand (taught in 04_losses).

The same formulas, step for step, as ``cnnlib.numpy_nn.softmax``, on tensors of any device and
dtype: softmax(x)_i = exp(x_i) / sum_j exp(x_j), and its logarithm, which cross-entropy needs.
Both subtract the maximum first, so logits of ±1e4 neither overflow nor give nan.

The autograd nodes keep their output with ``ctx.save_for_backward``: if it is changed in place
before ``backward()`` (``p.mul_(2)``), autograd's version counter raises, as it does for
``torch.softmax``, instead of a gradient computed from the changed values.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.checks import check_int


def check_tensor(value, name: str):
    """A TypeError unless ``value`` is a tensor: torch_nn works on tensors, numpy_nn on arrays."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}; pass torch.as_tensor({name}) "
                        f"(the NumPy twin in cnnlib.numpy_nn takes arrays)")
    return value


def check_float_tensor(value, name: str):
    """A floating-point tensor, or a TypeError naming ``name`` (softmax and losses need real numbers)."""
    check_tensor(value, name)
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}; convert with "
                        f"{name}.double() or {name}.float()")
    return value


def _check_dim(dim, ndim):
    dim = check_int(dim, "dim")
    if not -ndim <= dim < ndim:
        raise ValueError(f"dim must be in [{-ndim}, {ndim - 1}] for an input with {ndim} dimensions, got {dim}")
    return dim


def log_softmax_forward(input, dim=-1):
    """log_softmax(x)_i = x_i - max(x) - log(sum_j exp(x_j - max(x))); the cache is (output, dim).

    Subtracting the maximum changes nothing mathematically but keeps exp in [0, 1]: no overflow.
    Shape: any -> the same.
    """
    check_float_tensor(input, "input")
    dim = _check_dim(dim, max(input.ndim, 1))
    if input.numel() == 0:  # nothing to normalize (amax would refuse an empty axis)
        out = input.detach().clone()
        return out, (out, dim)
    shifted = input - input.amax(dim=dim, keepdim=True)
    out = shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))
    return out, (out, dim)


def log_softmax_backward(grad_output, cache):
    """d/dx_i of sum_k g_k log_softmax_k = g_i - softmax_i * sum_k g_k."""
    out, dim = cache
    return grad_output - torch.exp(out) * grad_output.sum(dim=dim, keepdim=True)


def softmax_forward(input, dim=-1):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) = exp(log_softmax(x)_i); the cache is (output, dim)."""
    log_p, (_, dim) = log_softmax_forward(input, dim)
    out = torch.exp(log_p)
    return out, (out, dim)


def softmax_backward(grad_output, cache):
    """d/dx_i of sum_k g_k softmax_k = softmax_i * (g_i - sum_k g_k softmax_k)."""
    out, dim = cache
    return out * (grad_output - (grad_output * out).sum(dim=dim, keepdim=True))


class LogSoftmaxFunction(torch.autograd.Function):
    """log_softmax as an autograd node: backward calls `log_softmax_backward`."""

    @staticmethod
    def forward(ctx, input, dim):
        out, (_, ctx.dim) = log_softmax_forward(input, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        return log_softmax_backward(grad_output, (*ctx.saved_tensors, ctx.dim)), None


class SoftmaxFunction(torch.autograd.Function):
    """softmax as an autograd node: backward calls `softmax_backward`."""

    @staticmethod
    def forward(ctx, input, dim):
        out, (_, ctx.dim) = softmax_forward(input, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        return softmax_backward(grad_output, (*ctx.saved_tensors, ctx.dim)), None


def log_softmax(input, dim=-1):
    """log_softmax(x)_i = x_i - log(sum_j exp(x_j)) along ``dim``, computed stably."""
    return LogSoftmaxFunction.apply(input, dim)


def softmax(input, dim=-1):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``dim``: probabilities that sum to 1."""
    return SoftmaxFunction.apply(input, dim)
