"""Hypothesis strategies for random, valid layer configurations (shared by the NumPy and PyTorch tests).

Each strategy draws a plain dict of Python ints, pairs and bools, so the same configuration can
build a NumPy array, a torch tensor or a module on either side. Arrays are made from a seed by
`make_array`, which keeps the values continuous (no ties for max pooling, no exact zeros).

    from strategies import conv2d_configs, make_array, seeds   # pytest puts tests/ on sys.path

    @given(cfg=conv2d_configs(), seed=seeds)
    def test_something(cfg, seed):
        x = make_array(cfg["input_shape"], seed)
        ...

Every configuration fits: the kernel is never larger than the padded input, so the output has
at least one pixel, and pooling padding is at most half the kernel (PyTorch's rule).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

MAX_SIZE = 9  # H and W are drawn in 1..MAX_SIZE

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def make_array(shape, seed: int, dtype=np.float64, scale: float = 1.0) -> np.ndarray:
    """Standard-normal values (times ``scale``) of the given shape, reproducible from ``seed``."""
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


@st.composite
def int_or_pair(draw, low: int, high: int):
    """An int, or a pair (h, w) that may be non-square: the two forms PyTorch accepts."""
    h = draw(st.integers(low, high))
    if draw(st.booleans()):
        return h
    return (h, draw(st.integers(low, high)))


def as_pair(value) -> tuple[int, int]:
    """(v, v) for an int, the pair itself otherwise."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


@st.composite
def _sizes_that_fit(draw, kernel_hw, padding_hw):
    """Input height and width in 1..MAX_SIZE with kernel <= size + 2 * padding."""
    return tuple(draw(st.integers(max(1, k - 2 * p), MAX_SIZE)) for k, p in zip(kernel_hw, padding_hw))


@st.composite
def conv2d_configs(draw, max_kernel: int = 5):
    """A valid conv2d configuration.

    Keys: ``batch`` (1..3), ``in_channels``, ``out_channels`` (1..4), ``height``, ``width`` (1..9),
    ``kernel_size``, ``stride`` (1..3), ``padding`` (0..2) -- each an int or a pair --,
    ``bias`` (bool), and the derived ``input_shape`` (N, C_in, H, W) and
    ``weight_shape`` (C_out, C_in, kH, kW).
    """
    kernel_size = draw(int_or_pair(1, max_kernel))
    stride = draw(int_or_pair(1, 3))
    padding = draw(int_or_pair(0, 2))
    height, width = draw(_sizes_that_fit(as_pair(kernel_size), as_pair(padding)))
    cfg = dict(batch=draw(st.integers(1, 3)), in_channels=draw(st.integers(1, 4)),
               out_channels=draw(st.integers(1, 4)), height=height, width=width,
               kernel_size=kernel_size, stride=stride, padding=padding, bias=draw(st.booleans()))
    cfg["input_shape"] = (cfg["batch"], cfg["in_channels"], height, width)
    cfg["weight_shape"] = (cfg["out_channels"], cfg["in_channels"], *as_pair(kernel_size))
    return cfg


@st.composite
def winograd_configs(draw):
    """A 3x3, stride-1 convolution (Winograd's case): odd and even output sizes, square and non-square padding.

    Keys: ``input_shape`` (N, C_in, H, W), ``weight_shape`` (C_out, C_in, 3, 3), ``padding`` (int or pair), ``bias``.
    """
    padding = draw(int_or_pair(0, 2))
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    height = draw(st.integers(max(1, 3 - 2 * ph), MAX_SIZE))
    width = draw(st.integers(max(1, 3 - 2 * pw), MAX_SIZE))
    batch, c_in, c_out = (draw(st.integers(1, 4)) for _ in range(3))
    return dict(input_shape=(batch, c_in, height, width), weight_shape=(c_out, c_in, 3, 3),
                padding=padding, bias=draw(st.booleans()))


@st.composite
def pool2d_configs(draw, max_kernel: int = 4):
    """A valid max/avg pooling configuration.

    Keys: ``batch`` (1..3), ``channels`` (1..4), ``height``, ``width`` (1..9), ``kernel_size``
    (1..max_kernel), ``stride`` (None = kernel_size, or 1..3), ``padding`` (each side at most
    half the kernel) -- int or pair --, and ``input_shape`` (N, C, H, W). About one draw in
    five is the overlapping pool of AlexNet, kernel 3 stride 2.
    """
    if draw(st.integers(0, 4)) == 0:
        kernel_size, stride = 3, 2  # overlapping windows: some pixels are read twice
    else:
        kernel_size = draw(int_or_pair(1, max_kernel))
        stride = draw(st.one_of(st.none(), int_or_pair(1, 3)))
    kh, kw = as_pair(kernel_size)
    if draw(st.booleans()):
        padding = draw(st.integers(0, min(kh, kw) // 2))
    else:
        padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    height, width = draw(_sizes_that_fit((kh, kw), as_pair(padding)))
    cfg = dict(batch=draw(st.integers(1, 3)), channels=draw(st.integers(1, 4)), height=height, width=width,
               kernel_size=kernel_size, stride=stride, padding=padding)
    cfg["input_shape"] = (cfg["batch"], cfg["channels"], height, width)
    return cfg


@st.composite
def linear_configs(draw):
    """A linear-layer configuration: ``batch`` (1..4), ``in_features``, ``out_features`` (1..6), ``bias``,
    and ``input_shape`` (batch, in_features) and ``weight_shape`` (out_features, in_features)."""
    cfg = dict(batch=draw(st.integers(1, 4)), in_features=draw(st.integers(1, 6)),
               out_features=draw(st.integers(1, 6)), bias=draw(st.booleans()))
    cfg["input_shape"] = (cfg["batch"], cfg["in_features"])
    cfg["weight_shape"] = (cfg["out_features"], cfg["in_features"])
    return cfg


@st.composite
def conv2d_full_configs(draw, max_kernel: int = 4):
    """A valid configuration over torch.nn.functional.conv2d's whole contract.

    Keys as `conv2d_configs` plus ``dilation`` (1..3, int or pair), ``groups`` (1..3, dividing both
    channel counts; sometimes depthwise), ``padding`` that may be "same" (stride 1) or "valid",
    ``batched`` (False: a (C_in, H, W) input) and ``input_shape``/``weight_shape`` to match. About one
    draw in eight has an empty batch.
    """
    kernel_size = draw(int_or_pair(1, max_kernel))
    dilation = draw(int_or_pair(1, 3))
    padding = draw(st.one_of(int_or_pair(0, 2), st.sampled_from(["same", "valid"])))
    stride = 1 if padding == "same" else draw(int_or_pair(1, 3))
    spans = [d * (k - 1) + 1 for k, d in zip(as_pair(kernel_size), as_pair(dilation))]
    if padding == "same":
        pads = [(s - 1, s - 1) for s in spans]  # the two sides together: the input may be as small as 1
        sizes = [draw(st.integers(1, MAX_SIZE)) for _ in spans]
    else:
        pads = [(0, 0)] * 2 if padding == "valid" else [(p, p) for p in as_pair(padding)]
        sizes = [draw(st.integers(max(1, s - sum(p)), max(MAX_SIZE, s - sum(p)))) for s, p in zip(spans, pads)]
    groups = draw(st.integers(1, 3))
    in_per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    batched = draw(st.booleans())
    batch = 0 if draw(st.integers(0, 7)) == 0 else draw(st.integers(1, 2))
    c_in, c_out = groups * in_per_group, groups * out_per_group
    cfg = dict(batch=batch if batched else 1, in_channels=c_in, out_channels=c_out, height=sizes[0], width=sizes[1],
               kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, groups=groups,
               bias=draw(st.booleans()), batched=batched)
    cfg["input_shape"] = (batch, c_in, *sizes) if batched else (c_in, *sizes)
    cfg["weight_shape"] = (c_out, in_per_group, *as_pair(kernel_size))
    return cfg
