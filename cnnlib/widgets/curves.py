"""What the activation explorer draws: f(x) and f'(x) from the NumPy layers' own forward/backward.

Taught in 01_neural_nets_activations. The derivative is not written out again here: it is the
backward pass of `cnnlib.numpy_nn.activation` fed with an upstream gradient of ones,
``f'(x) = name_backward(ones, cache)``, so the explorer shows exactly what the layers compute
(including PyTorch's conventions at the kinks).
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_float
from cnnlib.numpy_nn import activation as act

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu")

FORMULAS = {
    "sigmoid": "σ(x) = 1 / (1 + e^(−x))",
    "tanh": "tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))",
    "relu": "relu(x) = max(0, x)",
    "leaky_relu": "leaky_relu(x) = max(x, {negative_slope:g}·x)",
    "elu": "elu(x) = x if x > 0 else {alpha:g}·(e^x − 1)",
}


def activation_formula(name: str, negative_slope: float = 0.01, alpha: float = 1.0) -> str:
    """The formula of an activation with its parameter filled in, e.g. ``relu(x) = max(0, x)``."""
    if name not in FORMULAS:
        raise ValueError(f"name must be one of {', '.join(ACTIVATIONS)}; got {name!r}")
    return FORMULAS[name].format(negative_slope=negative_slope, alpha=alpha)


def activation_curves(name: str, x: np.ndarray, negative_slope: float = 0.01,
                      alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` for a named activation, via ``name_forward`` and ``name_backward``.

    Shape: x (any shape) -> two arrays of the same shape.

    >>> y, dy = activation_curves("leaky_relu", np.array([-2.0, 3.0]), negative_slope=0.1)
    >>> y.tolist(), dy.tolist()
    ([-0.2, 3.0], [0.1, 1.0])
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"name must be one of {', '.join(ACTIVATIONS)}; got {name!r}")
    x = np.asarray(x, dtype=np.float64)
    if name == "leaky_relu":
        y, cache = act.leaky_relu_forward(x, check_float(negative_slope, "negative_slope"))
    elif name == "elu":
        y, cache = act.elu_forward(x, check_float(alpha, "alpha"))
    else:
        y, cache = getattr(act, f"{name}_forward")(x)
    dy = getattr(act, f"{name}_backward")(np.ones_like(x), cache)
    return y, dy
