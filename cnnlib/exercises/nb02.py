"""Exercises of 02_convolution. Each checker prints a verdict and returns True or False.

Function exercises: ``output_size`` (the formula, raising ValueError where the filter doesn't fit),
``conv2d_loops`` (the forward pass as loops) and ``conv2d_im2col`` (the same, vectorized: a layer the
learner keeps in ``my_layers/`` and trains with in 07). Both convolutions are checked on the same
cases (``_conv_cases``) against :mod:`cnnlib.exercises.references`.
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_count, as_number, as_numbers, expect_equal, is_close
from itertools import permutations

from cnnlib.exercises import references
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.shapes import conv_output_size


@exercise
def check_output_shape(answer) -> bool:
    """Exercise 1: the output shape of ``Conv2d(3, 10, 5, stride=1, padding=2)`` on a batch of shape (4, 3, 32, 32)."""

    def check(a):
        a = tuple(int(v) for v in as_numbers(a, (4,), "the shape", integer=True))
        if a == (4, 32, 32, 10):
            raise AssertionError("the layers use NCHW: channels come second, (N, C, H, W)")
        expect_equal(a, (4, 10, 32, 32), "the shape")

    return verdict(answer, check, "Exercise 1", success="padding (F - 1) / 2 keeps the height and width.")


@exercise
def check_conv_parameters(answer) -> bool:
    """Exercise 2: the parameters of a conv layer with 64 filters of size 3x3 over a 16-channel input."""

    def check(a):
        a = as_count(a, "the parameter count")
        if a == 64 * 16 * 9:
            raise AssertionError("that counts the weights; each filter also has one bias")
        if a == 64 * 9 + 64:
            raise AssertionError("each filter spans all 16 input channels: it is 3x3x16")
        expect_equal(a, 64 * 16 * 9 + 64, "the parameter count")

    return verdict(answer, check, "Exercise 2", success="the count does not depend on the image size.")


@exercise
def check_stride_padding(answer) -> bool:
    """Exercise 3: a ``(stride, padding)`` for which a 3x3 filter on a 7x7 input gives exactly 4x4."""

    def check(a):
        stride, padding = (int(v) for v in as_numbers(a, (2,), "your answer", integer=True,
            ask="answer with a pair (stride, padding), e.g. (1, 0)"))
        if stride < 1 or padding < 0:
            raise AssertionError(f"the stride must be at least 1 and the padding at least 0; got ({stride}, {padding})")
        if padding >= 3:
            raise AssertionError(f"padding={padding} puts whole 3x3 windows on zeros only; use less")
        try:
            size = conv_output_size(7, 3, stride, padding)
        except ValueError as err:
            raise AssertionError(str(err)) from None
        expect_equal(size, 4, "the output size")

    return verdict(answer, check, "Exercise 3", success="the formula gives exactly 4.")


# -- function exercises: the output-size formula, conv2d forward as loops -------------------------
def _output_size_cases() -> list[Case]:
    cases = [Case({"n": 7, "f": 3, "stride": 1, "padding": 0}, "the lecture's 7x7, stride 1"),
             Case({"n": 7, "f": 3, "stride": 2, "padding": 0}, "the lecture's 7x7, stride 2"),
             Case({"n": 7, "f": 3, "stride": 3, "padding": 0}, "the lecture's 7x7, stride 3: doesn't fit"),
             Case({"n": 7, "f": 3, "stride": 1, "padding": 1}, "padding 1 keeps 7x7"),
             Case({"n": 32, "f": 5, "stride": 1, "padding": 2}, "padding (F - 1)/2"),
             Case({"n": 227, "f": 11, "stride": 4, "padding": 0}, "AlexNet's first layer"),
             Case({"n": 3, "f": 5, "stride": 1, "padding": 0}, "a filter larger than the input: doesn't fit"),
             Case({"n": 2, "f": 5, "stride": 1, "padding": 1}, "a filter larger than the padded input (4x4)")]
    rng = np.random.default_rng(1321)
    for _ in range(40):
        n, f, s, p = int(rng.integers(1, 40)), int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        cases.append(Case({"n": n, "f": f, "stride": s, "padding": p}, "random"))
    return cases


def _doesnt_fit(e) -> bool:
    return isinstance(e, ValueError)


def _formula(i, padding_factor=2, stride=True):
    return (i["n"] - i["f"] + padding_factor * i["padding"]) / (i["stride"] if stride else 1) + 1


def _too_large(i) -> bool:
    return i["f"] > i["n"] + 2 * i["padding"]


OUTPUT_SIZE_HINTS = (
    Hint("a filter larger than the padded input (F > N + 2P) fits nowhere: raise ValueError",
         lambda i, e, a: _doesnt_fit(e) and _too_large(i)),
    Hint("when (N - F + 2P) / stride is not a whole number the filter doesn't fit: raise ValueError",
         lambda i, e, a: _doesnt_fit(e) and not _too_large(i) and (
             abs(as_number(a) - np.floor(_formula(i))) < 1e-9 or abs(as_number(a) - _formula(i)) < 1e-9)),
    Hint("the padding is added on both sides: N becomes N + 2P",
         lambda i, e, a: not _doesnt_fit(e) and abs(as_number(a) - _formula(i, padding_factor=1)) < 1e-9),
    Hint("padding ignored: with P pixels of zeros on each side N becomes N + 2P",
         lambda i, e, a: not _doesnt_fit(e) and abs(as_number(a) - _formula(i, padding_factor=0)) < 1e-9),
    Hint("stride ignored: the filter moves `stride` pixels at a time, so divide by the stride",
         lambda i, e, a: not _doesnt_fit(e) and abs(as_number(a) - _formula(i, stride=False)) < 1e-9),
)


@exercise(points=2)
def check_output_size(output_size) -> bool:
    """``output_size(n, f, stride, padding) -> int``, raising ValueError when the filter doesn't fit."""
    return check_function(output_size, conv_output_size, _output_size_cases(), "Output size",
                          hints=OUTPUT_SIZE_HINTS, rtol=0, atol=0)


def _conv_cases() -> list[Case]:
    """The cases of both convolutions, conv2d_loops and conv2d_im2col: every geometry a later cell
    calls them with (02's astronaut and Fashion-MNIST cells, 07's LeNet-5 layers, 08's CONV1), filters that do
    not fit, negative values, a batch of one, non-square images and float32."""
    rng = np.random.default_rng(1322)

    def case(n, c_in, c_out, h, w, f, stride, padding, label, dtype=np.float64, sign=0, scale=None):
        x = np.round(rng.normal(size=(n, c_in, h, w)), 1)
        x = -np.abs(x) - 0.1 if sign < 0 else x
        x = x * np.asarray(scale)[:, None, None, None] if scale else x
        return Case({"x": x.astype(dtype), "weight": np.round(rng.normal(size=(c_out, c_in, f, f)), 1).astype(dtype),
                     "bias": np.round(rng.normal(size=c_out), 1).astype(dtype), "stride": stride,
                     "padding": padding}, label)

    cases = [case(1, 1, 1, 4, 4, 2, 1, 0, "a batch of one, one channel"),
             case(1, 1, 1, 5, 5, 3, 2, 0, "stride 2"),
             case(1, 1, 1, 3, 3, 2, 1, 1, "padding 1"),
             case(1, 2, 3, 3, 4, 1, 1, 0, "a 1x1 filter over two channels"),
             case(2, 2, 2, 5, 5, 3, 2, 1, "stride 2 and padding 1"),
             case(1, 1, 1, 4, 6, 3, 1, 0, "a wide image"),
             case(1, 2, 2, 7, 4, 3, 1, 0, "a tall image"),
             case(2, 2, 2, 5, 5, 3, 1, 1, "every input value negative", sign=-1),
             case(2, 2, 2, 5, 4, 3, 1, 1, "two images of very different scale (x1000 and x0.001)", scale=(1e3, 1e-3)),
             case(1, 1, 2, 7, 8, 2, 3, 0, "stride 3, larger than the 2x2 filter: some pixels are skipped"),
             case(1, 1, 1, 3, 3, 5, 1, 0, "a filter larger than the input: raise ValueError"),
             case(1, 1, 1, 2, 6, 5, 1, 1, "a filter taller than the padded input (4 rows): raise ValueError")]
    while len(cases) < 35:
        f, s, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        h, w = int(rng.integers(f, 8)), int(rng.integers(f, 8))
        if (h + 2 * p - f) % s or (w + 2 * p - f) % s:
            continue                          # every filter fits exactly: no rounding question here
        cases.append(case(int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                          h, w, f, s, p, "random"))
    # float32 inputs with whole-number values: every product and sum is exact in float32 too.
    x32 = case(2, 3, 2, 6, 5, 3, 1, 1, "float32 inputs", dtype=np.float32)
    cases.append(Case({k: (np.round(v * 10) if isinstance(v, np.ndarray) else v) for k, v in x32.inputs.items()},
                      x32.label + " (whole numbers, so float32 is exact)"))
    # Where the last stride does not fit, the output size rounds down, as in conv2d and PyTorch. The
    # notebook's cells call the learner's function on the geometries below.
    cases += [case(1, 1, 1, 7, 7, 3, 3, 0, "the lecture's 7x7 at stride 3: the last step doesn't fit, round down"),
              case(2, 2, 1, 6, 5, 2, 2, 1, "rows fit exactly, columns round down"),
              case(1, 3, 6, 32, 32, 5, 2, 2, "02's astronaut: 32x32x3, six 5x5 filters, stride 2, "
                                             "padding 2; (32 + 4 - 5) / 2 is not whole: round down to 16x16"),
              case(1, 1, 2, 28, 28, 3, 1, 1, "02's Fashion-MNIST image: 28x28, two 3x3 edge filters, padding 1"),
              case(4, 1, 1, 8, 8, 3, 1, 1, "05's gradient step: four 8x8 images, one 3x3 filter, padding 1"),
              case(2, 1, 6, 28, 28, 5, 1, 2, "LeNet-5's first layer on 28x28 images, padding 2 (07)"),
              case(2, 1, 6, 32, 32, 5, 1, 0, "LeNet-5's first layer on 32x32 images (07)"),
              case(2, 6, 16, 14, 14, 5, 1, 0, "LeNet-5's second layer (07)"),
              case(2, 16, 120, 5, 5, 5, 1, 0, "LeNet-5's third layer: 5x5 maps, 5x5 filters, one output pixel (07)"),
              case(1, 3, 96, 67, 67, 11, 4, 0, "AlexNet's CONV1 geometry: 96 filters of 11x11 at stride 4 (08)")]
    return cases


def _conv_as(i, **change):
    args = {k: i[k] for k in ("x", "weight", "bias", "stride", "padding")} | change
    if args["bias"] is None:
        args["bias"] = np.zeros(len(args["weight"]))
    return references.conv2d_im2col(np.asarray(args["x"], np.float64), np.asarray(args["weight"], np.float64),
                                    np.asarray(args["bias"], np.float64), args["stride"], args["padding"])


def _near(a, b) -> bool:
    """A hint's comparison: loose enough for a float32 answer, far tighter than any mistake's difference."""
    return is_close(a, b, rtol=1e-4, atol=1e-6)


def _raises(e) -> bool:
    return isinstance(e, ValueError)


def _flattened_apart(i, e, a) -> bool:
    """The patches flattened in another order than the filters (e.g. (F, F, C_in) against (C_in, F, F))."""
    w = i["weight"]
    if _raises(e) or (w.shape[1] == 1 and w.shape[2] == 1):
        return False
    for order in permutations((1, 2, 3)):
        if order != (1, 2, 3):
            mixed = w.reshape((w.shape[0],) + tuple(w.shape[k] for k in order)).transpose(0, *np.argsort(order) + 1)
            if _near(a, _conv_as(i, weight=mixed)):
                return True
    return False


def _scrambled(i, e, a) -> bool:
    """The right numbers in the wrong places: a reshape where a transpose was needed."""
    a = np.asarray(a, dtype=np.float64)
    return (not _raises(e) and a.shape == e.shape and not _near(a, e)
            and np.allclose(np.sort(a.ravel()), np.sort(np.asarray(e, np.float64).ravel()), rtol=1e-4, atol=1e-6))


def _guarded(hint: Hint) -> Hint:
    """No mistake is named for an answer within float32 precision of the right one: only the precision is off."""
    return Hint(hint.message, lambda i, e, a: (_raises(e) or not _near(a, e)) and hint.applies(i, e, a))


CONV2D_HINTS = tuple(_guarded(h) for h in (
    Hint("a filter larger than the padded input fits nowhere: raise ValueError, as conv2d does "
         "(here it does not fit even once)", lambda i, e, a: _raises(e)),
    Hint("forgot the bias: every output pixel of filter k adds bias[k]",
         lambda i, e, a: _near(a, _conv_as(i, bias=None))),
    Hint("stride ignored: the filter moves `stride` pixels between output pixels",
         lambda i, e, a: i["stride"] > 1 and _near(a, _conv_as(i, stride=1))),
    Hint("padding ignored: surround the input with `padding` zeros on every side first",
         lambda i, e, a: i["padding"] > 0 and _near(a, _conv_as(i, padding=0))),
    Hint("the filter is flipped: a ConvNet's convolution (like PyTorch's) multiplies patch[a, b] by weight[a, b]",
         lambda i, e, a: _near(a, _conv_as(i, weight=i["weight"][..., ::-1, ::-1]))),
    Hint("each filter spans all input channels: sum over the channels too",
         lambda i, e, a: i["x"].shape[1] > 1 and _near(
             a, np.stack([_conv_as({**i, "x": i["x"][:, :1], "weight": i["weight"][:, :1]})[:, k] for k in
                          range(i["weight"].shape[0])], axis=1))),
    Hint("the patches and the filters are flattened in different orders: flatten both as (C_in, F, F), "
         "as weight.reshape(C_out, -1) does", _flattened_apart),
    Hint("the right numbers in the wrong places: the matrix product's rows are (n, i, j) and its columns "
         "the filters (or the other way round); reshape to (N, H_out, W_out, C_out) and transpose to "
         "(N, C_out, H_out, W_out), do not reshape straight to NCHW", _scrambled),
))


@exercise(points=3)
def check_conv2d_loops(conv2d_loops) -> bool:
    """``conv2d_loops(x, weight, bias, stride, padding) -> out``: x (N, C_in, H, W),
    weight (C_out, C_in, F, F), bias (C_out,) -> (N, C_out, H_out, W_out); ValueError where the
    filter is larger than the padded input."""
    return check_function(conv2d_loops, references.conv2d_loops, _conv_cases(), "Conv2d forward",
                          hints=CONV2D_HINTS, success="Your loops compute what conv2d and PyTorch compute.")


@exercise(points=3)
def check_conv2d_im2col(conv2d_im2col) -> bool:
    """``conv2d_im2col(x, weight, bias, stride, padding) -> out``: the same convolution as
    ``conv2d_loops``, vectorized, on the same cases. The checker judges the numbers only: that no
    Python loop runs over the batch or the output pixels is the question's rule, not checked here."""
    return check_function(conv2d_im2col, references.conv2d_im2col, _conv_cases(), "Conv2d vectorized",
                          hints=CONV2D_HINTS, success="Your vectorized convolution computes what conv2d "
                          "and PyTorch compute.")
