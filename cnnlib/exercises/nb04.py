"""Checkers for the exercises of 04_losses.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_number, as_numbers, expect_by_hand
from cnnlib.exercises.core import exercise, verdict

# Worked by hand: a wrong answer is recognized, and a right one accepted, within 1%.
BY_HAND = 1e-2

# Exercise 1: softmax cross-entropy of one example.
LOGITS_1 = np.array([2.0, -1.0, 0.5, 0.0])
TARGET_1 = 2


def cross_entropy_1() -> float:
    """The expected answer of exercise 1: log(sum(exp(s))) - s[t], written the stable way."""
    m = LOGITS_1.max()
    return float(m + np.log(np.exp(LOGITS_1 - m).sum()) - LOGITS_1[TARGET_1])


# Exercise 2: the lecture's multiclass hinge and PyTorch's MultiMarginLoss on one example.
SCORES_2 = np.array([1.5, 2.0, 0.3, 1.8])
TARGET_2 = 0
HINGE_2 = (1.5, 0.7)  # lecture: max(0, 1 + 2.0 - 1.5); PyTorch: (1.5 + 0 + 1.3) / 4

# Exercise 3: the constant that best fits data with an outlier, under L1 and under L2.
DATA_3 = np.array([1.0, 2.0, 4.0, 5.0, 38.0])
ESTIMATES_3 = (4.0, 10.0)  # (median, mean)


def _check_cross_entropy(answer) -> None:
    a = as_number(answer, "your loss")
    p = np.exp(LOGITS_1 - LOGITS_1.max())
    p /= p.sum()
    near = lambda v: np.isclose(a, v, rtol=BY_HAND, atol=0)  # noqa: E731
    if near(-np.log(p[TARGET_1]) / np.log(10)) or near(-np.log2(p[TARGET_1])):
        raise AssertionError("use the natural logarithm (np.log), as PyTorch does")
    if near(p[TARGET_1]) or near(np.log(p[TARGET_1])):
        raise AssertionError("the loss is MINUS the log of the probability of the true class")
    expect_by_hand(a, cross_entropy_1(), name="your loss", rtol=BY_HAND)


@exercise
def check_cross_entropy(answer) -> bool:
    """Exercise 1: ``answer`` is -log softmax(LOGITS_1)[TARGET_1] (a float)."""
    return verdict(answer, _check_cross_entropy, "Exercise 1",
                   f"{cross_entropy_1():.4f} = -log of the softmax probability of class {TARGET_1}.")


def _check_multiclass_hinge(answer) -> None:
    lecture, torch_form = as_numbers(answer, (2,), "your answer",
        ask="give two numbers: (the lecture's loss, PyTorch's MultiMarginLoss)")
    near = lambda a, v: np.isclose(a, v, rtol=BY_HAND, atol=0)  # noqa: E731
    if near(lecture, HINGE_2[1]) and near(torch_form, HINGE_2[0]):
        raise AssertionError("the two are swapped: the lecture takes the max, PyTorch sums and divides by C")
    if near(torch_form, 4 * HINGE_2[1]) or near(torch_form, 4 * HINGE_2[1] / 3):
        raise AssertionError("PyTorch divides the sum by C = 4, the number of classes (all of them)")
    expect_by_hand(lecture, HINGE_2[0], name="the lecture's loss", rtol=BY_HAND)
    expect_by_hand(torch_form, HINGE_2[1], name="PyTorch's MultiMarginLoss", rtol=BY_HAND)


@exercise
def check_multiclass_hinge(answer) -> bool:
    """Exercise 2: ``answer`` = (lecture's multiclass hinge, PyTorch's MultiMarginLoss) for SCORES_2, TARGET_2."""
    return verdict(answer, _check_multiclass_hinge, "Exercise 2",
                   "Two classes violate the margin here, so the max and the sum/C differ.")


def _check_outlier_estimates(answer) -> None:
    l1, l2 = as_numbers(answer, (2,), "your answer",
        ask="give two numbers: (the L1 estimate, the L2 estimate)")
    if np.isclose(l1, ESTIMATES_3[1], rtol=BY_HAND) and np.isclose(l2, ESTIMATES_3[0], rtol=BY_HAND):
        raise AssertionError("the two are swapped: which one does the outlier drag along?")
    expect_by_hand(l1, ESTIMATES_3[0], name="the L1 estimate (minimizer of the sum of |y_i - c|)", rtol=BY_HAND)
    expect_by_hand(l2, ESTIMATES_3[1], name="the L2 estimate (minimizer of the sum of (y_i - c)^2)", rtol=BY_HAND)


@exercise
def check_outlier_estimates(answer) -> bool:
    """Exercise 3: ``answer`` = (constant minimizing the L1 loss, constant minimizing the L2 loss) on DATA_3."""
    return verdict(answer, _check_outlier_estimates, "Exercise 3",
                   "The median ignores how far the outlier is; the mean is dragged 6 units toward it.")
