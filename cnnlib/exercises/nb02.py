"""Exercises of 02_convolution. Each checker prints a verdict and returns True or False."""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_count, as_number, as_numbers, expect_equal, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.conv import conv2d
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
             Case({"n": 227, "f": 11, "stride": 4, "padding": 0}, "AlexNet's first layer")]
    rng = np.random.default_rng(1321)
    for _ in range(40):
        n, f, s, p = int(rng.integers(1, 40)), int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        cases.append(Case({"n": n, "f": f, "stride": s, "padding": p}, "random"))
    return cases


def _doesnt_fit(e) -> bool:
    return isinstance(e, ValueError)


def _formula(i, padding_factor=2, stride=True):
    return (i["n"] - i["f"] + padding_factor * i["padding"]) / (i["stride"] if stride else 1) + 1


OUTPUT_SIZE_HINTS = (
    Hint("when (N - F + 2P) / stride is not a whole number the filter doesn't fit: raise ValueError",
         lambda i, e, a: _doesnt_fit(e) and abs(as_number(a) - np.floor(_formula(i))) < 1e-9
         or _doesnt_fit(e) and abs(as_number(a) - _formula(i)) < 1e-9),
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
    rng = np.random.default_rng(1322)

    def case(n, c_in, c_out, h, w, f, stride, padding, label):
        return Case({"x": np.round(rng.normal(size=(n, c_in, h, w)), 1),
                     "weight": np.round(rng.normal(size=(c_out, c_in, f, f)), 1),
                     "bias": np.round(rng.normal(size=c_out), 1), "stride": stride, "padding": padding}, label)

    cases = [case(1, 1, 1, 4, 4, 2, 1, 0, "a batch of one, one channel"),
             case(1, 1, 1, 5, 5, 3, 2, 0, "stride 2"),
             case(1, 1, 1, 3, 3, 2, 1, 1, "padding 1"),
             case(1, 2, 3, 3, 4, 1, 1, 0, "a 1x1 filter over two channels"),
             case(2, 2, 2, 5, 5, 3, 2, 1, "stride 2 and padding 1"),
             case(1, 1, 1, 4, 6, 3, 1, 0, "a wide image")]
    while len(cases) < 30:
        f, s, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        h, w = int(rng.integers(f, 8)), int(rng.integers(f, 8))
        if (h + 2 * p - f) % s or (w + 2 * p - f) % s:
            continue                          # every filter fits exactly: no rounding question here
        cases.append(case(int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                          h, w, f, s, p, "random"))
    # Where the last stride does not fit, the output size rounds down, as in conv2d and PyTorch. The
    # notebook's next cell calls the learner's function on the first of these geometries.
    cases += [case(1, 1, 1, 7, 7, 3, 3, 0, "the lecture's 7x7 at stride 3: the last step doesn't fit, round down"),
              case(2, 2, 1, 6, 5, 2, 2, 1, "rows fit exactly, columns round down"),
              case(1, 3, 6, 32, 32, 5, 2, 2, "the next cell's geometry: 32x32x3, six 5x5 filters, stride 2, "
                                             "padding 2; (32 + 4 - 5) / 2 is not whole: round down to 16x16")]
    return cases


def _conv_as(i, **change):
    args = {k: i[k] for k in ("x", "weight", "bias", "stride", "padding")} | change
    return conv2d(args["x"], args["weight"], args["bias"], stride=args["stride"], padding=args["padding"])


CONV2D_HINTS = (
    Hint("forgot the bias: every output pixel of filter k adds bias[k]",
         lambda i, e, a: is_close(a, _conv_as(i, bias=None))),
    Hint("stride ignored: the filter moves `stride` pixels between output pixels",
         lambda i, e, a: i["stride"] > 1 and is_close(a, _conv_as(i, stride=1))),
    Hint("padding ignored: surround the input with `padding` zeros on every side first",
         lambda i, e, a: i["padding"] > 0 and is_close(a, _conv_as(i, padding=0))),
    Hint("the filter is flipped: a ConvNet's convolution (like PyTorch's) multiplies patch[a, b] by weight[a, b]",
         lambda i, e, a: is_close(a, _conv_as(i, weight=i["weight"][..., ::-1, ::-1]))),
    Hint("each filter spans all input channels: sum over the channels too",
         lambda i, e, a: i["x"].shape[1] > 1 and is_close(
             np.asarray(a, dtype=np.float64),
             np.stack([_conv_as({**i, "x": i["x"][:, :1], "weight": i["weight"][:, :1]})[:, k] for k in
                       range(i["weight"].shape[0])], axis=1))),
)


@exercise(points=3)
def check_conv2d_loops(conv2d_loops) -> bool:
    """``conv2d_loops(x, weight, bias, stride, padding) -> out``: x (N, C_in, H, W),
    weight (C_out, C_in, F, F), bias (C_out,) -> (N, C_out, H_out, W_out)."""
    return check_function(conv2d_loops, _conv_reference, _conv_cases(), "Conv2d forward", hints=CONV2D_HINTS,
                          success="Your loops compute what conv2d and PyTorch compute.")


def _conv_reference(x, weight, bias, stride, padding):
    return conv2d(x, weight, bias, stride=stride, padding=padding)
