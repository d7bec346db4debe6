"""Exercises of 01_neural_nets_activations. Each checker prints a verdict and returns True or False."""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_count, as_numbers, expect_close, expect_equal, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.activation import sigmoid, sigmoid_backward, sigmoid_forward
from cnnlib.numpy_nn.linear import linear_backward, linear_forward


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


@exercise
def check_sigmoid_depth(answer) -> bool:
    """Exercise 3: the fewest sigmoid layers after which the gradient, shrunk by at most 0.25 per
    layer, is certain to be below 1e-6."""

    def check(a):
        a = as_count(a, "the number of layers")
        if a == 9:
            raise AssertionError(f"0.25**9 = {0.25 ** 9:.2e}, still above 1e-6")
        expect_equal(a, 10, "the number of layers")

    return verdict(answer, check, "Exercise 3", success="0.25 to that power is the first below 1e-6.")


# -- function exercises: sigmoid backward, the fully connected layer forward and backward ----------
def _sigmoid_backward_cases() -> list[Case]:
    rng = np.random.default_rng(1311)
    cases = [Case({"grad_output": np.array([1.0]), "x": np.array([0.0])}, "x = 0, where the slope is largest"),
             Case({"grad_output": np.array([2.0, -1.0, 0.5]), "x": np.array([-3.0, 1.0, 4.0])}, "mixed signs"),
             Case({"grad_output": np.array([1.0, 1.0]), "x": np.array([-12.0, 12.0])}, "far out on both tails")]
    for _ in range(20):
        shape = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 4)))
        cases.append(Case({"grad_output": np.round(rng.normal(size=shape), 1),
                           "x": np.round(rng.normal(0.0, 3.0, size=shape), 1)}, "random"))
    return cases


def _reference_sigmoid_backward(grad_output, x):
    return sigmoid_backward(grad_output, sigmoid_forward(x)[1])


SIGMOID_BACKWARD_HINTS = (
    Hint("sigma * (1 - sigma) takes sigma = sigmoid(x), the layer's output, not the input x itself",
         lambda i, e, a: is_close(a, i["grad_output"] * i["x"] * (1 - i["x"]))),
    Hint("multiply by grad_output: the chain rule gives grad_output times sigmoid's local derivative",
         lambda i, e, a: is_close(a, sigmoid(i["x"]) * (1 - sigmoid(i["x"])))),
    Hint("the derivative of sigmoid is sigmoid(x) * (1 - sigmoid(x)), not sigmoid(x) itself",
         lambda i, e, a: is_close(a, i["grad_output"] * sigmoid(i["x"]))),
    Hint("1 - s**2 is tanh's derivative; sigmoid's is s * (1 - s)",
         lambda i, e, a: is_close(a, i["grad_output"] * (1 - sigmoid(i["x"]) ** 2))),
)


@exercise
def check_sigmoid_backward(sigmoid_backward) -> bool:
    """``sigmoid_backward(grad_output, x) -> grad_input``, elementwise, any shape."""
    return check_function(sigmoid_backward, _reference_sigmoid_backward, _sigmoid_backward_cases(),
                          "Sigmoid backward", hints=SIGMOID_BACKWARD_HINTS,
                          success="At most a quarter of the gradient gets through, at x = 0.",
                          allowed=("cnnlib.numpy_nn.activation.sigmoid",))  # the forward pass is given


def _linear_shapes(rng: np.random.Generator):
    # square layers first (in == out): a transposed weight then gives a wrong value, not a shape error
    yield 2, 2, 2
    yield 1, 3, 3
    yield 1, 2, 4
    for _ in range(16):
        yield tuple(int(s) for s in rng.integers(2, 6, size=3))


def _linear_forward_cases() -> list[Case]:
    rng = np.random.default_rng(1312)
    cases = []
    for k, (n, i, o) in enumerate(_linear_shapes(rng)):
        label = "a batch of one" if n == 1 else ("a square layer" if k < 2 else "random")
        cases.append(Case({"x": np.round(rng.normal(size=(n, i)), 1), "weight": np.round(rng.normal(size=(o, i)), 1),
                           "bias": np.round(rng.normal(size=o), 1)}, label))
    return cases


def _linear_backward_cases() -> list[Case]:
    rng = np.random.default_rng(1313)
    cases = []
    for k, (n, i, o) in enumerate(_linear_shapes(rng)):
        label = "a batch of one" if n == 1 else ("a square layer" if k < 2 else "random")
        cases.append(Case({"grad_output": np.round(rng.normal(size=(n, o)), 1),
                           "x": np.round(rng.normal(size=(n, i)), 1),
                           "weight": np.round(rng.normal(size=(o, i)), 1)}, label))
    return cases


def _reference_linear_forward(x, weight, bias):
    return linear_forward(x, weight, bias)[0]


def _reference_linear_backward(grad_output, x, weight):
    return linear_backward(grad_output, linear_forward(x, weight, np.zeros(weight.shape[0]))[1])


LINEAR_FORWARD_HINTS = (
    Hint("forgot the bias: every output adds its bias[o]",
         lambda i, e, a: is_close(a, i["x"] @ i["weight"].T)),
    Hint("the weight is stored (out_features, in_features), as in PyTorch: multiply by its transpose",
         lambda i, e, a: is_close(a, i["x"] @ i["weight"] + i["bias"])),
    Hint("the result has one row per sample, shape (N, out_features): that is its transpose",
         lambda i, e, a: is_close(a, (i["x"] @ i["weight"].T + i["bias"]).T)),
)

def _part_wrong(k: int, wrong_as):
    """A hint on result ``k`` only: it is off from the expected and matches ``wrong_as(inputs)``."""
    return lambda i, e, a: not is_close(a[k], e[k]) and is_close(a[k], wrong_as(i))


LINEAR_BACKWARD_HINTS = (
    Hint("grad_bias is summed over the batch, not averaged: every sample adds to the same bias",
         _part_wrong(2, lambda i: i["grad_output"].mean(axis=0))),
    Hint("grad_bias has one entry per output: sum grad_output over the batch (axis 0)",
         _part_wrong(2, lambda i: i["grad_output"])),
    Hint("grad_weight has the weight's layout (out_features, in_features): it is grad_output.T @ x",
         _part_wrong(1, lambda i: i["x"].T @ i["grad_output"])),
    Hint("grad_input is grad_output @ weight: the forward pass used weight.T, so the backward undoes that",
         _part_wrong(0, lambda i: i["grad_output"] @ i["weight"].T)),
)


@exercise
def check_linear_forward(linear_forward) -> bool:
    """``linear_forward(x, weight, bias) -> out``: x (N, in), weight (out, in), bias (out,) -> (N, out)."""
    return check_function(linear_forward, _reference_linear_forward, _linear_forward_cases(),
                          "Linear forward", hints=LINEAR_FORWARD_HINTS)


@exercise
def check_linear_backward(linear_backward) -> bool:
    """``linear_backward(grad_output, x, weight) -> (grad_input, grad_weight, grad_bias)``."""
    return check_function(linear_backward, _reference_linear_backward, _linear_backward_cases(),
                          "Linear backward", hints=LINEAR_BACKWARD_HINTS,
                          output_names=("grad_input", "grad_weight", "grad_bias"),
                          success="That is the whole fully connected layer, both ways.")
