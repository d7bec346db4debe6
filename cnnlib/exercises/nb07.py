"""Checkers for the exercises of 07_case_studies_lenet.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_count, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.receptive_field import receptive_field

# Exercise 1: LeNet-5's parameters, layer by layer: (F*F*C_in + 1) * C_out for a convolution,
# (inputs + 1) * outputs for a fully connected layer, 0 for a pooling layer.
LENET5_LAYERS = (("C1", 5, 1, 6), ("C3", 5, 6, 16), ("C5", 5, 16, 120), ("F6", 1, 120, 84), ("OUTPUT", 1, 84, 10))
LENET5_PARAMS = 61_706
LENET5_WEIGHTS = 61_470  # without the 236 biases

def _check_lenet5_params(answer) -> None:
    n = as_count(answer, "the count")
    if n == LENET5_WEIGHTS:
        raise AssertionError("that is the weights only: every filter and every unit also has one bias")
    if n == 1_516 + 156 + 48_120 + 10_164 + 850:
        raise AssertionError("that is the 1998 paper's sparse C3; here C3 sees all six S2 maps")
    if n != LENET5_PARAMS:
        raise AssertionError(f"{n:,} is not it: add (F*F*C_in + 1)*C_out over C1, C3, C5 and "
                             "(inputs + 1)*outputs over F6 and the output layer; pooling adds nothing")


@exercise
def check_lenet5_params(answer) -> bool:
    """Exercise 1: ``answer`` is the number of parameters of LeNet-5 (weights and biases)."""
    return verdict(answer, _check_lenet5_params, "Exercise 1", "C5 alone holds 48,120 of them.")



# -- function exercise -----------------------------------------------------------------------------
# Exercise 2: the receptive field rule, r_out = r_in + (k - 1) * j_in and j_out = j_in * s.

def _receptive_fields(layers):
    return [r.receptive_field for r in receptive_field([(str(i), k, s) for i, (k, s) in enumerate(layers)])]


def _rf_variant(layers, step):
    r, j, out = 1, 1, []
    for k, s in layers:
        r, j = step(r, j, k, s)
        out.append(r)
    return out


def _rf_cases() -> list[Case]:
    rng = np.random.default_rng(705)
    cases = [Case({"layers": [(3, 1)]}, "one 3x3 layer"),
             Case({"layers": [(3, 1), (3, 1), (3, 1)]}, "three 3x3 layers: 7"),
             Case({"layers": [(2, 2), (3, 1)]}, "a pooling, then a 3x3"),
             Case({"layers": [(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)]}, "LeNet-5")]
    for _ in range(20):
        cases.append(Case({"layers": [(int(rng.integers(1, 6)), int(rng.integers(1, 4)))
                                      for _ in range(int(rng.integers(1, 7)))]}, "random"))
    return cases


def _rf_hint(step):
    return lambda inputs, expected, actual: [float(v) for v in actual] == _rf_variant(inputs["layers"], step)


RECEPTIVE_FIELD_HINTS = (
    Hint("the jump must grow: after a stride-s layer, neighbouring pixels are j*s input pixels apart",
         _rf_hint(lambda r, j, k, s: (r + (k - 1), 1))),
    Hint("multiply (k - 1) by the jump j_in of the layer's input, not by the layer's own stride",
         _rf_hint(lambda r, j, k, s: (r + (k - 1) * s, j * s))),
    Hint("use the jump of the layer's input: grow r first, then multiply the jump by the stride",
         _rf_hint(lambda r, j, k, s: (r + (k - 1) * j * s, j * s))),
    Hint("a k-wide kernel adds k - 1 steps to the field, not k",
         _rf_hint(lambda r, j, k, s: (r + k * j, j * s))),
)


@exercise
def check_receptive_fields(receptive_fields) -> bool:
    """``receptive_fields(layers) -> [r after each layer]`` for rows ``(kernel, stride)``."""
    return check_function(receptive_fields, _receptive_fields, _rf_cases(), "Exercise 2", hints=RECEPTIVE_FIELD_HINTS,
                          success="Depth and stride, not big kernels, make the field grow.")


# -- function exercise -----------------------------------------------------------------------------
# Exercise 3: LeNet-5's forward pass, assembled from layer functions (cnnlib.models.lenet_layers).

class LayerKit:
    """cnnlib's layers, declared as the learner's are, as attributes: like what ``my_layers()`` returns."""

    def __init__(self):
        from cnnlib.exercises import references
        from cnnlib.models.lenet_layers import LAYERS_USED
        for name in LAYERS_USED:
            setattr(self, name, getattr(references, name))

    def __repr__(self) -> str:
        return "cnnlib's layers (conv2d_im2col, relu_forward, max_pool_forward, linear_forward, ...)"


def _layer_kit():
    return LayerKit()


def _lenet_forward(x, params, layers):
    from cnnlib.models.lenet_layers import forward
    return forward(x, params, layers)[0]


def _lenet_cases() -> list[Case]:
    from cnnlib.models.lenet_layers import init_params
    rng = np.random.default_rng(707)
    kit = _layer_kit()
    cases = []
    for n, label in [(1, "a batch of one image"), (3, "three images"), (2, "two images, other weights")]:
        params = init_params(int(rng.integers(1000)))
        params = {k: v + (0.1 * rng.normal(size=v.shape) if k.endswith("_b") else 0.0) for k, v in params.items()}
        x = np.round(rng.random((n, 1, 28, 28)), 2)
        cases.append(Case({"x": x, "params": params, "layers": kit}, label))
    return cases


def _lenet_variant(i, relu_after=("c5", "f6"), flatten_hwc=False, biases=True):
    p = i["params"] if biases else {k: (v * 0 if k.endswith("_b") else v) for k, v in i["params"].items()}
    layers = i["layers"]
    h = layers.relu_forward(layers.conv2d_im2col(i["x"], p["c1_w"], p["c1_b"], 1, 2))
    h = layers.max_pool_forward(h, 2, 2)
    h = layers.max_pool_forward(layers.relu_forward(layers.conv2d_im2col(h, p["c3_w"], p["c3_b"], 1, 0)), 2, 2)
    h = h.transpose(0, 2, 3, 1).reshape(len(h), -1) if flatten_hwc else h.reshape(len(h), -1)
    for name in ("c5", "f6", "out"):
        h = layers.linear_forward(h, p[f"{name}_w"], p[f"{name}_b"])
        if name in relu_after:
            h = layers.relu_forward(h)
    return h


def _lenet_hint(**change):
    return lambda i, e, a: is_close(a, _lenet_variant(i, **change))


LENET_FORWARD_HINTS = (
    Hint("the output layer has no ReLU: class scores (logits) may be negative",
         _lenet_hint(relu_after=("c5", "f6", "out"))),
    Hint("C5 and F6 are each followed by a ReLU", _lenet_hint(relu_after=())),
    Hint("flatten each image's 16 maps of 5x5 in NumPy's order, h.reshape(len(h), -1): channel first, "
         "then rows, then columns", _lenet_hint(flatten_hwc=True)),
    Hint("every layer adds its bias: pass params['<name>_b'] to each convolution and linear layer",
         _lenet_hint(biases=False)),
)


@exercise(points=2)
def check_lenet5_forward(lenet5_forward) -> bool:
    """Exercise 3: ``lenet5_forward(x, params, layers) -> logits`` of shape (N, 10), x of shape (N, 1, 28, 28)."""
    return check_function(lenet5_forward, _lenet_forward, _lenet_cases(), "Exercise 3", hints=LENET_FORWARD_HINTS,
                          success="Your assembly computes what cnnlib.models.lenet_layers.forward computes.")
