"""Checkers for the exercises of 04_losses.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.core import expect_close, verdict

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
    a = float(answer)
    p = np.exp(LOGITS_1 - LOGITS_1.max())
    p /= p.sum()
    if np.isclose(a, -np.log(p[TARGET_1]) / np.log(10)) or np.isclose(a, -np.log2(p[TARGET_1])):
        raise AssertionError("use the natural logarithm (np.log), as PyTorch does")
    if np.isclose(a, p[TARGET_1]) or np.isclose(a, np.log(p[TARGET_1])):
        raise AssertionError("the loss is MINUS the log of the probability of the true class")
    expect_close(a, cross_entropy_1(), name="your loss", rtol=1e-4)


def check_cross_entropy(answer) -> bool:
    """Exercise 1: ``answer`` is -log softmax(LOGITS_1)[TARGET_1] (a float)."""
    return verdict(answer, _check_cross_entropy, "Exercise 1",
                   f"{cross_entropy_1():.4f} = -log of the softmax probability of class {TARGET_1}.")


def _check_multiclass_hinge(answer) -> None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("give two numbers: (the lecture's loss, PyTorch's MultiMarginLoss)")
    lecture, torch_form = float(answer[0]), float(answer[1])
    if np.isclose(lecture, HINGE_2[1]) and np.isclose(torch_form, HINGE_2[0]):
        raise AssertionError("the two are swapped: the lecture takes the max, PyTorch sums and divides by C")
    if np.isclose(torch_form, 4 * HINGE_2[1]) or np.isclose(torch_form, 4 * HINGE_2[1] / 3):
        raise AssertionError("PyTorch divides the sum by C = 4, the number of classes (all of them)")
    expect_close(lecture, HINGE_2[0], name="the lecture's loss", rtol=1e-4)
    expect_close(torch_form, HINGE_2[1], name="PyTorch's MultiMarginLoss", rtol=1e-4)


def check_multiclass_hinge(answer) -> bool:
    """Exercise 2: ``answer`` = (lecture's multiclass hinge, PyTorch's MultiMarginLoss) for SCORES_2, TARGET_2."""
    return verdict(answer, _check_multiclass_hinge, "Exercise 2",
                   "Two classes violate the margin here, so the max and the sum/C differ.")


def _check_outlier_estimates(answer) -> None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("give two numbers: (the L1 estimate, the L2 estimate)")
    l1, l2 = float(answer[0]), float(answer[1])
    if np.isclose(l1, ESTIMATES_3[1]) and np.isclose(l2, ESTIMATES_3[0]):
        raise AssertionError("the two are swapped: which one does the outlier drag along?")
    expect_close(l1, ESTIMATES_3[0], name="the L1 estimate (minimizer of the sum of |y_i - c|)")
    expect_close(l2, ESTIMATES_3[1], name="the L2 estimate (minimizer of the sum of (y_i - c)^2)")


def check_outlier_estimates(answer) -> bool:
    """Exercise 3: ``answer`` = (constant minimizing the L1 loss, constant minimizing the L2 loss) on DATA_3."""
    return verdict(answer, _check_outlier_estimates, "Exercise 3",
                   "The median ignores how far the outlier is; the mean is dragged 6 units toward it.")
