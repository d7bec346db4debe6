"""Argument checks shared by the NumPy layers and their PyTorch counterparts.

Every check works on plain Python values and shapes (tuples), so both `cnnlib.numpy_nn`
and `cnnlib.torch_nn` call the same code and give a learner the same message: the name of
the argument, what it was, and what would be right.
"""
from __future__ import annotations

import math
import numbers
from typing import Sequence


def check_int(value, name: str, minimum: int | None = None) -> int:
    """`value` as an int, or a ValueError naming `name` (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        rule = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f">= {minimum}"
        raise ValueError(f"{name} must be {rule}, got {value}")
    return value


def pair(value, name: str, minimum: int | None = None) -> tuple[int, int]:
    """An int or a pair of ints, as PyTorch accepts for kernel_size, stride and padding."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        return (check_int(value[0], name, minimum), check_int(value[1], name, minimum))
    v = check_int(value, name, minimum)
    return (v, v)


def check_ndim(shape: Sequence[int], ndim: int, name: str, layout: str) -> None:
    if len(shape) != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {tuple(shape)}")


def check_pool_padding(kernel_hw, padding_hw) -> None:
    """PyTorch's rule for pooling: padding at most half the kernel."""
    for k, p in zip(kernel_hw, padding_hw):
        if p > k // 2:
            raise ValueError(
                f"padding {tuple(padding_hw)} must be at most half of kernel_size {tuple(kernel_hw)} "
                f"(PyTorch's rule for pooling)"
            )


def check_linear(x_shape, weight_shape, bias_shape) -> None:
    check_ndim(weight_shape, 2, "weight", "(out_features, in_features)")
    if len(x_shape) < 1 or x_shape[-1] != weight_shape[1]:
        raise ValueError(
            f"input has {x_shape[-1] if len(x_shape) else 0} features in its last dimension, but weight "
            f"{tuple(weight_shape)} expects in_features={weight_shape[1]}; "
            f"flatten the input or build Linear({x_shape[-1] if len(x_shape) else '?'}, {weight_shape[0]})"
        )
    if bias_shape is not None and tuple(bias_shape) != (weight_shape[0],):
        raise ValueError(f"bias must have shape ({weight_shape[0]},) = (out_features,), got {tuple(bias_shape)}")


def check_reduction(reduction: str) -> str:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def check_same_shape(input_shape, target_shape) -> None:
    if tuple(input_shape) != tuple(target_shape):
        raise ValueError(
            f"input and target must have the same shape, got input {tuple(input_shape)} and target "
            f"{tuple(target_shape)}"
        )


def check_class_targets(input_shape, target_shape, target_min, target_max, integer: bool) -> None:
    """Class-index targets for (N, C) scores: shape (N,), integers in [0, C)."""
    check_ndim(input_shape, 2, "input", "(N, C) of class scores")
    n, c = input_shape
    if tuple(target_shape) != (n,):
        raise ValueError(f"target must have shape ({n},), one class index per row of input, got {tuple(target_shape)}")
    if not integer:
        raise ValueError("target must hold integer class indices (e.g. int64), not floats")
    if n and (target_min < 0 or target_max >= c):
        bad = target_min if target_min < 0 else target_max
        raise ValueError(f"target holds class {bad}, out of range: input has C={c} classes, so labels must be in [0, {c - 1}]")


def check_sign_targets(all_plus_minus_one: bool) -> None:
    if not all_plus_minus_one:
        raise ValueError("target of the binary hinge loss must hold only -1 and +1")


def check_same_dtype(input_dtype, weight_dtype, bias_dtype=None) -> None:
    """float32 and float64 are not mixed silently (PyTorch refuses too): an upcast would hide a bug."""
    if str(input_dtype) != str(weight_dtype):
        raise ValueError(
            f"input has dtype {input_dtype} but weight has dtype {weight_dtype}; convert the input to "
            f"{weight_dtype}, or build the layer with dtype={input_dtype} (mixing them is refused, as in PyTorch)"
        )
    if bias_dtype is not None and str(bias_dtype) != str(weight_dtype):
        raise ValueError(f"bias has dtype {bias_dtype} but weight has dtype {weight_dtype}; convert bias")


def check_float(value, name: str, minimum: float | None = None, maximum: float | None = None,
                strict_minimum: bool = False, strict_maximum: bool = False) -> float:
    """`value` as a finite float in the given range, or a ValueError naming `name`.

    Used for hyper-parameters (``lr``, ``momentum``, ``betas``, ``eps``, ``negative_slope``, ``beta``).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    low_ok = minimum is None or (value > minimum if strict_minimum else value >= minimum)
    high_ok = maximum is None or (value < maximum if strict_maximum else value <= maximum)
    if not (low_ok and high_ok):
        if maximum is None:
            rule = f"{'>' if strict_minimum else '>='} {minimum:g}"
        elif minimum is None:
            rule = f"{'<' if strict_maximum else '<='} {maximum:g}"
        else:
            rule = (f"in {'(' if strict_minimum else '['}{minimum:g}, {maximum:g}"
                    f"{')' if strict_maximum else ']'}")
        raise ValueError(f"{name} must be {rule}, got {value:g}")
    return value


def check_maxout(x_shape, weight_shape, bias_shape, pieces) -> int:
    """Validate maxout arguments; return out_features = weight rows / pieces."""
    pieces = check_int(pieces, "pieces", minimum=1)
    check_linear(x_shape, weight_shape, bias_shape)
    if weight_shape[0] % pieces:
        raise ValueError(
            f"weight has {weight_shape[0]} rows, not a multiple of pieces={pieces}; Maxout's weight is "
            f"(out_features*pieces, in_features)"
        )
    return weight_shape[0] // pieces


def check_multiclass_scores(input_shape) -> None:
    """Margin losses compare the true class with the others: (N, C) scores with C >= 2."""
    check_ndim(input_shape, 2, "input", "(N, C) of class scores")
    if input_shape[1] < 2:
        raise ValueError(f"input must score at least 2 classes for a margin loss, got C={input_shape[1]}")


def check_probability_targets(input_shape, target_shape) -> None:
    """Class-probability targets for (N, C) scores: the same shape as input, floating point."""
    check_ndim(input_shape, 2, "input", "(N, C) of class scores")
    if tuple(target_shape) != tuple(input_shape):
        raise ValueError(
            f"target of class probabilities must have input's shape {tuple(input_shape)}, got "
            f"{tuple(target_shape)}; for class indices pass an integer array of shape ({input_shape[0]},)"
        )


def check_betas(betas) -> tuple[float, float]:
    """Adam's (beta1, beta2): a pair of numbers in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), e.g. (0.9, 0.999), got {betas!r}")
    return tuple(check_float(b, f"betas[{i}]", 0.0, 1.0, strict_maximum=True) for i, b in enumerate(betas))


def check_multi_margin_options(p, weight, size_average, reduce) -> None:
    """What cnnlib's MultiMarginLoss leaves out of torch's: refused by name, never ignored."""
    if p != 1:
        raise ValueError(f"p={p!r} is not supported: cnnlib's MultiMarginLoss is torch's p=1 (the hinge itself)")
    if weight is not None:
        raise ValueError("weight= (a weight per class) is not supported by cnnlib's MultiMarginLoss; pass weight=None")
    if size_average is not None or reduce is not None:
        raise ValueError("size_average= and reduce= are deprecated in torch; use reduction='mean', 'sum' or 'none'")
