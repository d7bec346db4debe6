"""Loss functions in PyTorch tensor operations, backward by hand (taught in 04_losses).

The same formulas, step for step and name for name, as ``cnnlib.numpy_nn.loss``, on tensors of
any device and dtype. Each loss ``name`` has ``name(input, target, reduction="mean")`` and the
pure pair ``name_forward(...) -> (loss, cache)`` / ``name_backward(grad_output, cache) -> grad_input``.
`LossFunction` hands any such pair to autograd, so ``loss.backward()`` runs *our* backward.
The target is treated as a constant: it receives no gradient.

Every tensor a backward needs is kept with ``ctx.save_for_backward``, and the caches hold the
same tensors as PyTorch's losses keep (the input for MSE, smooth L1 and the margin losses, the
target for all but L1), so an in-place change of one of them before ``backward()`` raises
autograd's version-counter error exactly where ``torch.nn.functional`` raises. Class labels go
through `cnnlib.labels.class_labels` (any integer dtype becomes int64; bool and floats are
refused). An empty batch gives PyTorch's answer: nan for "mean", 0 for "sum".

The modules (``CrossEntropyLoss``, ...) are ``torch.nn.Module``s called as ``loss(input, target)``;
the returned tensor's ``.backward()`` is PyTorch's, which calls the hand-written backward.
"""
from __future__ import annotations

import math

import torch
from torch.autograd.function import once_differentiable

from cnnlib.checks import (check_class_targets, check_float, check_probability_targets, check_reduction,
                           check_same_shape)
from cnnlib.labels import class_labels
from cnnlib.torch_nn.autocast import to_float32
from cnnlib.torch_nn.softmax import (check_float_tensor, check_tensor, log_softmax,  # noqa: F401
                                     log_softmax_backward, log_softmax_forward, softmax, softmax_backward,
                                     softmax_forward)


class LossFunction(torch.autograd.Function):
    """Any loss pair as an autograd node: ``apply_loss((forward, backward), input, *rest)``.

    forward keeps the cache, its tensors through ``ctx.save_for_backward`` (so autograd notices
    an in-place change of any of them) and its plain values on ``ctx``; backward returns
    ``backward(grad_output, cache)`` for ``input`` and nothing for the target and the options.
    """

    @staticmethod
    def forward(ctx, pair, input, *rest):
        forward, ctx.backward_fn = pair
        loss, cache = forward(input, *rest)
        ctx.save_for_backward(*[v for v in cache if isinstance(v, torch.Tensor)])
        ctx.plain = [None if isinstance(v, torch.Tensor) else v for v in cache]  # no tensors here
        ctx.n_rest = len(rest)
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        tensors = iter(ctx.saved_tensors)
        cache = tuple(next(tensors) if v is None else v for v in ctx.plain)
        return (None, ctx.backward_fn(grad_output, cache), *[None] * ctx.n_rest)


def apply_loss(pair, input, *rest):
    """``LossFunction.apply(pair, input, *rest)``, the input cast to float32 first under ``torch.autocast``.

    torch.nn computes its losses in float32 under autocast (a bfloat16 input gives a float32 loss and a
    bfloat16 gradient); the cast is made before the node, so autograd casts the gradient back.
    """
    (input,) = to_float32(input)
    return LossFunction.apply(pair, input, *rest)


# -- reductions, shared by every loss ------------------------------------------------------------------
def _reduce(losses, reduction):
    """Apply the reduction to per-sample (or per-element) losses."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _unreduce(grad_output, reduction, shape, like):
    """d(result)/d(each per-sample loss), times grad_output: the backward of `_reduce`, shaped `shape`."""
    grad_output = torch.as_tensor(grad_output, dtype=like.dtype, device=like.device)  # 1.0 is fine too
    if reduction == "none":
        if tuple(grad_output.shape) != tuple(shape):
            raise ValueError(f"grad_output must have the loss's shape {tuple(shape)} for reduction='none', "
                             f"got {tuple(grad_output.shape)}")
        return grad_output
    if grad_output.ndim != 0:
        raise ValueError(f"grad_output must be a scalar for reduction={reduction!r}, got shape {tuple(grad_output.shape)}")
    if reduction == "mean":
        grad_output = grad_output / math.prod(shape)
    return grad_output.expand(shape)


def _check_input(input, target):
    check_float_tensor(input, "input")
    check_tensor(target, "target")
    return input


def _class_indices(input, target):
    """Check (N, C) scores against class indices (N,) in [0, C); return them as int64."""
    check_class_targets(input.shape, target.shape, 0, 0, integer=True)  # the shapes
    return class_labels(target, input.shape[1], "target")


def _as_input_dtype(target, input):
    return target.to(dtype=input.dtype, device=input.device)


# -- cross-entropy -------------------------------------------------------------------------------------
def cross_entropy_forward(input, target, reduction="mean"):
    """L_i = -sum_c t_ic log softmax(y_i)_c: the lecture's L_CE, on logits ``input``.

    ``target`` is either class indices, shape (N,) integers in [0, C) (then t_i is one-hot), or
    class probabilities, shape (N, C) floats. "mean" divides by N in both cases, as PyTorch does.

    Shape: input (N, C), target (N,) or (N, C) -> loss () or (N,) for reduction="none".
    """
    reduction = check_reduction(reduction)
    input = _check_input(input, target)
    if target.ndim == 2 and target.is_floating_point():
        check_probability_targets(input.shape, target.shape)
        target = _as_input_dtype(target, input)                        # (N, C) probabilities
        losses = -(target * log_softmax(input, dim=1)).sum(dim=1)      # (N,)
    else:
        target = _class_indices(input, target)                         # (N,) int64
        rows = torch.arange(len(target), device=input.device)
        losses = -log_softmax(input, dim=1)[rows, target]              # (N,)
    return _reduce(losses, reduction), (softmax(input, dim=1), target, reduction)


def cross_entropy_backward(grad_output, cache):
    """dL_i/dy_i = softmax(y_i) * sum_c t_ic - t_i (= softmax(y_i) - t_i when t_i sums to 1)."""
    p, target, reduction = cache
    if target.is_floating_point():
        probs = target                                                 # (N, C)
    else:
        probs = torch.zeros_like(p)
        probs[torch.arange(len(target), device=p.device), target] = 1  # one-hot (N, C)
    g = _unreduce(grad_output, reduction, p.shape[:1], p)              # (N,)
    return (p * probs.sum(dim=1, keepdim=True) - probs) * g[:, None]


def cross_entropy(input, target, reduction="mean"):
    """Cross-entropy of logits against class indices or class probabilities (see `cross_entropy_forward`)."""
    return apply_loss((cross_entropy_forward, cross_entropy_backward), input, target, reduction)


# -- regression losses ---------------------------------------------------------------------------------
def _regression_pair(input, target, reduction):
    """(input, target in input's dtype, reduction), checked."""
    reduction = check_reduction(reduction)
    input = _check_input(input, target)
    check_same_shape(input.shape, target.shape)
    return input, _as_input_dtype(target, input), reduction


def mse_loss_forward(input, target, reduction="mean"):
    """L = (y - t)^2 per element (the lecture's L2 loss); "mean" averages over all elements.

    Shape: input (*), target (*) the same -> loss () or (*) for reduction="none".
    """
    input, target, reduction = _regression_pair(input, target, reduction)
    diff = input - target
    return _reduce(diff * diff, reduction), (input, target, reduction)


def mse_loss_backward(grad_output, cache):
    """dL/dy = 2 (y - t)."""
    input, target, reduction = cache
    return 2 * (input - target) * _unreduce(grad_output, reduction, input.shape, input)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error (y - t)^2."""
    return apply_loss((mse_loss_forward, mse_loss_backward), input, target, reduction)


def l1_loss_forward(input, target, reduction="mean"):
    """L = |y - t| per element (the lecture's L1 loss).

    Shape: input (*), target (*) the same -> loss () or (*) for reduction="none".
    """
    input, target, reduction = _regression_pair(input, target, reduction)
    diff = input - target
    return _reduce(diff.abs(), reduction), (diff, reduction)


def l1_loss_backward(grad_output, cache):
    """dL/dy = sign(y - t) (0 where y = t, as in PyTorch)."""
    diff, reduction = cache
    return torch.sign(diff) * _unreduce(grad_output, reduction, diff.shape, diff)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error |y - t|."""
    return apply_loss((l1_loss_forward, l1_loss_backward), input, target, reduction)


def smooth_l1_loss_forward(input, target, reduction="mean", beta=1.0):
    """L = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, with d = y - t.

    With beta=1 this is the lecture's smooth L1; beta=0 is the L1 loss.
    Shape: input (*), target (*) the same -> loss () or (*) for reduction="none".
    """
    beta = check_float(beta, "beta", minimum=0)
    input, target, reduction = _regression_pair(input, target, reduction)
    diff = input - target
    a = diff.abs()
    if beta == 0:
        losses = a
    else:
        losses = torch.where(a < beta, 0.5 * diff * diff / beta, a - 0.5 * beta)
    return _reduce(losses, reduction), (input, target, beta, reduction)


def smooth_l1_loss_backward(grad_output, cache):
    """dL/dy = d / beta if |d| < beta else sign(d)."""
    input, target, beta, reduction = cache
    diff = input - target
    local = torch.sign(diff) if beta == 0 else torch.where(diff.abs() < beta, diff / beta, torch.sign(diff))
    return local * _unreduce(grad_output, reduction, diff.shape, diff)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Smooth L1 (Huber-like) loss, quadratic for |y - t| < beta and linear beyond."""
    return apply_loss((smooth_l1_loss_forward, smooth_l1_loss_backward), input, target, reduction, beta)


# -- modules -------------------------------------------------------------------------------------------
class _Loss(torch.nn.Module):
    """A loss module: ``loss(input, target)`` returns the loss tensor (call ``.backward()`` on it)."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = check_reduction(reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """L_i = -log softmax(y_i)_{t_i} (or -sum_c t_ic log softmax(y_i)_c for probabilities) (04_losses).

    Shape: input (N, C) logits, target (N,) class indices or (N, C) probabilities -> () or (N,).
    """

    def forward(self, input, target):
        return cross_entropy(input, target, self.reduction)


class MSELoss(_Loss):
    """L = (y - t)^2 per element, averaged by default (04_losses).

    Shape: input (*), target (*) the same shape -> () or (*) for reduction="none".
    """

    def forward(self, input, target):
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """L = |y - t| per element, averaged by default (04_losses).

    Shape: input (*), target (*) the same shape -> () or (*) for reduction="none".
    """

    def forward(self, input, target):
        return l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """L = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, d = y - t (04_losses).

    Shape: input (*), target (*) the same shape -> () or (*) for reduction="none".
    """

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = check_float(beta, "beta", minimum=0)

    def forward(self, input, target):
        return smooth_l1_loss(input, target, self.reduction, self.beta)


# the margin (hinge) losses live beside this module and are part of its interface (they use its reductions,
# so they come last)
from cnnlib.torch_nn.loss_hinge import (HingeLoss, MultiClassHingeLoss, MultiMarginLoss, hinge_loss,  # noqa: E402,F401
                                        hinge_loss_backward, hinge_loss_forward, multi_margin_loss,
                                        multi_margin_loss_backward, multi_margin_loss_forward, multiclass_hinge_loss,
                                        multiclass_hinge_loss_backward, multiclass_hinge_loss_forward)
