"""The arguments of a 2-D convolution, checked once for cnnlib.numpy_nn and cnnlib.torch_nn.

``torch.nn.functional.conv2d(input, weight, bias, stride, padding, dilation, groups)`` accepts:

- ``stride``, ``dilation``: an int or a pair (h, w), each at least 1. With dilation d the kernel's
  taps sit d pixels apart, so a k-tap kernel spans ``d*(k-1) + 1`` pixels;
- ``padding``: an int, a pair, ``"valid"`` (no padding) or ``"same"`` (the output has the input's
  size; stride 1 only). "same" pads ``d*(k-1)`` pixels in all, half before and the rest after, so
  an even kernel gets one more row (column) at the bottom (right), as PyTorch does;
- ``groups``: the channels split into ``groups`` independent convolutions (AlexNet's two towers;
  ``groups = C_in`` is a depthwise convolution). Both C_in and C_out must divide by it, and
  ``weight`` is (C_out, C_in / groups, kH, kW).

`conv2d_arguments` checks all of them against the shapes and returns a `ConvArgs`; every refusal
is a ValueError that names the argument and what would be right. The rules on degenerate shapes
are PyTorch's: an empty batch or zero input channels are fine; a zero-height (or zero-width) image
is refused unless the batch or the channels are empty too.
"""
from __future__ import annotations

from typing import NamedTuple

from cnnlib.checks import check_int, pair

PADDING_STRINGS = ("valid", "same")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class ConvArgs(NamedTuple):
    """Checked convolution arguments: pairs of ints, and padding as ((top, bottom), (left, right))."""
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    groups: int
    out_hw: tuple[int, int]


def check_padding(padding, stride=(1, 1)):
    """``padding`` as "valid", "same" or an (h, w) pair of non-negative ints; "same" needs stride 1."""
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS:
            raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if padding == "same" and tuple(stride) != (1, 1):
            raise ValueError(f"padding='same' is not supported for strided convolutions (stride {tuple(stride)}); "
                             f"use stride=1 or give the padding as numbers (PyTorch's rule)")
        return padding
    return pair(padding, "padding", minimum=0)


def resolve_padding(padding, kernel_hw, dilation):
    """``padding`` ("valid", "same" or a pair) as ((top, bottom), (left, right)) for this kernel and dilation."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel_hw, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in padding)


def check_padding_mode(padding_mode: str) -> str:
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    return padding_mode


def check_groups(groups, in_channels=None, out_channels=None) -> int:
    """``groups`` as a positive int dividing in_channels and out_channels (when they are given)."""
    groups = check_int(groups, "groups", minimum=1)
    for name, count in (("in_channels", in_channels), ("out_channels", out_channels)):
        if count is not None and count % groups:
            raise ValueError(f"{name}={count} must be divisible by groups={groups}: each group gets "
                             f"{name} / groups channels")
    return groups


def batched_shape(x_shape) -> tuple[tuple[int, ...], bool]:
    """(N, C, H, W) for a batched or an unbatched (C, H, W) input, and whether it was batched."""
    if len(x_shape) not in (3, 4):
        raise ValueError(f"input must have 4 dimensions (N, C_in, H, W) or 3 (C_in, H, W) for one image, "
                         f"got shape {tuple(x_shape)}")
    return (tuple(x_shape) if len(x_shape) == 4 else (1, *x_shape)), len(x_shape) == 4


def conv2d_arguments(x_shape, weight_shape, bias_shape, stride=1, padding=0, dilation=1, groups=1) -> ConvArgs:
    """Check a convolution of an (N, C_in, H, W) input; return the arguments as a `ConvArgs`."""
    if len(weight_shape) != 4:
        raise ValueError(f"weight must have 4 dimensions (C_out, C_in / groups, kH, kW), got shape "
                         f"{tuple(weight_shape)}")
    if len(x_shape) != 4:
        raise ValueError(f"input must have 4 dimensions (N, C_in, H, W), got shape {tuple(x_shape)}")
    stride = pair(stride, "stride", minimum=1)
    dilation = pair(dilation, "dilation", minimum=1)
    padding = check_padding(padding, stride)
    groups = check_int(groups, "groups", minimum=1)
    c_out, c_in_per_group, kh, kw = weight_shape
    if kh < 1 or kw < 1:
        raise ValueError(f"kernel_size must be positive, got weight of shape {tuple(weight_shape)}")
    if c_out < 1 or c_out % groups:
        raise ValueError(f"weight has C_out={c_out} filters; it needs at least one, and a multiple of "
                         f"groups={groups} (weight shape {tuple(weight_shape)} is (C_out, C_in / groups, kH, kW))")
    if x_shape[1] != c_in_per_group * groups:
        raise ValueError(
            f"input has {x_shape[1]} channels but weight expects C_in={c_in_per_group * groups} "
            f"(weight shape {tuple(weight_shape)} is (C_out, C_in / groups, kH, kW) with groups={groups}); "
            f"make in_channels={x_shape[1]} or feed an input with {c_in_per_group * groups} channels"
        )
    if bias_shape is not None and tuple(bias_shape) != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},) = (C_out,), got {tuple(bias_shape)}")
    pads = resolve_padding(padding, (kh, kw), dilation)
    padded = tuple(size + sum(p) for size, p in zip(x_shape[2:], pads))
    spans = tuple(d * (k - 1) + 1 for k, d in zip((kh, kw), dilation))
    if spans[0] > padded[0] or spans[1] > padded[1]:
        dilated = "" if dilation == (1, 1) else f" (with dilation {dilation} it spans {spans})"
        raise ValueError(
            f"kernel_size {(kh, kw)}{dilated} is larger than the padded input {padded} "
            f"(input {tuple(x_shape[2:])} with padding {pads}); use a smaller kernel or more padding"
        )
    if 0 in x_shape[2:] and x_shape[0] and x_shape[1]:
        raise ValueError(f"input of shape {tuple(x_shape)} has a zero-length axis; PyTorch allows that only "
                         f"with an empty batch (N=0) or no input channels (C_in=0)")
    out_hw = tuple((p - s) // st + 1 for p, s, st in zip(padded, spans, stride))
    return ConvArgs(stride, pads, dilation, groups, out_hw)
