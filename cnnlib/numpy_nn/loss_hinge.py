"""The margin (hinge) losses in NumPy, forward and backward (taught in 04_losses).

The binary hinge loss max(0, 1 - t*y) with t in {-1, +1}, the lecture's multi-class hinge loss
max(0, margin + max_{j != t} s_j - s_t), and PyTorch's ``MultiMarginLoss`` (the sum over the wrong
classes, divided by C), each as ``name(input, target, ...)`` and the pure pair ``name_forward`` /
``name_backward``, with the modules ``HingeLoss``, ``MultiClassHingeLoss`` and ``MultiMarginLoss``.
They share the reductions and the label checks of `cnnlib.numpy_nn.loss`, which re-exports
everything here.
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import (check_float, check_multi_margin_options, check_multiclass_scores, check_reduction,
                           check_same_shape, check_sign_targets)
from cnnlib.numpy_nn.conv import as_float_array
from cnnlib.numpy_nn.loss import _check_input, _class_indices, _Loss, _reduce, _unreduce


# -- hinge losses --------------------------------------------------------------------------------
def hinge_loss_forward(input, target, reduction="mean"):
    """L = max(0, 1 - t*y), t in {-1, +1}: the lecture's binary hinge (max-margin) loss.

    y >= 0 predicts the positive class. The loss is 0 only when y is on the right side with a
    margin of at least 1 (t*y >= 1), so a correct but unsure score is still pushed outwards.
    PyTorch has no function of this exact form (``HingeEmbeddingLoss`` is a different loss);
    it is ``relu(1 - t * y)``.

    Shape: input (*), target (*) the same, holding -1 and +1 -> loss () or (*).
    """
    reduction = check_reduction(reduction)
    input = _check_input(input)
    target = as_float_array(target, "target", dtype=input.dtype)
    check_same_shape(input.shape, target.shape)
    check_sign_targets(bool(np.all(np.abs(target) == 1)))
    target = target.astype(input.dtype, copy=False)
    margins = 1 - target * input
    return _reduce(np.maximum(margins, 0), reduction), (target, margins > 0, reduction)


def hinge_loss_backward(grad_output, cache):
    """dL/dy = -t where the margin is violated (1 - t*y > 0), else 0."""
    target, active, reduction = cache
    return np.where(active, -target, 0) * _unreduce(grad_output, reduction, target.shape, target.dtype)


def hinge_loss(input, target, reduction="mean"):
    """Binary hinge loss max(0, 1 - t*y) with targets -1 and +1."""
    return hinge_loss_forward(input, target, reduction)[0]


def _true_and_wrong_scores(input, target):
    """s_t (N,) and every score with the true class masked out (N, C)."""
    check_multiclass_scores(input.shape)
    target = _class_indices(input, target)
    rows = np.arange(len(target))
    wrong = input.copy()
    wrong[rows, target] = -np.inf  # (N, C): never the max, never counted
    return target, rows, input[rows, target], wrong


def multiclass_hinge_loss_forward(input, target, reduction="mean", margin=1.0):
    """L_i = max(0, margin + max_{j != t} s_j - s_t): the lecture's multi-class hinge loss.

    Only the most offending wrong class counts: the loss is 0 once the true score beats every
    other score by the margin. PyTorch's ``MultiMarginLoss`` (here `multi_margin_loss`) is a
    different form: it *sums* max(0, margin + s_j - s_t) over all wrong classes and divides by C.
    The two agree up to the factor C when at most one wrong class is inside the margin (e.g.
    C = 2: lecture = 2 * PyTorch); otherwise the lecture's is smaller than C * PyTorch's.

    Shape: input (N, C) scores with C >= 2, target (N,) class indices -> loss () or (N,).
    """
    reduction = check_reduction(reduction)
    margin = check_float(margin, "margin")
    input = _check_input(input)
    target, rows, true, wrong = _true_and_wrong_scores(input, target)
    rival = np.argmax(wrong, axis=1)  # (N,) the most offending wrong class
    margins = margin + input[rows, rival] - true  # (N,)
    cache = (input.shape, input.dtype, target, rival, margins > 0, reduction)
    return _reduce(np.maximum(margins, 0), reduction), cache


def multiclass_hinge_loss_backward(grad_output, cache):
    """dL_i/ds = +1 at the most offending wrong class and -1 at the true class, if L_i > 0."""
    shape, dtype, target, rival, active, reduction = cache
    g = _unreduce(grad_output, reduction, shape[:1], dtype) * active  # (N,)
    grad = np.zeros(shape, dtype=dtype)
    rows = np.arange(shape[0])
    grad[rows, rival] += g
    grad[rows, target] -= g
    return grad


def multiclass_hinge_loss(input, target, reduction="mean", margin=1.0):
    """The lecture's multi-class hinge loss max(0, 1 + max_{j != t} s_j - s_t)."""
    return multiclass_hinge_loss_forward(input, target, reduction, margin)[0]


def multi_margin_loss_forward(input, target, margin=1.0, reduction="mean"):
    """L_i = sum_{j != t} max(0, margin + s_j - s_t) / C: PyTorch's ``F.multi_margin_loss`` (p=1).

    Every wrong class inside the margin contributes (compare multiclass_hinge_loss, the
    lecture's form, where only the largest one does). Arguments in PyTorch's order.

    Shape: input (N, C) with C >= 2, target (N,) class indices -> loss () or (N,).
    """
    reduction = check_reduction(reduction)
    margin = check_float(margin, "margin")
    input = _check_input(input)
    target, rows, true, wrong = _true_and_wrong_scores(input, target)
    margins = margin + wrong - true[:, None]  # (N, C); -inf at the true class
    c = input.shape[1]
    losses = np.maximum(margins, 0).sum(axis=1) / c  # (N,)
    return _reduce(losses, reduction), (target, margins > 0, input.dtype, reduction)


def multi_margin_loss_backward(grad_output, cache):
    """dL_i/ds_j = 1/C for each wrong class j inside the margin; dL_i/ds_t = -(their count)/C."""
    target, active, dtype, reduction = cache
    n, c = active.shape
    g = _unreduce(grad_output, reduction, (n,), dtype) / c  # (N,)
    grad = active * g[:, None]  # (N, C)
    grad[np.arange(n), target] = -active.sum(axis=1) * g
    return grad.astype(dtype, copy=False)


def multi_margin_loss(input, target, margin=1.0, reduction="mean"):
    """PyTorch's multi-class margin loss: the sum over wrong classes, divided by C."""
    return multi_margin_loss_forward(input, target, margin, reduction)[0]


# -- modules -------------------------------------------------------------------------------------
class HingeLoss(_Loss):
    """L = max(0, 1 - t*y) with t in {-1, +1}: the binary hinge loss (04_losses).

    Shape: input (*) scores, target (*) of -1 and +1 -> () or (*) for reduction="none".
    """

    def _forward(self, input, target):
        return hinge_loss_forward(input, target, self.reduction)

    def _backward(self, grad_output, cache):
        return hinge_loss_backward(grad_output, cache)


class MultiClassHingeLoss(_Loss):
    """L_i = max(0, margin + max_{j != t} s_j - s_t): the lecture's multi-class hinge (04_losses).

    Not PyTorch's ``MultiMarginLoss`` (sum over wrong classes / C); see multiclass_hinge_loss_forward.

    Shape: input (N, C) scores, target (N,) class indices -> () or (N,) for reduction="none".
    """

    def __init__(self, reduction="mean", margin=1.0):
        super().__init__(reduction)
        self.margin = check_float(margin, "margin")

    def _forward(self, input, target):
        return multiclass_hinge_loss_forward(input, target, self.reduction, self.margin)

    def _backward(self, grad_output, cache):
        return multiclass_hinge_loss_backward(grad_output, cache)


class MultiMarginLoss(_Loss):
    """PyTorch's ``MultiMarginLoss`` (p=1): L_i = sum_{j != t} max(0, margin + s_j - s_t) / C (04_losses).

    torch.nn's arguments in torch.nn's order; p other than 1 and per-class weights are refused.
    Shape: input (N, C) scores, target (N,) class indices -> () or (N,) for reduction="none".
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        check_multi_margin_options(p, weight, size_average, reduce)
        super().__init__(reduction)
        self.p, self.margin = 1, check_float(margin, "margin")

    def _forward(self, input, target):
        return multi_margin_loss_forward(input, target, self.margin, self.reduction)

    def _backward(self, grad_output, cache):
        return multi_margin_loss_backward(grad_output, cache)
