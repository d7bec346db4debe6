"""Dropout in PyTorch tensor operations, backward by hand (taught in 08_case_studies_alexnet_vgg).

The same algorithm as ``cnnlib.numpy_nn.dropout``: while training, each unit is kept with
probability ``1 - p`` and scaled by ``1 / (1 - p)`` (inverted dropout), else zeroed; in evaluation
the input is returned unchanged. The mask is drawn with ``Tensor.bernoulli_(1 - p)`` from PyTorch's
global generator, as ``torch.nn.Dropout`` draws it on the CPU, so after the same
``torch.manual_seed`` the two drop the same units there (other devices may draw differently).
`DropoutFunction` saves the mask with ``ctx.save_for_backward``; backward multiplies by it.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.numpy_nn.dropout import check_dropout_p


def dropout_mask(x, p: float):
    """The scaled mask, like ``x``: ``1 / (1 - p)`` with probability ``1 - p``, else 0 (all 0 for p = 1)."""
    if p == 1.0:
        return torch.zeros_like(x)
    return torch.empty_like(x).bernoulli_(1.0 - p).div_(1.0 - p)


def dropout_forward(x, p=0.5, training=True, inplace=False):
    """Inverted dropout; returns ``(out, cache)``, the cache being the mask (None in evaluation).

    Math: out = x * mask, mask = Bernoulli(1 - p) / (1 - p) per element; out = x if not training.

    Shape: x any -> out, the same shape.
    """
    p = check_dropout_p(p)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}; convert it with torch.as_tensor")
    if not training:
        return x, None
    mask = dropout_mask(x, p)
    return (x.mul_(mask) if inplace else x * mask), mask


def dropout_backward(grad_output, cache):
    """``grad_input = grad_output * mask`` (unchanged in evaluation, where the cache is None)."""
    mask = cache
    if mask is None:
        return grad_output
    if tuple(grad_output.shape) != tuple(mask.shape):
        raise ValueError(f"grad_output must have the output's shape {tuple(mask.shape)}, "
                         f"got {tuple(grad_output.shape)}")
    return grad_output * mask


class DropoutFunction(torch.autograd.Function):
    """Training-mode dropout as an autograd node: backward calls ``dropout_backward`` with the saved mask."""

    @staticmethod
    def forward(ctx, x, p, inplace):
        out, mask = dropout_forward(x, p, True, inplace)
        if inplace:
            ctx.mark_dirty(x)
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return dropout_backward(grad_output, mask), None, None


def dropout(x, p=0.5, training=True, inplace=False):
    """``torch.nn.functional.dropout``, differentiable through the hand-written `dropout_backward`."""
    p = check_dropout_p(p)
    if not training or p == 0.0:  # p = 0 keeps every unit: no random numbers drawn, as in torch.nn
        return dropout_forward(x, p, False)[0]
    if inplace:
        _check_writable(x)
    return DropoutFunction.apply(x, p, inplace)


def _check_writable(x) -> None:
    """torch.nn's refusals of an in-place write that autograd forbids, made before ``x`` is changed.

    (Autograd checks a ``Function``'s ``mark_dirty`` only after its forward has already written.)
    """
    if not (isinstance(x, torch.Tensor) and x.requires_grad and torch.is_grad_enabled()):
        return
    if x.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if x._base is not None and x._base.is_leaf:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


class Dropout(torch.nn.Module):
    """out = x * mask / (1 - p) while training (each unit kept with probability 1 - p); the identity in eval.

    ``torch.nn.Dropout``'s arguments. Taught in 08_case_studies_alexnet_vgg.

    Shape: input (*), any shape -> output (*), the same shape.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = check_dropout_p(p)
        self.inplace = bool(inplace)

    def forward(self, x):
        return dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
