"""What the convolution-arithmetic and pooling explorers draw, as pure functions (no widgets).

Taught in 02_convolution (the output-size formula) and 03_pooling (max and average pooling).
Along one axis, a filter of size F slid with stride S over an input of size N padded by P on
each side lands at the offsets 0, S, 2S, ... of the padded input, and there are

    (N - F + 2P) / S + 1

of them when the division is exact. When it is not, the filter "doesn't fit": PyTorch takes
the floor and never looks at the last rows and columns. The explorers show both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlib.checks import check_int
from cnnlib.numpy_nn.conv import windows
from cnnlib.numpy_nn.pooling import avg_pool2d, max_pool2d
from cnnlib.shapes import check_sizes, conv_output_size, floor_output_size, nearest_fitting_padding


@dataclass(frozen=True)
class ConvArithmetic:
    """Everything the convolution-arithmetic explorer draws for one setting (one axis; grids are square).

    ``positions`` are the offsets in the padded input where the filter lands (the top-left
    corners are every pair of them); ``output_size`` is PyTorch's floor rule, equal to the
    lecture's formula when ``fits``; ``ignored`` counts the trailing rows (and columns) of the
    padded input that no window covers; ``suggestion`` is the padding nearest to ``padding``
    that fits (None when none does).
    """

    n: int
    kernel_size: int
    stride: int
    padding: int
    padded_size: int
    fits: bool
    output_size: int
    positions: tuple[int, ...]
    ignored: int
    formula: str
    message: str
    suggestion: int | None


def formula_text(n: int, kernel_size: int, stride: int, padding: int) -> str:
    """The lecture's formula with the numbers filled in, e.g. ``(7 − 3 + 2·1) / 2 + 1 = 4``."""
    span = n - kernel_size + 2 * padding
    value = span / stride + 1
    shown = f"{value:.0f}" if span % stride == 0 else f"{value:.2f}"
    return f"(N − F + 2P) / S + 1 = ({n} − {kernel_size} + 2·{padding}) / {stride} + 1 = {shown}"


def conv_arithmetic(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> ConvArithmetic:
    """Where a ``kernel_size`` filter lands on an ``n``-wide input, and whether it fits.

    >>> r = conv_arithmetic(7, 3, stride=2)
    >>> r.fits, r.output_size, r.positions
    (True, 3, (0, 2, 4))
    >>> r = conv_arithmetic(7, 3, stride=3)
    >>> r.fits, r.output_size, r.ignored, r.suggestion
    (False, 2, 1, 1)
    """
    n, kernel_size, stride, padding = check_sizes(n, kernel_size, stride, padding)
    padded = n + 2 * padding
    formula = formula_text(n, kernel_size, stride, padding)
    try:
        out = conv_output_size(n, kernel_size, stride, padding)
        fits = True
    except ValueError:
        fits = False
        out = 0 if kernel_size > padded else floor_output_size(n, kernel_size, stride, padding)
    positions = tuple(i * stride for i in range(out))
    ignored = padded - (positions[-1] + kernel_size) if positions else padded
    suggestion = padding if fits else nearest_fitting_padding(n, kernel_size, stride, padding)
    if fits:
        message = f"fits: the output is {out} × {out}"
    elif kernel_size > padded:
        message = (f"doesn't fit: the {kernel_size} × {kernel_size} filter is larger than the "
                   f"{padded} × {padded} padded input")
    else:
        message = (f"doesn't fit: {formula} is not a whole number; PyTorch takes the floor "
                   f"(output {out} × {out}) and ignores the last {ignored} row(s) and column(s)")
    if not fits:
        if suggestion is None:
            message += (f". No padding fits with stride {stride}: N − F = {n - kernel_size} is odd; "
                        f"change the stride or the filter size")
        else:
            fixed = (n + 2 * suggestion - kernel_size) // stride + 1
            message += f". Nearest padding that fits: P = {suggestion} (output {fixed} × {fixed})"
    return ConvArithmetic(n, kernel_size, stride, padding, padded, fits, out, positions, ignored,
                          formula, message, suggestion)


# -- pooling --------------------------------------------------------------------------------------
def example_activation_map(size: int = 8, seed: int = 0) -> np.ndarray:
    """A small (size, size) map of whole numbers 0..9, so every pooled value can be read off the grid."""
    size = check_int(size, "size", minimum=1)
    return np.random.default_rng(seed).integers(0, 10, size=(size, size)).astype(np.float64)


@dataclass(frozen=True)
class PoolingResult:
    """What the pooling explorer draws: the output and, per output cell, its window and chosen cell.

    ``window_origins[i, j]`` is the (row, column) of the top-left corner of the window that
    produced ``output[i, j]``; for max pooling ``argmax[i, j]`` is the (row, column) in the input
    of the value that won (None for average pooling).
    """

    mode: str
    kernel_size: int
    stride: int
    output: np.ndarray          # (H_out, W_out)
    window_origins: np.ndarray  # (H_out, W_out, 2)
    argmax: np.ndarray | None   # (H_out, W_out, 2)
    ignored: int                # trailing rows/columns no window covers


def pool_map(x: np.ndarray, mode: str, kernel_size: int, stride: int | None = None) -> PoolingResult:
    """Max or average pooling of one 2-D map, keeping where each window sits (no padding).

    The output is `cnnlib.numpy_nn.pooling`'s ``max_pool2d`` / ``avg_pool2d``; the windows and the
    winning cells are worked out here only to draw them.

    Math: out[i, j] = max (or mean) of x[i*S : i*S+K, j*S : j*S+K].

    Shape: x (H, W) -> output (H_out, W_out) with H_out = floor((H - K) / S) + 1. Taught in 03_pooling.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D map (H, W), got shape {x.shape}")
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = kernel_size if stride is None else check_int(stride, "stride", minimum=1)
    if kernel_size > min(x.shape):
        raise ValueError(f"kernel_size={kernel_size} is larger than the {x.shape[0]} × {x.shape[1]} map")
    h_out = floor_output_size(x.shape[0], kernel_size, stride)
    w_out = floor_output_size(x.shape[1], kernel_size, stride)
    view = windows(x[None, None], (kernel_size, kernel_size), (stride, stride), (h_out, w_out))[0, 0]
    flat = view.reshape(h_out, w_out, kernel_size * kernel_size)  # (H_out, W_out, K*K)
    rows, cols = np.meshgrid(np.arange(h_out) * stride, np.arange(w_out) * stride, indexing="ij")
    origins = np.stack([rows, cols], axis=-1)                     # (H_out, W_out, 2)
    pool = max_pool2d if mode == "max" else avg_pool2d
    output = pool(x[None, None], kernel_size, stride)[0, 0]     # (H_out, W_out): the layer's own numbers
    if mode == "max":
        best = flat.argmax(axis=-1)                               # first maximum, row-major, as the layer
        argmax = origins + np.stack([best // kernel_size, best % kernel_size], axis=-1)
    else:
        argmax = None
    ignored = x.shape[0] - ((h_out - 1) * stride + kernel_size)
    return PoolingResult(mode, kernel_size, stride, output, origins, argmax, ignored)
