"""The template of a function exercise: ReLU forward and backward (fits 01_neural_nets_activations).

Copy this shape for a new exercise:

1. ``_cases()``: a list of small seeded :class:`Case` s, edge cases first and labelled (the kink
   at 0, all negative, a batch of one), then random shapes. Every input is float64.
2. ``_reference_*``: cnnlib's function, called the way the learner's stub is declared.
3. ``*_HINTS``: one :class:`Hint` per plausible mistake, each a predicate on
   (inputs, expected, actual) built with ``is_close``.
4. ``check_<id>``, decorated with ``@exercise``, returning ``check_function(...)``.
5. In tests/, a parametrized mutation test: each wrong implementation is rejected with its hint,
   right ones in several styles (loops, vectorized, float32) are accepted, and a shortcut (cnnlib's
   or torch's function) is refused (tests/test_exercises_examples.py).

In the notebook (learner's stub, collapsed solution, check)::

    # %% tags=["exercise"]
    def relu_backward(grad_output, x):
        raise NotImplementedError  # your code here: grad_output times ReLU's derivative at x

    # %% tags=["solution"] jupyter={"source_hidden": true}
    def relu_backward(grad_output, x):
        return grad_output * (x > 0)

    # %% tags=["check"]
    _ = check_relu_backward(relu_backward)
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import is_close
from cnnlib.exercises.core import exercise
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.activation import relu_backward, relu_forward


def _random_x(rng: np.random.Generator, shape) -> np.ndarray:
    x = np.round(rng.normal(0.0, 2.0, size=shape), 1)  # one decimal: readable when printed
    x.reshape(-1)[rng.random(x.size) < 0.2] = 0.0       # exact zeros: the kink, where mistakes hide
    return x


def _shapes(rng: np.random.Generator, n: int):
    for _ in range(n):
        yield tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 5)))


def _forward_cases() -> list[Case]:
    rng = np.random.default_rng(1301)
    cases = [Case({"x": np.array([0.0])}, "a single zero, ReLU's kink"),
             Case({"x": np.array([-3.0, -0.5, -1.0])}, "all negative"),
             Case({"x": np.array([[0.5, 2.0], [3.5, 1.5]])}, "all positive, some above 1"),
             Case({"x": _random_x(rng, (1, 2, 3, 3))}, "a batch of one image")]
    return cases + [Case({"x": _random_x(rng, s)}, "random") for s in _shapes(rng, 20)]


def _backward_cases() -> list[Case]:
    rng = np.random.default_rng(1302)
    cases = [Case({"grad_output": np.array([-2.0]), "x": np.array([0.0])}, "a single zero, ReLU's kink"),
             Case({"grad_output": np.array([1.0, -2.0, 0.5]), "x": np.array([-3.0, 2.0, 1.0])}, "mixed signs")]
    for s in _shapes(rng, 20):
        cases.append(Case({"grad_output": np.round(rng.normal(size=s), 1), "x": _random_x(rng, s)}, "random"))
    return cases


def _reference_relu_forward(x):
    return relu_forward(x)[0]


def _reference_relu_backward(grad_output, x):
    return relu_backward(grad_output, relu_forward(x)[1])


def _leaky(inputs, expected, actual) -> bool:
    x, a = inputs["x"], np.asarray(actual, dtype=np.float64)
    neg = x < 0
    slope = a[neg] / x[neg]
    return bool(neg.any() and np.all(slope != 0) and np.allclose(slope, slope[0]) and np.allclose(a[~neg], x[~neg]))


RELU_FORWARD_HINTS = (
    Hint("negative inputs become 0, not their absolute value", lambda i, e, a: is_close(a, np.abs(i["x"]))),
    Hint("that is min(x, 0): ReLU keeps the positive part and zeroes the rest",
         lambda i, e, a: is_close(a, np.minimum(i["x"], 0))),
    Hint("ReLU has no upper limit: inputs above 1 pass through unchanged",
         lambda i, e, a: is_close(a, np.clip(i["x"], 0, 1))),
    Hint("ReLU sends negative inputs to exactly 0 (a leaky ReLU keeps a small slope there)", _leaky),
)

RELU_BACKWARD_HINTS = (
    Hint("at x == 0 the gradient is 0: PyTorch (and cnnlib) take ReLU's derivative at the kink as 0",
         lambda i, e, a: is_close(a, i["grad_output"] * (i["x"] >= 0))),
    Hint("multiply by grad_output: the chain rule gives grad_output times ReLU's local derivative",
         lambda i, e, a: is_close(a, (i["x"] > 0).astype(np.float64))),
    Hint("ReLU's local derivative is 1 where x > 0 and 0 elsewhere, not relu(x) itself",
         lambda i, e, a: is_close(a, i["grad_output"] * np.maximum(i["x"], 0))),
    Hint("the gate is where the INPUT x is positive, not where grad_output is",
         lambda i, e, a: is_close(a, i["grad_output"] * (i["grad_output"] > 0))),
)


@exercise
def check_relu_forward(relu_forward) -> bool:
    """``relu_forward(x) -> out``: max(0, x) elementwise, any shape."""
    return check_function(relu_forward, _reference_relu_forward, _forward_cases(), "ReLU forward",
                          hints=RELU_FORWARD_HINTS)


@exercise
def check_relu_backward(relu_backward) -> bool:
    """``relu_backward(grad_output, x) -> grad_input``: grad_output where x > 0, else 0."""
    return check_function(relu_backward, _reference_relu_backward, _backward_cases(), "ReLU backward",
                          hints=RELU_BACKWARD_HINTS, success="The gradient flows only where the input was positive.")
