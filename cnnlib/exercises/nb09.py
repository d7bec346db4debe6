"""Checkers for the exercises of 09_case_studies_googlenet_resnet.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises import references
from cnnlib.exercises.answers import as_count, as_number, expect_by_hand, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function

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
                   "4.46M weights, where two 3x3 convolutions at the full depth would need 75.5M.")


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


# Exercise 4 (a function): a residual block's forward in its fully connected form,
# y = relu(F(x) + x) with F(x) = relu(x @ w1) @ w2 (batch norm left out), x of shape (N, D).
def _reference_residual_block(x, w1, w2):
    """cnnlib's reference (cnnlib.exercises.references), in float64 whatever the inputs' dtype."""
    return references.residual_block(*(np.asarray(a, dtype=np.float64) for a in (x, w1, w2)))


def _f(i):
    return np.maximum(np.asarray(i["x"], dtype=np.float64) @ i["w1"], 0.0) @ i["w2"]


# The mistakes, as functions of the inputs, each with the hint that names it.
RESIDUAL_BLOCK_MISTAKES = (
    ("the ReLU comes after the addition: relu(F(x) + x), not relu(F(x)) + x",
     lambda i: np.maximum(_f(i), 0.0) + i["x"]),
    ("the shortcut is missing: add the input x to F(x) before the last ReLU", lambda i: np.maximum(_f(i), 0.0)),
    ("the input is added twice: the block is relu(F(x) + x), with F(x) = relu(x @ w1) @ w2",
     lambda i: np.maximum(_f(i) + 2 * i["x"], 0.0)),
    ("the block ends with a ReLU: relu(F(x) + x)", lambda i: _f(i) + i["x"]),
    ("F has a ReLU between its two layers: F(x) = relu(x @ w1) @ w2",
     lambda i: np.maximum(i["x"] @ i["w1"] @ i["w2"] + i["x"], 0.0)),
    ("the shortcut adds x itself, not relu(x): relu(F(x) + x)", lambda i: np.maximum(_f(i) + np.maximum(i["x"], 0.0), 0.0)),
)


def _residual_cases() -> list[Case]:
    rng = np.random.default_rng(801)

    def case(n, d, label, scale=1.0, sign=None, dtype=np.float64):
        """Every mistake gives its own result (on all-negative inputs relu(x) = 0, so adding relu(x) and
        adding nothing agree there: those two only have to differ from the right result)."""
        for _ in range(10_000):
            x, w1, w2 = (np.round(rng.normal(size=s), 1) for s in ((n, d), (d, d), (d, d)))
            x = -np.abs(x) - 0.1 if sign == "negative" else x * scale
            inputs = {"x": x, "w1": w1, "w2": w2}
            right = _reference_residual_block(x, w1, w2)
            wrongs = [wrong(inputs) for _, wrong in RESIDUAL_BLOCK_MISTAKES]
            if sign == "negative":
                wrongs = wrongs[:-1]
            results = [right] + wrongs
            if not any(is_close(a, b) or is_close(b, a) for k, a in enumerate(results) for b in results[k + 1:]) \
                    and not is_close(right, RESIDUAL_BLOCK_MISTAKES[-1][1](inputs)):
                return Case({key: v.astype(dtype) for key, v in inputs.items()}, label)
        raise RuntimeError(f"no {label!r} case in which every mistake shows")  # a bug in these cases

    cases = [case(1, 3, "a batch of one"), case(2, 2, "two samples, two features"),
             case(3, 3, "all inputs negative", sign="negative"), case(3, 4, "inputs of scale 1000", scale=1e3),
             case(2, 3, "float32 inputs", dtype=np.float32), case(16, 4, "the shapes the notebook uses later")]
    return cases + [case(int(rng.integers(1, 5)), int(rng.integers(2, 6)), "random") for _ in range(20)]


RESIDUAL_BLOCK_HINTS = tuple(Hint(message, lambda i, e, a, wrong=wrong: is_close(a, wrong(i)))
                             for message, wrong in RESIDUAL_BLOCK_MISTAKES)


@exercise
def check_residual_block(residual_block) -> bool:
    """Exercise 4: ``residual_block(x, w1, w2) -> relu(relu(x @ w1) @ w2 + x)``, x of shape (N, D)."""
    return check_function(residual_block, _reference_residual_block, _residual_cases(), "Exercise 4",
                          hints=RESIDUAL_BLOCK_HINTS,
                          success="With w2 = 0 your block returns relu(x): the identity on a ReLU's output.",
                          rtol=1e-6, atol=1e-6)


# Exercise 5 (a function): an inception module's output depth and convolution weights (no biases,
# as Table 1 counts them) from its row of Table 1 and its input depth.
INCEPTION_ROWS = {  # name: (in_channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
    "inception3a": (192, 64, 96, 128, 16, 32, 32), "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64), "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64), "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128), "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}
_INCEPTION_ARGS = ("in_channels", "ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")


def _reference_inception_size(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
    from cnnlib import models  # built on the meta device: shapes only
    from cnnlib.depth import conv_weights, on_meta
    block = on_meta(models.Inception, in_channels=in_channels, ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3,
                    ch5x5red=ch5x5red, ch5x5=ch5x5, pool_proj=pool_proj)
    return block.out_channels, conv_weights(block)


def _inception_cases() -> list[Case]:
    rng = np.random.default_rng(802)
    cases = [Case(dict(zip(_INCEPTION_ARGS, row)), f"Table 1, {name}") for name, row in INCEPTION_ROWS.items()]
    for _ in range(10):
        cases.append(Case(dict(zip(_INCEPTION_ARGS, (int(v) for v in rng.integers(1, 9, size=7)))), "random"))
    return cases


def _depth_is(i, a, depth) -> bool:
    return isinstance(a, (tuple, list)) and len(a) == 2 and is_close(a[0], depth)


def _weights_are(i, a, weights) -> bool:
    return isinstance(a, (tuple, list)) and len(a) == 2 and is_close(a[1], weights)


def _biases(c):
    return c["ch1x1"] + c["ch3x3red"] + c["ch3x3"] + c["ch5x5red"] + c["ch5x5"] + c["pool_proj"]


INCEPTION_SIZE_HINTS = (
    Hint("the pool branch counts too: its 1x1 'pool proj' convolution adds pool_proj maps",
         lambda i, e, a: _depth_is(i, a, e[0] - i["pool_proj"]) or _weights_are(i, a, e[1] - i["in_channels"] * i["pool_proj"])),
    Hint("the reduce layers' outputs feed the 3x3 and 5x5 convolutions; they are not part of the output depth",
         lambda i, e, a: _depth_is(i, a, e[0] + i["ch3x3red"] + i["ch5x5red"])),
    Hint("the pool branch's output is its 1x1 projection (pool_proj maps), not the in_channels maps of the pool",
         lambda i, e, a: _depth_is(i, a, e[0] - i["pool_proj"] + i["in_channels"])),
    Hint("count the weights only, as Table 1 does: no biases",
         lambda i, e, a: _weights_are(i, a, e[1] + _biases(i))),
    Hint("the 3x3 and 5x5 convolutions see the reduced maps (ch3x3red, ch5x5red), not the module's input",
         lambda i, e, a: _weights_are(i, a, e[1] - 9 * i["ch3x3red"] * i["ch3x3"] - 25 * i["ch5x5red"] * i["ch5x5"]
                                      + 9 * i["in_channels"] * i["ch3x3"] + 25 * i["in_channels"] * i["ch5x5"])),
    Hint("the four 1x1 convolutions have weights too: in_channels times their maps each (1x1, both reduces, "
         "pool proj)", lambda i, e, a: _weights_are(i, a, 9 * i["ch3x3red"] * i["ch3x3"] + 25 * i["ch5x5red"] * i["ch5x5"])),
    Hint("a KxK convolution from C_in to C_out maps has K*K*C_in*C_out weights: the 3x3 and 5x5 need K*K",
         lambda i, e, a: _weights_are(i, a, e[1] - 8 * i["ch3x3red"] * i["ch3x3"] - 24 * i["ch5x5red"] * i["ch5x5"])),
)


@exercise
def check_inception_size(inception_size) -> bool:
    """Exercise 5: ``inception_size(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
    -> (output depth, convolution weights)``, biases not counted."""
    return check_function(inception_size, _reference_inception_size, _inception_cases(), "Exercise 5",
                          hints=INCEPTION_SIZE_HINTS, output_names=("depth", "weights"),
                          success="Inception (3a): 256 maps deep from 163,328 weights.")
