"""The margin (hinge) losses in PyTorch tensor operations, backward by hand (taught in 04_losses).

The same formulas, step for step and name for name, as ``cnnlib.numpy_nn.loss_hinge``, on tensors
of any device and dtype, handed to autograd by `cnnlib.torch_nn.loss.LossFunction`. They share the
reductions and the label checks of `cnnlib.torch_nn.loss`, which re-exports everything here.
"""
from __future__ import annotations

import torch

from cnnlib.checks import (check_float, check_multi_margin_options, check_multiclass_scores, check_reduction,
                           check_same_shape, check_sign_targets)
from cnnlib.torch_nn.loss import (_as_input_dtype, _check_input, _class_indices, _Loss, _reduce,
                                  _unreduce, apply_loss)


# -- hinge losses --------------------------------------------------------------------------------------
def hinge_loss_forward(input, target, reduction="mean"):
    """L = max(0, 1 - t*y), t in {-1, +1}: the lecture's binary hinge (max-margin) loss.

    PyTorch has no function of this exact form; it is ``relu(1 - t * y)``.
    Shape: input (*), target (*) the same, holding -1 and +1 -> loss () or (*).
    """
    reduction = check_reduction(reduction)
    input = _check_input(input, target)
    check_same_shape(input.shape, target.shape)
    target = _as_input_dtype(target, input)
    signs = (target.abs() == 1).all()
    if target.device.type == "cpu":
        check_sign_targets(bool(signs))
    else:  # asserted on the device: reading the answer on the host would wait for it (see cnnlib.labels)
        torch._assert_async(signs, "target of the binary hinge loss must hold only -1 and +1")
    margins = 1 - target * input
    return _reduce(torch.clamp_min(margins, 0), reduction), (target, margins > 0, reduction)


def hinge_loss_backward(grad_output, cache):
    """dL/dy = -t where the margin is violated (1 - t*y > 0), else 0."""
    target, active, reduction = cache
    return torch.where(active, -target, 0) * _unreduce(grad_output, reduction, target.shape, target)


def hinge_loss(input, target, reduction="mean"):
    """Binary hinge loss max(0, 1 - t*y) with targets -1 and +1."""
    return apply_loss((hinge_loss_forward, hinge_loss_backward), input, target, reduction)


def _true_and_wrong_scores(input, target):
    """s_t (N,) and every score with the true class masked out (N, C)."""
    check_multiclass_scores(input.shape)
    target = _class_indices(input, target)
    rows = torch.arange(len(target), device=input.device)
    wrong = input.clone()
    wrong[rows, target] = float("-inf")  # (N, C): never the max, never counted
    return target, rows, input[rows, target], wrong


def multiclass_hinge_loss_forward(input, target, reduction="mean", margin=1.0):
    """L_i = max(0, margin + max_{j != t} s_j - s_t): the lecture's multi-class hinge loss.

    Only the most offending wrong class counts. PyTorch's ``MultiMarginLoss`` (here
    `multi_margin_loss`) instead sums max(0, margin + s_j - s_t) over all wrong classes and divides by C.

    Shape: input (N, C) scores with C >= 2, target (N,) class indices -> loss () or (N,).
    """
    reduction = check_reduction(reduction)
    margin = check_float(margin, "margin")
    input = _check_input(input, target)
    target, rows, true, wrong = _true_and_wrong_scores(input, target)
    rival = wrong.argmax(dim=1)                                        # (N,) the most offending wrong class
    margins = margin + input[rows, rival] - true                       # (N,)
    cache = (input, target, rival, margins > 0, reduction)
    return _reduce(torch.clamp_min(margins, 0), reduction), cache


def multiclass_hinge_loss_backward(grad_output, cache):
    """dL_i/ds = +1 at the most offending wrong class and -1 at the true class, if L_i > 0."""
    input, target, rival, active, reduction = cache
    g = _unreduce(grad_output, reduction, input.shape[:1], input) * active  # (N,)
    grad = torch.zeros_like(input)
    rows = torch.arange(input.shape[0], device=input.device)
    grad[rows, rival] += g
    grad[rows, target] -= g
    return grad


def multiclass_hinge_loss(input, target, reduction="mean", margin=1.0):
    """The lecture's multi-class hinge loss max(0, 1 + max_{j != t} s_j - s_t)."""
    return apply_loss((multiclass_hinge_loss_forward, multiclass_hinge_loss_backward),
                              input, target, reduction, margin)


def multi_margin_loss_forward(input, target, margin=1.0, reduction="mean"):
    """L_i = sum_{j != t} max(0, margin + s_j - s_t) / C: PyTorch's ``F.multi_margin_loss`` (p=1).

    Arguments in PyTorch's order. Shape: input (N, C) with C >= 2, target (N,) -> loss () or (N,).
    """
    reduction = check_reduction(reduction)
    margin = check_float(margin, "margin")
    input = _check_input(input, target)
    target, rows, true, wrong = _true_and_wrong_scores(input, target)
    margins = margin + wrong - true[:, None]                           # (N, C); -inf at the true class
    c = input.shape[1]
    losses = torch.clamp_min(margins, 0).sum(dim=1) / c                # (N,)
    return _reduce(losses, reduction), (target, margins > 0, input, reduction)


def multi_margin_loss_backward(grad_output, cache):
    """dL_i/ds_j = 1/C for each wrong class j inside the margin; dL_i/ds_t = -(their count)/C."""
    target, active, input, reduction = cache
    n, c = active.shape
    g = _unreduce(grad_output, reduction, (n,), input) / c             # (N,)
    grad = active * g[:, None]                                         # (N, C)
    grad[torch.arange(n, device=input.device), target] = -active.sum(dim=1) * g
    return grad


def multi_margin_loss(input, target, margin=1.0, reduction="mean"):
    """PyTorch's multi-class margin loss: the sum over wrong classes, divided by C."""
    return apply_loss((multi_margin_loss_forward, multi_margin_loss_backward),
                              input, target, margin, reduction)


# -- modules -------------------------------------------------------------------------------------
class HingeLoss(_Loss):
    """L = max(0, 1 - t*y) with t in {-1, +1}: the binary hinge loss (04_losses).

    Shape: input (*) scores, target (*) of -1 and +1 -> () or (*) for reduction="none".
    """

    def forward(self, input, target):
        return hinge_loss(input, target, self.reduction)


class MultiClassHingeLoss(_Loss):
    """L_i = max(0, margin + max_{j != t} s_j - s_t): the lecture's multi-class hinge (04_losses).

    Not PyTorch's ``MultiMarginLoss`` (sum over wrong classes / C); see `multiclass_hinge_loss_forward`.

    Shape: input (N, C) scores, target (N,) class indices -> () or (N,) for reduction="none".
    """

    def __init__(self, reduction="mean", margin=1.0):
        super().__init__(reduction)
        self.margin = check_float(margin, "margin")

    def forward(self, input, target):
        return multiclass_hinge_loss(input, target, self.reduction, self.margin)


class MultiMarginLoss(_Loss):
    """PyTorch's ``MultiMarginLoss`` (p=1): L_i = sum_{j != t} max(0, margin + s_j - s_t) / C (04_losses).

    torch.nn's arguments in torch.nn's order; p other than 1 and per-class weights are refused.
    Shape: input (N, C) scores, target (N,) class indices -> () or (N,) for reduction="none".
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        check_multi_margin_options(p, weight, size_average, reduce)
        super().__init__(reduction)
        self.p, self.margin = 1, check_float(margin, "margin")

    def forward(self, input, target):
        return multi_margin_loss(input, target, self.margin, self.reduction)
