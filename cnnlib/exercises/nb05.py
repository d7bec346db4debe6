"""Checkers for the exercises of 05_backpropagation.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_numbers, expect_by_hand
from cnnlib.exercises.core import exercise, verdict

# Exercise 1: the chain rule by hand on f = W2 max(0, W1 x), L = (f - t)^2 (one output).
X_1 = np.array([1.0, 2.0, -1.0])
W1_1 = np.array([[2.0, 0.0, 1.0],
                 [1.0, -1.0, 1.0]])      # h = W1 x = (1, -2): the second hidden unit is off
W2_1 = np.array([[3.0, 1.0]])           # f = W2 max(0, h) = 3
T_1 = np.array([1.0])                   # L = (3 - 1)^2 = 4, dL/df = 2 (f - t) = 4
GRAD_W1_1 = np.array([[12.0, 24.0, -12.0],
                      [0.0, 0.0, 0.0]])  # outer(dL/dh, x) with dL/dh = (3 * 4, 0)

def _check_chain_rule(answer) -> None:
    a = as_numbers(answer, name="your dL/dW1")
    if a.shape == GRAD_W1_1.T.shape:
        raise AssertionError(f"shape {a.shape}: dL/dW1 has the shape of W1, {GRAD_W1_1.shape} "
                             f"(one row per hidden unit, one column per input)")
    if a.shape != GRAD_W1_1.shape:
        raise AssertionError(f"shape {a.shape}: dL/dW1 has the shape of W1, {GRAD_W1_1.shape}")
    if np.any(a[1] != 0):
        raise AssertionError("the second hidden unit has h = -2 < 0: ReLU passes no gradient there, "
                             "so its whole row of dL/dW1 is 0")
    if np.allclose(a, GRAD_W1_1 / 2):
        raise AssertionError("half of the right answer: d/df (f - t)^2 is 2 (f - t), not (f - t)")
    expect_by_hand(a, GRAD_W1_1, name="your dL/dW1")


@exercise
def check_chain_rule(answer) -> bool:
    """Exercise 1: ``answer`` is dL/dW1, shape (2, 3), for ``X_1``, ``W1_1``, ``W2_1``, ``T_1``."""
    return verdict(answer, _check_chain_rule, "Exercise 1",
                   "Local gradients multiplied along the chain, with the ReLU gate closing one row.")


# Exercise 2: dL/dW2 for the network of exercise 1.
GRAD_W2_1 = np.array([[4.0, 0.0]])      # outer(dL/df, a) with dL/df = 4, a = max(0, h) = (1, 0)


def _check_chain_rule_w2(answer) -> None:
    a = as_numbers(answer, None, "your dL/dW2")
    if a.size == 2:
        a = a.reshape(GRAD_W2_1.shape)   # a flat pair of numbers is fine
    if a.shape != GRAD_W2_1.shape:
        raise AssertionError(f"shape {a.shape}: dL/dW2 has the shape of W2, {GRAD_W2_1.shape}")
    if np.allclose(a, [[12.0, 4.0]]):
        raise AssertionError("dL/dW2 multiplies dL/df by the hidden ACTIVATIONS a = max(0, h), not by W2 or x")
    if np.allclose(a, [[4.0, -8.0]]):
        raise AssertionError("use a = max(0, h) = (1, 0): the ReLU clips h = -2 to 0")
    if np.allclose(a, GRAD_W2_1 / 2):
        raise AssertionError("half of the right answer: d/df (f - t)^2 is 2 (f - t), not (f - t)")
    expect_by_hand(a, GRAD_W2_1, name="your dL/dW2")


@exercise
def check_chain_rule_w2(answer) -> bool:
    """Exercise 2: ``answer`` is dL/dW2 (shape (1, 2)) for X_1, W1_1, W2_1, T_1."""
    return verdict(answer, _check_chain_rule_w2, "Exercise 2",
                   "dL/dW2 = dL/df times a transposed: the switched-off hidden unit gets no gradient.")
