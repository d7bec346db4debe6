"""Checkers for the exercises of 08_case_studies_alexnet_vgg.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_number, as_numbers, expect_by_hand
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.shapes import conv_output_size

# Exercise 1: the lecture's AlexNet CONV2: 256 5x5 filters at stride 1, pad 2, on POOL1's 27x27x96.
CONV2_INPUT = (27, 27, 96)
CONV2_ANSWER = (27, 27, 256, (5 * 5 * 96 + 1) * 256)  # (height, width, depth, parameters) = 614,656

# Exercise 2: the share of VGG16's parameters in its three fully connected layers.
VGG16_PARAMS = 138_357_544
VGG16_FC_PARAMS = (25_088 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000  # fc6 + fc7 + fc8
VGG16_FC_SHARE = VGG16_FC_PARAMS / VGG16_PARAMS  # 0.8936...


def _check_alexnet_conv2(answer) -> None:
    height, width, depth, params = (float(v) for v in as_numbers(answer, (4,), "your answer",
        ask="give four numbers: (height, width, depth, number of parameters)"))
    if (height, width) != CONV2_ANSWER[:2]:
        raise AssertionError(f"the size is not {height:g}x{width:g}: (N - F + 2P)/S + 1 with N = 27, F = 5, "
                             "P = 2, S = 1; a 'same' padding keeps 27")
    if depth != CONV2_ANSWER[2]:
        raise AssertionError("the output depth is the number of filters")
    if params == 5 * 5 * 96 * 256:
        raise AssertionError("that is the weights: add one bias per filter")
    if params == (5 * 5 * 48 + 1) * 256:
        raise AssertionError("that is the paper's two towers, each filter seeing 48 maps; "
                             "the lecture's single tower sees all 96")
    if params != CONV2_ANSWER[3]:
        raise AssertionError(f"{params:,.10g} parameters is not it: each filter is 5x5x96, plus a bias")


@exercise
def check_alexnet_conv2(answer) -> bool:
    """Exercise 1: ``answer`` = (height, width, depth, parameters) of AlexNet's CONV2 output."""
    return verdict(answer, _check_alexnet_conv2, "Exercise 1", "CONV2: 27x27x256 and 614,656 parameters.")


def _check_vgg16_fc_share(answer) -> None:
    share = as_number(answer, "the share")
    if 1 < share <= 100:
        raise AssertionError("give a fraction between 0 and 1, not a percentage")
    if abs(share - (1 - VGG16_FC_SHARE)) < 0.01:
        raise AssertionError("that is the share of the convolutions; the question asks for fc6, fc7 and fc8")
    expect_by_hand(share, VGG16_FC_SHARE, name="your share", rtol=5e-3, sig_figs=2)


@exercise
def check_vgg16_fc_share(answer) -> bool:
    """Exercise 2: ``answer`` is the fraction of VGG16's parameters in fc6, fc7 and fc8 (with or without biases)."""
    return verdict(answer, _check_vgg16_fc_share, "Exercise 2",
                   "Nine parameters in ten sit in the three fully connected layers; fc6 alone holds 74%.")


# -- function exercises ----------------------------------------------------------------------------
# Exercise 3: a layer table's output shapes and parameter counts. Rows: ("conv", F, stride, pad, C_out),
# ("pool", F, stride), ("fc", units); the input is (H, W, C).

def _layer_table(layers, input_hwc, bias=True, c_out_as_c_in=False, ignore_padding=False, fc_sees_depth=False):
    """The reference (and, with a flag, one known mistake): [((H, W, C) or (units,), params), ...]."""
    shape, out = tuple(int(v) for v in input_hwc), []
    for row in layers:
        kind, *args = row
        if kind == "fc":
            (units,) = args
            inputs = int(shape[-1]) if fc_sees_depth else int(np.prod(shape))
            out.append(((units,), (inputs + int(bias)) * units))
            shape = (units,)
            continue
        h, w, c = shape
        f, stride, pad = (args[0], args[1], 0 if ignore_padding else args[2]) if kind == "conv" else (*args, 0)
        size = (lambda n: (n - f + 2 * pad) // stride + 1) if ignore_padding else (
            lambda n: conv_output_size(n, f, stride=stride, padding=pad))
        if kind == "conv":
            c_out = args[3]
            params = (f * f * (c_out if c_out_as_c_in else c) + int(bias)) * c_out
            shape = (size(h), size(w), c_out)
        elif kind == "pool":
            params, shape = 0, (size(h), size(w), c)
        else:
            raise ValueError(f"unknown layer kind {kind!r}: use 'conv', 'pool' or 'fc'")
        out.append((shape, params))
    return out


def _fits(n, f, stride, pad) -> bool:
    return n + 2 * pad >= f and (n + 2 * pad - f) % stride == 0


def _random_table(rng: np.random.Generator):
    """A random table that fits: a few conv/pool rows, then zero to two fc rows."""
    while True:
        h, w, c = int(rng.integers(6, 20)), int(rng.integers(6, 20)), int(rng.integers(1, 5))
        layers, hh, ww = [], h, w
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.6:
                f, s, p = int(rng.choice([1, 3, 5])), int(rng.integers(1, 3)), int(rng.integers(0, 3))
                row = ("conv", f, s, p, int(rng.integers(1, 9)))
            else:
                f = int(rng.integers(2, 4))
                s, p = int(rng.choice([f, 2])), 0
                row = ("pool", f, s)
            if not (_fits(hh, f, s, p) and _fits(ww, f, s, p)):
                break
            layers.append(row)
            hh, ww = (hh + 2 * p - f) // s + 1, (ww + 2 * p - f) // s + 1
        else:
            layers += [("fc", int(rng.integers(2, 12))) for _ in range(int(rng.integers(0, 3)))]
            if any(r[0] == "conv" for r in layers):
                return layers, (h, w, c)


def _table_cases() -> list[Case]:
    rng = np.random.default_rng(704)
    cases = [Case({"layers": [("conv", 3, 1, 0, 4)], "input_hwc": (5, 5, 2)}, "one convolution, no padding"),
             Case({"layers": [("conv", 3, 1, 1, 2)], "input_hwc": (4, 6, 3)}, "padding 1 keeps the size; H != W"),
             Case({"layers": [("conv", 1, 1, 0, 3), ("pool", 2, 2)], "input_hwc": (4, 4, 5)}, "a 1x1 conv, then pooling"),
             Case({"layers": [("fc", 10)], "input_hwc": (2, 3, 4)}, "only a fully connected layer"),
             Case({"layers": [("conv", 11, 4, 0, 96), ("pool", 3, 2), ("conv", 5, 1, 2, 256)],
                   "input_hwc": (227, 227, 3)}, "AlexNet's first layers"),
             Case({"layers": [("conv", 1, 3, 0, 2), ("pool", 2, 3)], "input_hwc": (7, 10, 1)},
                  "strides larger than the kernels; H != W"),
             Case({"layers": [("conv", 3, 2, 0, 4)], "input_hwc": (6, 6, 1)},
                  "a filter that does not fit (6 - 3)/2 + 1 = 2.5: raise ValueError"),
             Case({"layers": [("conv", 3, 1, 0, 2), ("pool", 2, 2)], "input_hwc": (5, 6, 1)},
                  "a pooling window that does not fit the 3x4 map: raise ValueError"),
             Case({"layers": [("conv", 7, 1, 1, 2)], "input_hwc": (4, 4, 3)},
                  "a filter larger than the padded input (7 > 4 + 2): raise ValueError"),
             Case({"layers": [("conv", 3, 1, 1, 2), ("fc", 5), ("fc", 3)], "input_hwc": (2, 3, 4)},
                  "fully connected layers after a convolution")]
    return cases + [Case(dict(zip(("layers", "input_hwc"), _random_table(rng))), "random") for _ in range(25)]


def _flat(result) -> list[float]:
    return [float(v) for shape, params in result for v in (*shape, params)]


def _same_as(variant):
    def applies(inputs, expected, actual):  # not where the reference refuses the case (a filter does not fit)
        return not isinstance(expected, Exception) and _flat(actual) == _flat(variant(inputs["layers"], inputs["input_hwc"]))
    return applies


def _pool_has_params(inputs, expected, actual):
    return not isinstance(expected, Exception) and any(row[0] == "pool" and float(a[1]) != 0 for row, a in zip(inputs["layers"], actual))


LAYER_TABLE_HINTS = (
    Hint("every filter and every fully connected unit also has one bias", _same_as(
        lambda layers, hwc: _layer_table(layers, hwc, bias=False))),
    Hint("a filter spans the depth of its INPUT: F*F*C_in weights, not F*F*C_out", _same_as(
        lambda layers, hwc: _layer_table(layers, hwc, c_out_as_c_in=True))),
    Hint("padding P adds 2P to the size: (N - F + 2P)/S + 1", _same_as(
        lambda layers, hwc: _layer_table(layers, hwc, ignore_padding=True))),
    Hint("a pooling layer has nothing to learn: 0 parameters", _pool_has_params),
    Hint("a fully connected layer sees every value of its input, H*W*C of them, not only its depth C",
         _same_as(lambda layers, hwc: _layer_table(layers, hwc, fc_sees_depth=True))),
    Hint("write shapes as (H, W, C), height first and depth last, as the input is given",
         lambda i, e, a: [tuple(shape) for shape, _ in a] == [tuple(shape[-1:] + shape[:-1]) if len(shape) == 3 else
                                                              tuple(shape) for shape, _ in e]
         and any(len(shape) == 3 and len(set(shape)) > 1 for shape, _ in e)),
)


@exercise
def check_layer_table(layer_table) -> bool:
    """``layer_table(layers, input_hwc) -> [(output_shape, params), ...]``, one pair per row."""
    return check_function(layer_table, _layer_table, _table_cases(), "Exercise 3", hints=LAYER_TABLE_HINTS,
                          success="That is cnnlib.arch.summary's table, by the two rules.",
                          allowed=("cnnlib.shapes.conv_output_size",))  # 02's exercise, given here


# Exercise 4: multiply-adds per row of the same layer tables. A convolution does F*F*C_in multiply-adds for
# each of its H_out*W_out*C_out outputs (the bias is an add, not counted); a fully connected layer one per
# weight; a pooling layer none (a max compares, it multiplies nothing). As cnnlib.arch.summary counts them.

def _layer_macs(layers, input_hwc, per_input_position=False, c_out_depth=False, with_bias=False,
                without_c_out=False, pool_macs=False):
    """The reference (and, with a flag, one known mistake): one count per row."""
    table = _layer_table(layers, input_hwc)
    shape, out = tuple(int(v) for v in input_hwc), []
    for row, (out_shape, _) in zip(layers, table):
        kind, *args = row
        if kind == "fc":
            out.append(int(np.prod(shape)) * args[0])
        elif kind == "conv":
            f, c_in, (h, w, c_out) = args[0], shape[2], out_shape
            positions = shape[0] * shape[1] if per_input_position else h * w
            per_output = f * f * (c_out if c_out_depth else c_in) + int(with_bias)
            out.append(positions * (1 if without_c_out else c_out) * per_output)
        else:
            out.append(out_shape[0] * out_shape[1] * out_shape[2] * args[0] * args[0] if pool_macs else 0)
        shape = out_shape
    return out


def _macs_cases() -> list[Case]:
    cases = [Case(dict(c.inputs), c.label) for c in _table_cases()]
    return cases + [Case({"layers": [("conv", 3, 1, 1, 64), ("conv", 3, 1, 1, 64), ("pool", 2, 2)],
                          "input_hwc": (224, 224, 3)}, "VGG16's first block")]


def _macs_same_as(**mistake):
    def applies(inputs, expected, actual):
        wrong = _layer_macs(inputs["layers"], inputs["input_hwc"], **mistake)
        return wrong != list(expected) and [float(v) for v in actual] == [float(v) for v in wrong]
    return applies


LAYER_MACS_HINTS = (
    Hint("count per OUTPUT position: H_out*W_out*C_out outputs, each F*F*C_in multiply-adds",
         _macs_same_as(per_input_position=True)),
    Hint("a filter spans its input's depth: F*F*C_in multiply-adds per output, not F*F*C_out",
         _macs_same_as(c_out_depth=True)),
    Hint("the bias is an addition, not a multiply-add: F*F*C_in per output", _macs_same_as(with_bias=True)),
    Hint("every one of the C_out filters makes its own H_out*W_out outputs: multiply by C_out too",
         _macs_same_as(without_c_out=True)),
    Hint("count a pooling layer as 0: a max compares numbers, it multiplies nothing", _macs_same_as(pool_macs=True)),
    Hint("a fully connected layer does one multiply-add per weight: its inputs (H*W*C) times its units",
         lambda i, e, a: any(row[0] == "fc" and float(x) != float(y) for row, x, y in zip(i["layers"], a, e))
         and all(float(x) == float(y) for row, x, y in zip(i["layers"], a, e) if row[0] != "fc")),
)


@exercise
def check_layer_macs(layer_macs) -> bool:
    """``layer_macs(layers, input_hwc) -> [multiply-adds of each row]``, rows as in Exercise 3."""
    return check_function(layer_macs, _layer_macs, _macs_cases(), "Exercise 4", hints=LAYER_MACS_HINTS,
                          success="The same count as cnnlib.arch.summary's macs column.",
                          allowed=("cnnlib.shapes.conv_output_size",))
