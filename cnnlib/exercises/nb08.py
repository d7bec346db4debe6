"""Checkers for the exercises of 08_case_studies_googlenet_resnet.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

from cnnlib.exercises.answers import as_count, as_number, expect_by_hand
from cnnlib.exercises.core import exercise, verdict

# Exercise 1: inception (3b) built the naive way: its 1x1, 3x3 and 5x5 convolutions straight on
# the 28x28x256 input (no 1x1 reductions), next to a 3x3 max pool. Multiply-adds per image:
# output values times weights per filter, summed over the three convolutions.
INCEPTION_3B_INPUT = (28, 28, 256)
INCEPTION_3B_FILTERS = {"1x1": 128, "3x3": 192, "5x5": 96}
INCEPTION_3B_NAIVE_MACS = 28 * 28 * (128 * 256 + 192 * 3 * 3 * 256 + 96 * 5 * 5 * 256)  # 854,196,224
INCEPTION_3B_MACS = 304_267_264  # the real module, with its reductions (Table 1: "304M")

# Exercise 2: the weights of one bottleneck block of ResNet's conv5_x (not the first one):
# 1x1 from 2048 down to 512, 3x3 on 512, 1x1 back up to 2048; no biases, batch norm not counted.
BOTTLENECK_IN, BOTTLENECK_WIDTH = 2048, 512
BOTTLENECK_WEIGHTS = 2048 * 512 + 3 * 3 * 512 * 512 + 512 * 2048  # 4,456,448
BOTTLENECK_BN = 2 * (512 + 512 + 2048)  # a scale and a shift per channel after each convolution

# Exercise 3: how many times more multiply-adds VGG-19 needs than ResNet-152, per 224x224 image.
VGG19_MACS = 19_632_062_464
RESNET152_MACS = 11_282_415_616
MACS_RATIO = VGG19_MACS / RESNET152_MACS  # 1.74


def _check_naive_inception(answer) -> None:
    n = as_number(answer, "the count")
    if abs(n - INCEPTION_3B_MACS) < 0.01 * INCEPTION_3B_MACS:
        raise AssertionError("that is the real module with its 1x1 reductions; "
                             "the naive one runs the 3x3 and 5x5 filters on all 256 input maps")
    if abs(n - INCEPTION_3B_NAIVE_MACS / 1e6) < 1:
        raise AssertionError("give the count itself, not millions")
    expect_by_hand(n, INCEPTION_3B_NAIVE_MACS, name="your count", rtol=1e-3)


@exercise
def check_naive_inception(answer) -> bool:
    """Exercise 1: ``answer`` is the multiply-adds per image of inception (3b) without 1x1 reductions."""
    return verdict(answer, _check_naive_inception, "Exercise 1",
                   f"854M against 304M: the reductions save {INCEPTION_3B_NAIVE_MACS / INCEPTION_3B_MACS:.1f}x.")


def _check_bottleneck(answer) -> None:
    n = as_count(answer, "the count")
    if n == BOTTLENECK_WEIGHTS + BOTTLENECK_BN:
        raise AssertionError("count the convolution weights only, without batch norm's scales and shifts")
    if n == 2048 * 512 + 3 * 3 * 512 * 512:
        raise AssertionError("the block ends with a third convolution, a 1x1 from 512 back up to 2048 maps")
    if n == 2 * 3 * 3 * 2048 * 2048:
        raise AssertionError("that is two 3x3 convolutions on 2048 maps: the bottleneck works on 512")
    if n != BOTTLENECK_WEIGHTS:
        raise AssertionError(f"{n:,} is not it: a KxK convolution from C_in to C_out maps has K*K*C_in*C_out weights")


@exercise
def check_bottleneck(answer) -> bool:
    """Exercise 2: ``answer`` is the number of convolution weights in one conv5_x bottleneck block."""
    return verdict(answer, _check_bottleneck, "Exercise 2",
                   "4.46M weights, where two 3x3 convolutions on 2048 maps would need 75.5M.")


def _check_macs_ratio(answer) -> None:
    r = as_number(answer, "the ratio")
    if abs(r - 1 / MACS_RATIO) < 0.01:
        raise AssertionError("that is ResNet-152 over VGG-19; the question asks how many times MORE VGG-19 needs")
    if abs(r - 152 / 19) < 0.01:
        raise AssertionError("that is the ratio of their depths, not of their multiply-adds")
    expect_by_hand(r, MACS_RATIO, name="your ratio", sig_figs=2)  # "1.7x", as the success line says


@exercise
def check_macs_ratio(answer) -> bool:
    """Exercise 3: ``answer`` is VGG-19's multiply-adds divided by ResNet-152's, at 224x224."""
    return verdict(answer, _check_macs_ratio, "Exercise 3",
                   "VGG-19 does 1.7x the arithmetic of a network eight times deeper.")
