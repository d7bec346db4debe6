"""The layer exercises of 01_neural_nets_activations: ReLU forward and backward, sigmoid backward, and
the fully connected layer forward and backward. Each one that passes joins the learner's library
(:mod:`cnnlib.exercises.my_layers`); the references are :mod:`cnnlib.exercises.references`.

Every case set holds what the mistakes need: ReLU's kink at exactly 0, all-negative inputs,
large |x| (sigmoid at +-1000, where a naive ``exp`` overflows, in float64 and float32), a batch
of one, non-square images, square layers (where a transposed weight gives a wrong value rather than
a shape error) and layers with as many outputs as samples (where a bias broadcast along the wrong
axis still runs), and the shapes that later cells call the learner's layers with: 01's two-layer
network (:data:`NETWORK`), 04's linear classifier (:data:`CLASSIFIER_04`) and 07's LeNet-5
(:data:`LENET_07_MAPS`, :data:`LENET_07_LINEAR`).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises import references as ref
from cnnlib.exercises.answers import is_close
from cnnlib.exercises.core import exercise
from cnnlib.exercises.functions import Case, Hint, check_function

# The two-layer network that 01 runs with the learner's layers: a batch of 5 inputs with 4 features,
# Linear(4, 8), ReLU, Linear(8, 3). Its geometries are among the cases of every checker below.
NETWORK = {"batch": 5, "in": 4, "hidden": 8, "out": 3}
# The linear classifier that 04 trains with the learner's linear layers: 6 points, 2 features, 3 classes.
CLASSIFIER_04 = {"batch": 6, "in": 2, "out": 3}
# 07's LeNet-5 (cnnlib.models.lenet_layers) runs the learner's ReLU on its feature maps and hidden layers and
# its linear layers on 400 -> 120 -> 84 -> 10: those geometries, with a batch of two, are cases too.
LENET_07_MAPS = ((6, 28, 28), (16, 10, 10), (120,), (84,))
LENET_07_LINEAR = ((400, 120), (120, 84), (84, 10))


def _random_x(rng: np.random.Generator, shape, scale: float = 2.0) -> np.ndarray:
    x = np.round(rng.normal(0.0, scale, size=shape), 1)  # one decimal: readable when printed
    x.reshape(-1)[rng.random(x.size) < 0.2] = 0.0         # exact zeros: ReLU's kink, where mistakes hide
    return x


def _shapes(rng: np.random.Generator, n: int):
    for _ in range(n):
        yield tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 5)))


# -- ReLU ----------------------------------------------------------------------------------------
def _elementwise_cases(seed: int, backward: bool) -> list[Case]:
    """Edge cases first, then the network's hidden layer, then random shapes (images among them)."""
    rng = np.random.default_rng(seed)
    n, h = NETWORK["batch"], NETWORK["hidden"]
    xs = [(np.array([0.0, -1.0]), "ReLU's kink at 0, and a negative input"),
          (np.array([0.5, 2.5]), "one input between 0 and 1, one above"),
          (np.array([-3.0, -0.5, -1.0]), "all negative"),
          (np.array([[0.5, 2.0], [3.5, 1.5]]), "all positive, some above 1"),
          (np.array([-2.0, 2.0, -0.5, 0.5, 0.0]), "pairs of opposite sign"),
          (np.array([-1000.0, -1e-3, 1e-3, 1000.0]), "large and tiny |x|"),
          (np.array([-1000.0, -2.5, 0.0, 2.5, 1000.0], dtype=np.float32), "float32 input"),
          (_random_x(rng, (1, 2, 3, 3)), "a batch of one image"),
          (_random_x(rng, (2, 1, 3, 5)), "non-square images"),
          (_random_x(rng, (n, h)), "the hidden layer of 01's two-layer network")]
    xs += [(_random_x(rng, s), "random") for s in _shapes(rng, 16)]
    xs += [(_random_x(rng, (2, *m)), f"07's LeNet-5: maps of shape {m}") for m in LENET_07_MAPS]
    if not backward:
        return [Case({"x": x}, label) for x, label in xs]
    cases = []
    for x, label in xs:
        g = np.round(rng.normal(size=x.shape), 1).astype(x.dtype)
        g.reshape(-1)[:1] = -np.abs(g.reshape(-1)[:1]) - 1.0      # a negative upstream gradient in every case
        cases.append(Case({"grad_output": g, "x": x}, label))
    return cases


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
    Hint("that is 1 where x > 0 and 0 elsewhere, ReLU's slope (the backward pass); its value is x itself there",
         lambda i, e, a: is_close(a, (i["x"] > 0).astype(np.float64))),
    Hint("keep the fractions: rounding to integers (astype(int)) changes 2.5 into 2",
         lambda i, e, a: is_close(a, np.trunc(np.maximum(i["x"], 0)))),
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
    Hint("the gradient stops where x < 0: ReLU's slope there is 0, so grad_output does not pass",
         lambda i, e, a: is_close(a, i["grad_output"])),
    Hint("where x < 0 ReLU's slope is exactly 0, not a small leaky slope",
         lambda i, e, a: is_close(a, i["grad_output"] * np.where(i["x"] > 0, 1.0, 0.01))
         or is_close(a, i["grad_output"] * np.where(i["x"] > 0, 1.0, 0.1))),
)


@exercise
def check_relu_forward(relu_forward) -> bool:
    """``relu_forward(x) -> out``: max(0, x) elementwise, any shape, a new array (x is not changed)."""
    return check_function(relu_forward, ref.relu_forward, _elementwise_cases(1301, backward=False), "ReLU forward",
                          hints=RELU_FORWARD_HINTS)


@exercise
def check_relu_backward(relu_backward) -> bool:
    """``relu_backward(grad_output, x) -> grad_input``: grad_output where x > 0, else 0 (a new array)."""
    return check_function(relu_backward, ref.relu_backward, _elementwise_cases(1302, backward=True), "ReLU backward",
                          hints=RELU_BACKWARD_HINTS, success="The gradient flows only where the input was positive.")


# -- sigmoid -------------------------------------------------------------------------------------
def _sigmoid_backward_cases() -> list[Case]:
    rng = np.random.default_rng(1311)
    f32 = np.float32
    cases = [Case({"grad_output": np.array([1.0]), "x": np.array([0.0])}, "x = 0, where the slope is largest"),
             Case({"grad_output": np.array([2.0, -1.0, 0.5]), "x": np.array([-3.0, 1.0, 4.0])}, "mixed signs"),
             Case({"grad_output": np.array([1.0, -2.0, 0.5]), "x": np.array([-0.5, -2.0, -4.0])}, "all negative x"),
             Case({"grad_output": np.array([1.0, 1.0]), "x": np.array([-12.0, 12.0])}, "far out on both tails"),
             Case({"grad_output": np.array([1.0, -1.0, 2.0, 1.0]), "x": np.array([-1000.0, -30.0, 30.0, 1000.0])},
                  "x = +-1000, where exp(x) or exp(-x) overflows"),
             Case({"grad_output": np.array([1.0, -1.0, 2.0, 1.0, 0.5], dtype=f32),
                   "x": np.array([-1000.0, -100.0, 0.5, 100.0, 1000.0], dtype=f32)},
                  "float32, where exp overflows above 88.7"),
             Case({"grad_output": np.round(rng.normal(size=(1, 2, 3, 3)), 1), "x": _random_x(rng, (1, 2, 3, 3), 3.0)},
                  "a batch of one image"),
             Case({"grad_output": np.round(rng.normal(size=(2, 1, 2, 5)), 1), "x": _random_x(rng, (2, 1, 2, 5), 3.0)},
                  "non-square images")]
    for _ in range(16):
        shape = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 4)))
        cases.append(Case({"grad_output": np.round(rng.normal(size=shape), 1),
                           "x": np.round(rng.normal(0.0, 3.0, size=shape), 1)}, "random"))
    return cases


def _not_finite(a) -> bool:
    try:
        return not bool(np.all(np.isfinite(np.asarray(a, dtype=np.float64))))
    except (TypeError, ValueError):
        return False


def _s(x):
    """sigmoid(x) in float64, stable for any x: the hints compare with it."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))                                  # <= 1: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


SIGMOID_BACKWARD_HINTS = (
    Hint("exp overflows for large |x| and gives nan (inf / inf); write sigma with exp of a number <= 0, "
         "or use sigmoid(x), which is stable",
         lambda i, e, a: np.abs(i["x"]).max() > 80 and _not_finite(a)),
    Hint("sigma * (1 - sigma) takes sigma = sigmoid(x), the layer's output, not the input x itself",
         lambda i, e, a: is_close(a, i["grad_output"] * i["x"] * (1 - i["x"]))),
    Hint("multiply by grad_output: the chain rule gives grad_output times sigmoid's local derivative",
         lambda i, e, a: is_close(a, _s(i["x"]) * (1 - _s(i["x"])))),
    Hint("the derivative of sigmoid is sigmoid(x) * (1 - sigmoid(x)), not sigmoid(x) itself",
         lambda i, e, a: is_close(a, i["grad_output"] * _s(i["x"]))),
    Hint("1 - s**2 is tanh's derivative; sigmoid's is s * (1 - s)",
         lambda i, e, a: is_close(a, i["grad_output"] * (1 - _s(i["x"]) ** 2))),
    Hint("check the sign: sigmoid rises everywhere, so its slope s * (1 - s) is positive",
         lambda i, e, a: is_close(a, -np.asarray(e))),
)


@exercise
def check_sigmoid_backward(sigmoid_backward) -> bool:
    """``sigmoid_backward(grad_output, x) -> grad_input``, elementwise, any shape, finite for x = +-1000."""
    return check_function(sigmoid_backward, ref.sigmoid_backward, _sigmoid_backward_cases(),
                          "Sigmoid backward", hints=SIGMOID_BACKWARD_HINTS,
                          success="At most a quarter of the gradient gets through, at x = 0.",
                          allowed=("cnnlib.numpy_nn.activation.sigmoid",))  # the forward pass is given


# -- the fully connected layer -------------------------------------------------------------------
def _linear_shapes(rng: np.random.Generator):
    """(label, N, in, out): square layers first (a transposed weight gives a wrong value, not a shape
    error), then N == out (a bias added along the wrong axis still runs), the network's two layers."""
    yield "a square layer", 2, 2, 2
    yield "a batch of one", 1, 3, 3
    yield "a batch of one", 1, 2, 4
    yield "as many samples as outputs", 3, 2, 3
    yield "one output", 4, 3, 1
    yield "one input feature", 4, 1, 4
    yield "the first layer of 01's network", NETWORK["batch"], NETWORK["in"], NETWORK["hidden"]
    yield "the second layer of 01's network", NETWORK["batch"], NETWORK["hidden"], NETWORK["out"]
    yield "04's linear classifier", CLASSIFIER_04["batch"], CLASSIFIER_04["in"], CLASSIFIER_04["out"]
    for _ in range(12):
        yield ("random", *(int(s) for s in rng.integers(2, 6, size=3)))
    for i, o in LENET_07_LINEAR:
        yield f"07's LeNet-5: Linear({i}, {o})", 2, i, o


def _linear_forward_cases() -> list[Case]:
    rng = np.random.default_rng(1312)
    cases = []
    for label, n, i, o in _linear_shapes(rng):
        cases.append(Case({"x": np.round(rng.normal(size=(n, i)), 1), "weight": np.round(rng.normal(size=(o, i)), 1),
                           "bias": np.round(rng.normal(size=o), 1)}, label))
    cases.insert(3, Case({"x": -np.abs(np.round(rng.normal(size=(2, 3)), 1)) - 0.1,
                          "weight": np.round(rng.normal(size=(3, 3)), 1), "bias": np.array([-1.0, 0.5, 2.0])},
                         "all-negative inputs"))
    return cases


def _linear_backward_cases() -> list[Case]:
    rng = np.random.default_rng(1313)
    cases = []
    for label, n, i, o in _linear_shapes(rng):
        cases.append(Case({"grad_output": np.round(rng.normal(size=(n, o)), 1),
                           "x": np.round(rng.normal(size=(n, i)), 1),
                           "weight": np.round(rng.normal(size=(o, i)), 1)}, label))
    return cases


LINEAR_FORWARD_HINTS = (
    Hint("forgot the bias: every output adds its bias[o]",
         lambda i, e, a: is_close(a, i["x"] @ i["weight"].T)),
    Hint("the bias is added, not subtracted",
         lambda i, e, a: is_close(a, i["x"] @ i["weight"].T - i["bias"])),
    Hint("the weight is stored (out_features, in_features), as in PyTorch: multiply by its transpose",
         lambda i, e, a: is_close(a, i["x"] @ i["weight"] + i["bias"])),
    Hint("the result has one row per sample, shape (N, out_features): that is its transpose",
         lambda i, e, a: is_close(a, (i["x"] @ i["weight"].T + i["bias"]).T)),
    Hint("bias[o] belongs to output o, a column of the result: add bias (shape (out,)), not bias[:, None]",
         lambda i, e, a: is_close(a, i["x"] @ i["weight"].T + i["bias"][:, None])),
    Hint("each output is the SUM of weight times input over the inputs, not their mean",
         lambda i, e, a: is_close(a, i["x"] @ i["weight"].T / i["x"].shape[1] + i["bias"])),
)


def _part_wrong(k: int, wrong_as):
    """A hint on result ``k`` only: it is off from the expected and matches ``wrong_as(inputs)``."""
    return lambda i, e, a: not is_close(a[k], e[k]) and is_close(a[k], wrong_as(i))


def _swapped(i, e, a) -> bool:
    return not is_close(a[0], e[0]) and is_close(a[0], e[1]) and is_close(a[1], e[0])


LINEAR_BACKWARD_HINTS = (
    Hint("return (grad_input, grad_weight, grad_bias) in that order: the first two are swapped", _swapped),
    Hint("grad_bias is summed over the batch, not averaged: every sample adds to the same bias",
         _part_wrong(2, lambda i: i["grad_output"].mean(axis=0))),
    Hint("grad_bias has one entry per output: sum grad_output over the batch (axis 0)",
         _part_wrong(2, lambda i: i["grad_output"])),
    Hint("grad_weight is summed over the batch, not averaged: every sample adds to the same weight",
         _part_wrong(1, lambda i: i["grad_output"].T @ i["x"] / len(i["x"]))),
    Hint("grad_weight has the weight's layout (out_features, in_features): it is grad_output.T @ x",
         _part_wrong(1, lambda i: i["x"].T @ i["grad_output"])),
    Hint("grad_input is grad_output @ weight: the forward pass used weight.T, so the backward undoes that",
         _part_wrong(0, lambda i: i["grad_output"] @ i["weight"].T)),
)


@exercise
def check_linear_forward(linear_forward) -> bool:
    """``linear_forward(x, weight, bias) -> out``: x (N, in), weight (out, in), bias (out,) -> (N, out)."""
    return check_function(linear_forward, ref.linear_forward, _linear_forward_cases(),
                          "Linear forward", hints=LINEAR_FORWARD_HINTS)


@exercise
def check_linear_backward(linear_backward) -> bool:
    """``linear_backward(grad_output, x, weight) -> (grad_input, grad_weight, grad_bias)``."""
    return check_function(linear_backward, ref.linear_backward, _linear_backward_cases(),
                          "Linear backward", hints=LINEAR_BACKWARD_HINTS,
                          output_names=("grad_input", "grad_weight", "grad_bias"),
                          success="That is the whole fully connected layer, both ways.")


__all__ = ["CLASSIFIER_04", "LENET_07_LINEAR", "LENET_07_MAPS", "NETWORK", "check_linear_backward", "check_linear_forward", "check_relu_backward", "check_relu_forward",
           "check_sigmoid_backward"]
