"""Exercises of 01_neural_nets_activations. Each checker prints a verdict and returns True or False."""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_count, as_numbers, expect_close, expect_equal
from cnnlib.exercises.core import exercise, verdict


@exercise
def check_fc_parameters(answer) -> bool:
    """Exercise 1: the parameters (weights and biases) of a fully connected layer that maps a
    320x240 colour image, flattened, to 100 outputs."""
    n_inputs = 320 * 240 * 3

    def check(a):
        a = as_count(a, "the parameter count")
        if a == n_inputs * 100:
            raise AssertionError("that counts the weights; every output also has a bias")
        if a == 320 * 240 * 100 + 100:
            raise AssertionError("a colour image has 3 numbers per pixel (R, G, B)")
        expect_equal(a, n_inputs * 100 + 100, "the parameter count")

    return verdict(answer, check, "Exercise 1", success="one weight per (input, output) pair, one bias per output.")


def collapse_exercise_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three weight matrices of Exercise 2: W1 (4, 3), W2 (5, 4), W3 (2, 5), small integers."""
    rng = np.random.default_rng(2)
    return tuple(rng.integers(-2, 3, size=s).astype(np.float64) for s in ((4, 3), (5, 4), (2, 5)))


@exercise
def check_collapsed_matrix(answer) -> bool:
    """Exercise 2: the one matrix W with W @ x == W3 @ (W2 @ (W1 @ x)) for every x."""
    w1, w2, w3 = collapse_exercise_weights()

    def check(a):
        a = as_numbers(a, name="your matrix")
        if a.shape == (3, 2):
            raise AssertionError("shape (3, 2) is the transpose: W maps 3 inputs to 2 outputs, so it is (2, 3)")
        expect_close(a, w3 @ w2 @ w1, "your matrix")

    return verdict(answer, check, "Exercise 2", success="three linear layers are one linear layer.")


# Exercise 3's threshold: section 4 already shows 0.25**10 < 1e-6 (ten layers, its deep stack), so the
# exercise asks for another one, whose answer appears nowhere above it.
DEPTH_THRESHOLD = 1e-9


@exercise
def check_sigmoid_depth(answer) -> bool:
    """Exercise 3: the fewest sigmoid layers after which the gradient, shrunk by at most 0.25 per
    layer by the sigmoids' slopes, is certain to be below DEPTH_THRESHOLD of its size."""
    n = int(np.ceil(np.log(DEPTH_THRESHOLD) / np.log(0.25)))

    def check(a):
        a = as_count(a, "the number of layers")
        if a == n - 1:
            raise AssertionError(f"0.25**{a} = {0.25 ** a:.2e}, still above {DEPTH_THRESHOLD:g}")
        if a == 10:
            raise AssertionError(f"0.25**10 is below 1e-6; the threshold here is {DEPTH_THRESHOLD:g}")
        if a < n - 1:
            raise AssertionError(f"0.25**{a} = {0.25 ** a:.2e} is above {DEPTH_THRESHOLD:g}: more layers are needed")
        expect_equal(a, n, "the number of layers")

    return verdict(answer, check, "Exercise 3", success=f"0.25 to that power is the first below {DEPTH_THRESHOLD:g}.")


# The layer exercises of 01 (ReLU, sigmoid backward, the fully connected layer) live in nb01_layers.
from cnnlib.exercises.nb01_layers import (  # noqa: E402
    check_linear_backward, check_linear_forward, check_relu_backward, check_relu_forward, check_sigmoid_backward,
)
