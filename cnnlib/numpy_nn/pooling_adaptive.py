"""Adaptive average pooling: the output size is given, the windows follow from it (torchvision's models use it).

``torch.nn.AdaptiveAvgPool2d(output_size)`` averages over windows chosen so that an (H, W) input
gives an (out_h, out_w) output whatever H and W are. Output row i averages the input rows

    start(i) = floor(i * H / out_h)   up to, not including,   end(i) = ceil((i + 1) * H / out_h)

and the columns likewise, so neighbouring windows may overlap by one pixel and, when out_h > H,
an input row may feed several output rows. ``output_size`` is an int or a pair; ``None`` in the
pair keeps that input size. ResNet's ``AdaptiveAvgPool2d(1)`` is global average pooling.

Each window is a block of rows times a block of columns and its divisor is the product of the
two lengths, so pooling is two matrix products, ``out = A_h @ x @ A_w.T``, with ``A_h[i, r] =
1 / (end(i) - start(i))`` on row i's window and 0 elsewhere; the backward is ``A_h.T @ g @ A_w``.
`adaptive_avg_pool2d_naive` computes the same window by window, for reading and for tests.
"""
from __future__ import annotations

import numbers

import numpy as np

from cnnlib.numpy_nn.module import Module


def adaptive_output_size(output_size, in_hw) -> tuple[int, int]:
    """``output_size`` (an int, or a pair of ints or None) as (out_h, out_w), None taking ``in_hw``'s entry."""
    items = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(items) != 2:
        raise ValueError(f"output_size must be an int or a pair (out_h, out_w), got {output_size!r}")
    sizes = []
    for item, size in zip(items, in_hw):
        if item is None:
            sizes.append(int(size))
        elif isinstance(item, bool) or not isinstance(item, numbers.Integral) or item < 0:
            raise ValueError(f"output_size must hold non-negative integers or None, got {output_size!r}")
        else:
            sizes.append(int(item))
    return sizes[0], sizes[1]


def check_adaptive_output_size(output_size) -> None:
    """The check made when a module is built (None entries are resolved at forward)."""
    adaptive_output_size(output_size, (1, 1))


def adaptive_windows(size: int, n_out: int) -> list[tuple[int, int]]:
    """The (start, end) input range of each of ``n_out`` outputs over an axis of ``size``, as PyTorch picks them."""
    return [(i * size // n_out, -(-(i + 1) * size // n_out)) for i in range(n_out)]


def averaging_matrix(size: int, n_out: int, dtype) -> np.ndarray:
    """(n_out, size): row i is 1 / window length on output i's window, 0 elsewhere."""
    a = np.zeros((n_out, size), dtype=dtype)
    for i, (start, end) in enumerate(adaptive_windows(size, n_out)):
        a[i, start:end] = 1.0 / (end - start)
    return a


def _check_input(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"input must have shape (N, C, H, W) or (C, H, W), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"input must be a floating-point array, got dtype {x.dtype}")
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        raise ValueError(f"input must have non-zero height and width (as torch demands), got shape {x.shape}")
    return x


def adaptive_avg_pool2d_forward(x, output_size):
    """Forward pass: the output (N, C, out_h, out_w) or (C, out_h, out_w) and the cache for the backward."""
    x = _check_input(x)
    (h, w), dtype = x.shape[-2:], x.dtype
    out_h, out_w = adaptive_output_size(output_size, (h, w))
    a_h, a_w = averaging_matrix(h, out_h, dtype), averaging_matrix(w, out_w, dtype)
    out = a_h @ x @ a_w.T                                       # (..., out_h, out_w)
    return out, (x.shape, dtype, a_h, a_w)


def adaptive_avg_pool2d_backward(grad_output, cache) -> np.ndarray:
    """Backward pass: each output's gradient shared equally by the pixels of its window."""
    x_shape, dtype, a_h, a_w = cache
    expected = (*x_shape[:-2], a_h.shape[0], a_w.shape[0])
    grad_output = np.asarray(grad_output)
    if grad_output.shape != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {grad_output.shape}")
    return (a_h.T @ grad_output.astype(dtype, copy=False) @ a_w).astype(dtype, copy=False)


def adaptive_avg_pool2d(x, output_size) -> np.ndarray:
    """``torch.nn.functional.adaptive_avg_pool2d`` in NumPy (forward only)."""
    return adaptive_avg_pool2d_forward(x, output_size)[0]


# -- the naive loops, for reading: one window at a time -------------------------------------------------
def adaptive_avg_pool2d_naive(x, output_size) -> np.ndarray:
    """Adaptive average pooling as loops over output pixels: the mean of each window."""
    x = _check_input(x)
    h, w = x.shape[-2:]
    out_h, out_w = adaptive_output_size(output_size, (h, w))
    out = np.zeros((*x.shape[:-2], out_h, out_w), dtype=x.dtype)
    for i, (r0, r1) in enumerate(adaptive_windows(h, out_h)):
        for j, (c0, c1) in enumerate(adaptive_windows(w, out_w)):
            out[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return out


def adaptive_avg_pool2d_backward_naive(grad_output, x_shape, output_size) -> np.ndarray:
    """The backward as loops: output (i, j)'s gradient divided among the pixels of its window."""
    h, w = x_shape[-2:]
    out_h, out_w = adaptive_output_size(output_size, (h, w))
    grad_output = np.asarray(grad_output)
    grad = np.zeros(x_shape, dtype=grad_output.dtype)
    for i, (r0, r1) in enumerate(adaptive_windows(h, out_h)):
        for j, (c0, c1) in enumerate(adaptive_windows(w, out_w)):
            grad[..., r0:r1, c0:c1] += (grad_output[..., i, j] / ((r1 - r0) * (c1 - c0)))[..., None, None]
    return grad


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, as ``torch.nn.AdaptiveAvgPool2d(output_size)``.

    Math: out[n, c, i, j] = mean of x[n, c, start(i):end(i), start(j):end(j)] with
    start(i) = floor(i * H / out_h), end(i) = ceil((i + 1) * H / out_h).

    Shape: input (N, C, H, W) or (C, H, W) -> output (N, C, out_h, out_w) or (C, out_h, out_w);
    ``None`` in ``output_size`` keeps that input size.

    No parameters; ``backward(grad_output)`` returns the gradient with respect to the input.
    """

    def __init__(self, output_size):
        check_adaptive_output_size(output_size)
        self.output_size = output_size
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = adaptive_avg_pool2d_forward(x, self.output_size)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return adaptive_avg_pool2d_backward(grad_output, self._saved(self._cache))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
