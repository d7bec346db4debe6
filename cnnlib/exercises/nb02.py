"""Exercises of 02_convolution. Each checker prints a verdict and returns True or False."""
from __future__ import annotations

from cnnlib.checks import check_int
from cnnlib.exercises.core import expect_equal, verdict
from cnnlib.shapes import conv_output_size


def check_output_shape(answer) -> bool:
    """Exercise 1: the output shape of ``Conv2d(3, 10, 5, stride=1, padding=2)`` on a batch of shape (4, 3, 32, 32)."""

    def check(a):
        a = tuple(a)
        if a == (4, 32, 32, 10):
            raise AssertionError("the layers use NCHW: channels come second, (N, C, H, W)")
        expect_equal(a, (4, 10, 32, 32), "the shape")

    return verdict(answer, check, "Exercise 1", success="padding (5 - 1) / 2 = 2 keeps 32x32.")


def check_conv_parameters(answer) -> bool:
    """Exercise 2: the parameters of a conv layer with 64 filters of size 3x3 over a 16-channel input."""

    def check(a):
        if a == 64 * 16 * 9:
            raise AssertionError("that counts the weights; each filter also has one bias")
        if a == 64 * 9 + 64:
            raise AssertionError("each filter spans all 16 input channels: it is 3x3x16")
        expect_equal(a, 64 * 16 * 9 + 64, "the parameter count")

    return verdict(answer, check, "Exercise 2", success="9,280 parameters, whatever the image size.")


def check_stride_padding(answer) -> bool:
    """Exercise 3: a ``(stride, padding)`` for which a 3x3 filter on a 7x7 input gives exactly 4x4."""

    def check(a):
        if not isinstance(a, (tuple, list)) or len(a) != 2:
            raise AssertionError(f"answer with a pair (stride, padding), e.g. (1, 0); got {a!r}")
        stride, padding = a
        stride = check_int(stride, "stride", minimum=1)
        padding = check_int(padding, "padding", minimum=0)
        if padding >= 3:
            raise AssertionError(f"padding={padding} puts whole 3x3 windows on zeros only; use less")
        expect_equal(conv_output_size(7, 3, stride, padding), 4, "the output size")

    return verdict(answer, check, "Exercise 3", success="(7 - 3 + 2*1) / 2 + 1 = 4.")
