"""The receptive field: how much of the input one output pixel sees, layer by layer.

Taught in 07_case_studies_lenet. Walk the layers from the input, keeping two numbers:
the receptive field ``r`` (in input pixels) of one pixel of the current map, and the *jump* ``j``,
the distance in input pixels between two neighbouring pixels of that map. A layer with kernel
``k``, stride ``s`` and dilation ``d`` (effective kernel ``d * (k - 1) + 1``) gives

    r_out = r_in + (d * (k - 1)) * j_in          j_out = j_in * s          (start: r = 1, j = 1)

Convolution and pooling follow the same rule; padding moves the field but does not change its
size; activations, normalizations and dropout leave both numbers alone. The values are for the
height axis (every model in `cnnlib.models` uses square kernels).

    receptive_field(cnnlib.models.lenet5())[-1].receptive_field   # 32: C5 sees the whole 32x32 digit
"""
from __future__ import annotations

from typing import NamedTuple

import torch.nn as nn


class ReceptiveFieldRow(NamedTuple):
    """One layer: its name, kernel, stride and dilation, and the jump and receptive field after it."""

    layer: str
    kernel: int
    stride: int
    dilation: int
    jump: int
    receptive_field: int


def _first(value) -> int:
    return int(value[0] if isinstance(value, (tuple, list)) else value)


def layer_geometry(model: nn.Module) -> list[tuple[str, int, int, int]]:
    """``(name, kernel, stride, dilation)`` of every layer with a kernel, in the order of ``model.modules()``.

    That is the order in which a plain chain (a ``Sequential`` of layers) runs them; a model with
    parallel branches (an inception module, a residual shortcut) has no single chain, and is refused.
    """
    if any(type(m).__name__ in ("Inception", "BasicBlock", "Bottleneck") for m in model.modules()):
        raise ValueError("receptive_field follows one chain of layers; this model has parallel branches "
                         "(pass a list of (name, kernel, stride) rows for the path you mean)")
    rows = []
    for name, module in model.named_modules():
        if hasattr(module, "kernel_size") and hasattr(module, "stride"):
            stride = module.stride if module.stride is not None else module.kernel_size
            rows.append((name, _first(module.kernel_size), _first(stride), _first(getattr(module, "dilation", 1))))
    return rows


def receptive_field(model_or_layers) -> list[ReceptiveFieldRow]:
    """The receptive field and jump after each layer, by the growth rule in the module docstring.

    ``model_or_layers`` is a ``torch.nn.Module`` that is one chain of layers (its convolutions and
    poolings are read in order), or a list of rows ``(name, kernel, stride)`` or
    ``(name, kernel, stride, dilation)``.
    """
    layers = layer_geometry(model_or_layers) if isinstance(model_or_layers, nn.Module) else list(model_or_layers)
    r, j, out = 1, 1, []
    for i, row in enumerate(layers):
        if len(row) not in (3, 4):
            raise ValueError(f"row {i} must be (name, kernel, stride) or (name, kernel, stride, dilation), got {row!r}")
        name, kernel, stride, dilation = (*row, 1) if len(row) == 3 else row
        for what, value in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"row {i} ({name!r}): {what} must be a positive integer, got {value!r}")
        r = r + dilation * (kernel - 1) * j
        j = j * stride
        out.append(ReceptiveFieldRow(str(name), kernel, stride, dilation, j, r))
    return out
