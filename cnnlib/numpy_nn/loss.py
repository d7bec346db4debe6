"""Loss functions in NumPy, forward and backward (taught in 04_losses).

A loss turns the network's output (``input``) and the truth (``target``) into one number. Each
loss ``name`` has ``name(input, target, reduction="mean")``, and the pure pair
``name_forward(...) -> (loss, cache)`` / ``name_backward(grad_output, cache) -> grad_input``.
``reduction`` is PyTorch's: ``"mean"`` (the average over samples, or over elements for the
regression losses), ``"sum"``, or ``"none"`` (one loss per sample or element). ``grad_output``
is d(whatever comes next)/d(loss): a scalar for "mean" and "sum" (1.0 when the loss is the end
of the graph), an array of the loss's shape for "none".

The loss modules (``CrossEntropyLoss``, ...) are called as ``loss(input, target)`` and their
``backward()`` returns d loss / d input, the first gradient of back-propagation.

Classification: cross-entropy on logits (via a stable log-softmax), the binary hinge loss
max(0, 1 - t*y) with t in {-1, +1}, and two multi-class hinge losses (the margin losses live in
`cnnlib.numpy_nn.loss_hinge` and are importable from here). Regression: MSE (L2), L1 and smooth L1.

Class labels go through `cnnlib.labels.class_labels`: any integer dtype is read as int64, bool
and float labels are refused (a float label would be truncated). An empty batch gives
PyTorch's answer: nan for "mean" (0 / 0), 0 for "sum", an empty array for "none".
"""
from __future__ import annotations

import math

import numpy as np

from cnnlib.checks import (check_class_targets, check_float, check_probability_targets, check_reduction,
                           check_same_shape)
from cnnlib.labels import class_labels
from cnnlib.numpy_nn.conv import as_float_array
from cnnlib.numpy_nn.module import Module
from cnnlib.numpy_nn.softmax import (log_softmax, log_softmax_backward, log_softmax_forward,  # noqa: F401
                                     softmax, softmax_backward, softmax_forward)


# -- reductions, shared by every loss ------------------------------------------------------------
def _reduce(losses, reduction):
    """Apply the reduction to per-sample (or per-element) losses."""
    if reduction == "mean":
        if losses.size == 0:
            return np.array(np.nan, dtype=losses.dtype)  # the mean of nothing, as torch gives it
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _unreduce(grad_output, reduction, shape, dtype):
    """d(result)/d(each per-sample loss), times grad_output: the backward of `_reduce`, shaped `shape`."""
    if reduction == "none":
        grad_output = np.asarray(grad_output)
        if grad_output.shape != tuple(shape):
            raise ValueError(f"grad_output must have the loss's shape {tuple(shape)} for reduction='none', "
                             f"got {grad_output.shape}")
        return grad_output.astype(dtype, copy=False)
    if np.ndim(grad_output) != 0:
        raise ValueError(f"grad_output must be a scalar for reduction={reduction!r}, got shape {np.shape(grad_output)}")
    g = float(grad_output)  # a Python float keeps float32 losses float32
    if reduction == "mean" and math.prod(shape):
        g = g / math.prod(shape)
    return np.full(shape, g, dtype=dtype)


def _check_input(input):
    return as_float_array(input, "input")


def _class_indices(input, target):
    """Check (N, C) scores against class indices (N,) in [0, C); return them as int64."""
    target = np.asarray(target)
    check_class_targets(input.shape, target.shape, 0, 0, integer=True)  # the shapes
    return class_labels(target, input.shape[1], "target")


# -- cross-entropy -------------------------------------------------------------------------------
def cross_entropy_forward(input, target, reduction="mean"):
    """L_i = -sum_c t_ic log softmax(y_i)_c: the lecture's L_CE, on logits ``input``.

    ``target`` is either class indices, shape (N,) integers in [0, C) (then t_i is one-hot and
    L_i = -log softmax(y_i)_{target_i}), or class probabilities, shape (N, C) floats. "mean"
    divides by N in both cases, as PyTorch does.

    Shape: input (N, C), target (N,) or (N, C) -> loss () or (N,) for reduction="none".
    """
    reduction = check_reduction(reduction)
    input = _check_input(input)
    target = np.asarray(target)
    if target.ndim == 2 and np.issubdtype(target.dtype, np.floating):
        check_probability_targets(input.shape, target.shape)
        probs = target.astype(input.dtype, copy=False)  # (N, C)
        log_p = log_softmax(input, dim=1)
        losses = -(probs * log_p).sum(axis=1)  # (N,)
    else:
        target = _class_indices(input, target)
        rows = np.arange(len(target))
        probs = np.zeros_like(input)
        probs[rows, target] = 1  # one-hot (N, C)
        log_p = log_softmax(input, dim=1)
        losses = -log_p[rows, target]  # (N,)
    return _reduce(losses, reduction), (np.exp(log_p), probs, reduction)  # exp(log_p): the softmax, computed once


def cross_entropy_backward(grad_output, cache):
    """dL_i/dy_i = softmax(y_i) * sum_c t_ic - t_i (= softmax(y_i) - t_i when t_i sums to 1)."""
    p, probs, reduction = cache
    g = _unreduce(grad_output, reduction, p.shape[:1], p.dtype)  # (N,)
    return (p * probs.sum(axis=1, keepdims=True) - probs) * g[:, None]


def cross_entropy(input, target, reduction="mean"):
    """Cross-entropy of logits against class indices or class probabilities (see cross_entropy_forward)."""
    return cross_entropy_forward(input, target, reduction)[0]


# -- regression losses ---------------------------------------------------------------------------
def _regression_pair(input, target, reduction):
    reduction = check_reduction(reduction)
    input = _check_input(input)
    target = as_float_array(target, "target", dtype=input.dtype)
    check_same_shape(input.shape, target.shape)
    return input - target.astype(input.dtype, copy=False), reduction


def mse_loss_forward(input, target, reduction="mean"):
    """L = (y - t)^2 per element (the lecture's L2 loss); "mean" averages over all elements.

    Shape: input (*), target (*) the same -> loss () or (*) for reduction="none".
    """
    diff, reduction = _regression_pair(input, target, reduction)
    return _reduce(diff * diff, reduction), (diff, reduction)


def mse_loss_backward(grad_output, cache):
    """dL/dy = 2 (y - t)."""
    diff, reduction = cache
    return 2 * diff * _unreduce(grad_output, reduction, diff.shape, diff.dtype)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error (y - t)^2."""
    return mse_loss_forward(input, target, reduction)[0]


def l1_loss_forward(input, target, reduction="mean"):
    """L = |y - t| per element (the lecture's L1 loss).

    Shape: input (*), target (*) the same -> loss () or (*) for reduction="none".
    """
    diff, reduction = _regression_pair(input, target, reduction)
    return _reduce(np.abs(diff), reduction), (diff, reduction)


def l1_loss_backward(grad_output, cache):
    """dL/dy = sign(y - t) (0 where y = t, as in PyTorch)."""
    diff, reduction = cache
    return np.sign(diff) * _unreduce(grad_output, reduction, diff.shape, diff.dtype)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error |y - t|."""
    return l1_loss_forward(input, target, reduction)[0]


def smooth_l1_loss_forward(input, target, reduction="mean", beta=1.0):
    """L = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, with d = y - t.

    With beta=1 this is the lecture's smooth L1: quadratic near 0 (a gradient that shrinks as
    the error does), linear far away (a gradient bounded by 1, robust to outliers). beta=0 is
    the L1 loss. Shape: input (*), target (*) the same -> loss () or (*) for reduction="none".
    """
    beta = check_float(beta, "beta", minimum=0)
    diff, reduction = _regression_pair(input, target, reduction)
    a = np.abs(diff)
    if beta == 0:
        losses = a
    else:
        losses = np.where(a < beta, 0.5 * diff * diff / beta, a - 0.5 * beta)
    return _reduce(losses, reduction), (diff, beta, reduction)


def smooth_l1_loss_backward(grad_output, cache):
    """dL/dy = d / beta if |d| < beta else sign(d)."""
    diff, beta, reduction = cache
    local = np.sign(diff) if beta == 0 else np.where(np.abs(diff) < beta, diff / beta, np.sign(diff))
    return local * _unreduce(grad_output, reduction, diff.shape, diff.dtype)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Smooth L1 (Huber-like) loss, quadratic for |y - t| < beta and linear beyond."""
    return smooth_l1_loss_forward(input, target, reduction, beta)[0]


# -- modules -------------------------------------------------------------------------------------
class _Loss(Module):
    """A loss module: ``loss(input, target)`` returns the loss, ``backward()`` d loss / d input."""

    def __init__(self, reduction="mean"):
        self.reduction = check_reduction(reduction)
        self._cache = None
        self._loss = None

    def forward(self, input, target):
        loss, self._cache = self._forward(input, target)
        self._loss = loss
        return loss

    def backward(self, grad_output=None):
        """d loss / d input; ``grad_output`` defaults to 1 (an array of ones for reduction='none')."""
        cache = self._saved(self._cache)
        if grad_output is None:
            grad_output = 1.0 if self.reduction != "none" else np.ones_like(self._loss)
        return self._backward(grad_output, cache)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """L_i = -log softmax(y_i)_{t_i} (or -sum_c t_ic log softmax(y_i)_c for probabilities) (04_losses).

    Shape: input (N, C) logits, target (N,) class indices or (N, C) probabilities -> () or (N,).
    """

    def _forward(self, input, target):
        return cross_entropy_forward(input, target, self.reduction)

    def _backward(self, grad_output, cache):
        return cross_entropy_backward(grad_output, cache)


class MSELoss(_Loss):
    """L = (y - t)^2 per element, averaged by default (04_losses).

    Shape: input (*), target (*) the same shape -> () or (*) for reduction="none".
    """

    def _forward(self, input, target):
        return mse_loss_forward(input, target, self.reduction)

    def _backward(self, grad_output, cache):
        return mse_loss_backward(grad_output, cache)


class L1Loss(_Loss):
    """L = |y - t| per element, averaged by default (04_losses).

    Shape: input (*), target (*) the same shape -> () or (*) for reduction="none".
    """

    def _forward(self, input, target):
        return l1_loss_forward(input, target, self.reduction)

    def _backward(self, grad_output, cache):
        return l1_loss_backward(grad_output, cache)


class SmoothL1Loss(_Loss):
    """L = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, d = y - t (04_losses).

    Shape: input (*), target (*) the same shape -> () or (*) for reduction="none".
    """

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = check_float(beta, "beta", minimum=0)

    def _forward(self, input, target):
        return smooth_l1_loss_forward(input, target, self.reduction, self.beta)

    def _backward(self, grad_output, cache):
        return smooth_l1_loss_backward(grad_output, cache)


# the margin (hinge) losses live beside this module and are part of its interface (they use its reductions,
# so they come last)
from cnnlib.numpy_nn.loss_hinge import (HingeLoss, MultiClassHingeLoss, MultiMarginLoss, hinge_loss,  # noqa: E402,F401
                                        hinge_loss_backward, hinge_loss_forward, multi_margin_loss,
                                        multi_margin_loss_backward, multi_margin_loss_forward, multiclass_hinge_loss,
                                        multiclass_hinge_loss_backward, multiclass_hinge_loss_forward)
