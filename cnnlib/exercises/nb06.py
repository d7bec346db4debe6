"""Checkers for the exercises of 06_optimizers.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_numbers, expect_by_hand
from cnnlib.exercises.core import exercise, verdict

# Exercise 1: Adam's bias-corrected moments after three steps on one scalar parameter.
GRADS_2 = (1.0, -2.0, 0.5)
BETAS_2 = (0.9, 0.999)


def _adam_moments(grads, betas, corrected=True):
    m = v = 0.0
    for g in grads:
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
    t = len(grads)
    if corrected:
        return m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
    return m, v


MOMENTS_2 = _adam_moments(GRADS_2, BETAS_2)          # (m_hat_3, v_hat_3) = (-0.1808..., 1.7498...)
RAW_MOMENTS_2 = _adam_moments(GRADS_2, BETAS_2, corrected=False)

# Exercise 2: three steps of the lecture's momentum on f(theta) = theta^2 (gradient 2 theta).
THETA0_3, LR_3, MOMENTUM_3 = 1.0, 0.1, 0.9
THETAS_3 = np.array([0.8, 0.46, 0.062])   # v: 0.2, 0.34, 0.398
PLAIN_GD_3 = np.array([0.8, 0.64, 0.512])  # without the velocity: theta <- 0.8 theta


def _check_adam_moments(answer) -> None:
    a = as_numbers(answer, (2,), "your answer", ask="give two numbers: (m_hat, v_hat) after the third step")
    if np.allclose(a, RAW_MOMENTS_2, rtol=1e-2):
        raise AssertionError("those are m_3 and v_3 before the bias correction: divide by 1 - beta1^3 "
                             "and 1 - beta2^3")
    expect_by_hand(a, MOMENTS_2, name="your (m_hat, v_hat)")


@exercise
def check_adam_moments(answer) -> bool:
    """Exercise 1: ``answer`` = (m̂_3, v̂_3) of Adam with ``BETAS_2`` after the gradients ``GRADS_2``."""
    return verdict(answer, _check_adam_moments, "Exercise 1",
                   "Without the correction m_3 and v_3 would be 3.7 and 334 times too small.")


def _check_momentum_steps(answer) -> None:
    a = as_numbers(answer, THETAS_3.shape, "your answer",
        ask="give the three parameters theta_1, theta_2, theta_3")
    if np.allclose(a, PLAIN_GD_3, rtol=1e-2):
        raise AssertionError("that is plain gradient descent: the velocity v = gamma v + eta grad carries "
                             "the earlier steps along")
    expect_by_hand(a, THETAS_3, name="your thetas", decimals=2)  # 0.06 for 0.062 is right by hand


@exercise
def check_momentum_steps(answer) -> bool:
    """Exercise 2: ``answer`` = (θ1, θ2, θ3), three lecture-momentum steps on θ² from ``THETA0_3``."""
    return verdict(answer, _check_momentum_steps, "Exercise 2",
                   "The velocity keeps growing while the gradient points the same way.")
