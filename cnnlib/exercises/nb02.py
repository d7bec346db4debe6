"""Exercises of 02_convolution. Each checker prints a verdict and returns True or False."""
from __future__ import annotations

from cnnlib.exercises.answers import as_count, as_numbers, expect_equal
from cnnlib.exercises.core import exercise, verdict
from cnnlib.shapes import conv_output_size


@exercise
def check_output_shape(answer) -> bool:
    """Exercise 1: the output shape of ``Conv2d(3, 10, 5, stride=1, padding=2)`` on a batch of shape (4, 3, 32, 32)."""

    def check(a):
        a = tuple(int(v) for v in as_numbers(a, (4,), "the shape", integer=True))
        if a == (4, 32, 32, 10):
            raise AssertionError("the layers use NCHW: channels come second, (N, C, H, W)")
        expect_equal(a, (4, 10, 32, 32), "the shape")

    return verdict(answer, check, "Exercise 1", success="padding (5 - 1) / 2 = 2 keeps 32x32.")


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

    return verdict(answer, check, "Exercise 2", success="9,280 parameters, whatever the image size.")


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

    return verdict(answer, check, "Exercise 3", success="(7 - 3 + 2*1) / 2 + 1 = 4.")
