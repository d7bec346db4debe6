"""Checkers for the exercises of 07_case_studies_lenet_alexnet_vgg.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

from cnnlib.exercises.answers import as_count, as_number, as_numbers, expect_by_hand
from cnnlib.exercises.core import exercise, verdict

# Exercise 1: LeNet-5's parameters, layer by layer: (F*F*C_in + 1) * C_out for a convolution,
# (inputs + 1) * outputs for a fully connected layer, 0 for a pooling layer.
LENET5_LAYERS = (("C1", 5, 1, 6), ("C3", 5, 6, 16), ("C5", 5, 16, 120), ("F6", 1, 120, 84), ("OUTPUT", 1, 84, 10))
LENET5_PARAMS = 61_706
LENET5_WEIGHTS = 61_470  # without the 236 biases

# Exercise 2: the lecture's AlexNet CONV2: 256 5x5 filters at stride 1, pad 2, on POOL1's 27x27x96.
CONV2_INPUT = (27, 27, 96)
CONV2_ANSWER = (27, 27, 256, (5 * 5 * 96 + 1) * 256)  # (height, width, depth, parameters) = 614,656

# Exercise 3: the share of VGG16's parameters in its three fully connected layers.
VGG16_PARAMS = 138_357_544
VGG16_FC_PARAMS = (25_088 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000  # fc6 + fc7 + fc8
VGG16_FC_SHARE = VGG16_FC_PARAMS / VGG16_PARAMS  # 0.8936...


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
    """Exercise 2: ``answer`` = (height, width, depth, parameters) of AlexNet's CONV2 output."""
    return verdict(answer, _check_alexnet_conv2, "Exercise 2", "CONV2: 27x27x256 and 614,656 parameters.")


def _check_vgg16_fc_share(answer) -> None:
    share = as_number(answer, "the share")
    if 1 < share <= 100:
        raise AssertionError("give a fraction between 0 and 1, not a percentage")
    if abs(share - (1 - VGG16_FC_SHARE)) < 0.01:
        raise AssertionError("that is the share of the convolutions; the question asks for fc6, fc7 and fc8")
    expect_by_hand(share, VGG16_FC_SHARE, name="your share", rtol=5e-3, sig_figs=2)


@exercise
def check_vgg16_fc_share(answer) -> bool:
    """Exercise 3: ``answer`` is the fraction of VGG16's parameters in fc6, fc7 and fc8 (with or without biases)."""
    return verdict(answer, _check_vgg16_fc_share, "Exercise 3",
                   "Nine parameters in ten sit in the three fully connected layers; fc6 alone holds 74%.")
