"""Checkers for the exercises of 03_pooling.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_numbers, expect_close
from cnnlib.exercises.core import exercise, verdict

# Exercise 1: 2x2 max pooling at stride 2 of one 4x6 depth slice.
SLICE_1 = np.array([[3, 0, 1, 2, 7, 1],
                    [4, 9, 6, 5, 0, 2],
                    [7, 2, 8, 1, 3, 3],
                    [0, 5, 3, 6, 4, 9]], dtype=np.float64)
MAX_POOL_1 = np.array([[9, 6, 7], [7, 8, 9]], dtype=np.float64)
AVG_POOL_1 = np.array([[4.0, 3.5, 2.5], [3.5, 4.5, 4.75]])

# Exercise 2: AlexNet's POOL2, 3x3 windows at stride 2 on the 27x27x256 output of CONV2.
POOL2_INPUT = (27, 27, 256)
POOL2_ANSWER = (13, 13, 256, 0)

# Exercise 3: the gradient of 3x3 max pooling at stride 2 (overlapping windows) on a 5x5 slice.
SLICE_3 = np.array([[1, 3, 2, 0, 1],
                    [4, 0, 6, 1, 2],
                    [2, 5, 5, 3, 0],
                    [8, 1, 2, 0, 7],
                    [0, 2, 3, 1, 4]], dtype=np.float64)
GRAD_OUTPUT_3 = np.array([[1, 2], [3, 4]], dtype=np.float64)
GRAD_INPUT_3 = np.zeros((5, 5))
GRAD_INPUT_3[1, 2] = 1 + 2  # the 6 wins the two top windows, which share column 2
GRAD_INPUT_3[3, 0] = 3
GRAD_INPUT_3[3, 4] = 4


def _check_max_pool(answer) -> None:
    a = as_numbers(answer, name="your pooled slice")
    if a.shape == MAX_POOL_1.shape and np.allclose(a, AVG_POOL_1):
        raise AssertionError("those are the window averages; max pooling keeps the largest value of each window")
    if a.shape == MAX_POOL_1.T.shape:
        raise AssertionError(f"shape {a.shape}: the 4x6 slice gives 2 rows of 3 windows, a (2, 3) result")
    expect_close(a, MAX_POOL_1, name="your pooled slice")


@exercise
def check_max_pool(answer) -> bool:
    """Exercise 1: ``answer`` is the (2, 3) result of 2x2 max pooling at stride 2 on ``SLICE_1``."""
    return verdict(answer, _check_max_pool, "Exercise 1", "Each window kept only its largest value.")


def _check_pool_layer(answer) -> None:
    answer = tuple(float(v) for v in as_numbers(answer, (4,), "your answer",
        ask="give four numbers: (height, width, depth, number of parameters)"))
    names = ("height", "width", "depth", "number of parameters")
    for name, got, want in zip(names, answer, POOL2_ANSWER):
        if got != want:
            hint = {"height": "use (N - F) / stride + 1 with N = 27, F = 3, stride = 2",
                    "width": "the width follows the same rule as the height",
                    "depth": "pooling works on each activation map separately: the depth does not change",
                    "number of parameters": "a max over a window has nothing to learn"}[name]
            raise AssertionError(f"the {name} is not {got:g}: {hint}")


@exercise
def check_pool_layer(answer) -> bool:
    """Exercise 2: ``answer`` = (height, width, depth, parameters) of AlexNet's POOL2 output."""
    return verdict(answer, _check_pool_layer, "Exercise 2", "POOL2 gives 13x13x256 with 0 parameters.")


def _check_max_pool_gradient(answer) -> None:
    a = as_numbers(answer, name="your gradient")
    if a.shape != SLICE_3.shape:
        raise AssertionError(f"shape {a.shape}: the gradient has the shape of the input slice, {SLICE_3.shape}")
    if np.isclose(a[1, 2], 1.0) or np.isclose(a[1, 2], 2.0):
        raise AssertionError("the 6 at row 1, column 2 wins two overlapping windows: its gradient is the sum of both")
    if np.count_nonzero(a) > 3:
        raise AssertionError("max pooling sends each output gradient to ONE input: the winner of its window")
    expect_close(a, GRAD_INPUT_3, name="your gradient")


@exercise
def check_max_pool_gradient(answer) -> bool:
    """Exercise 3: ``answer`` is d loss / d ``SLICE_3`` (5, 5) for 3x3 max pooling at stride 2 and ``GRAD_OUTPUT_3``."""
    return verdict(answer, _check_max_pool_gradient, "Exercise 3",
                   "Gradients of overlapping windows add up at a shared winner.")
