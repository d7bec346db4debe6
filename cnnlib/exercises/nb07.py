"""Checkers for the exercises of 07_case_studies_lenet.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_count
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
