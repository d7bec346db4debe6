"""Output-size arithmetic for convolution and pooling (taught in 02_convolution).

The lecture's rule for a square input of size N, a filter of size F and a stride S is

    output = (N - F) / S + 1

and with P pixels of zero padding on each side, N becomes N + 2P. When the division is
not exact the filter "doesn't fit". `conv_output_size` says so; the layers themselves,
like PyTorch's, take the floor and simply ignore the last rows and columns.
"""
from __future__ import annotations

from cnnlib.checks import check_int


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """The lecture's ``(N - F + 2P) / stride + 1``, insisting that the filter fits exactly.

    >>> conv_output_size(7, 3, stride=2)
    3
    >>> conv_output_size(227, 11, stride=4)   # AlexNet CONV1
    55

    Raises ``ValueError`` when the filter does not fit (7, 3, stride 3 gives 2.33), and names
    the smallest padding that would make it fit.
    """
    n = check_int(n, "n", minimum=1)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    span = n + 2 * padding - kernel_size
    if span < 0:
        raise ValueError(
            f"kernel_size={kernel_size} is larger than the padded input "
            f"({n} + 2*{padding} = {n + 2 * padding}); use a smaller kernel or more padding"
        )
    if span % stride:
        raise ValueError(
            f"the filter doesn't fit: (N - F + 2P) / stride + 1 = ({n} - {kernel_size} + 2*{padding}) "
            f"/ {stride} + 1 = {span / stride + 1:.2f} is not a whole number; "
            f"{_fitting_paddings_hint(n, kernel_size, stride, padding)}"
        )
    return span // stride + 1


def floor_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """PyTorch's rule: ``floor((N - F + 2P) / stride) + 1``; what the layers compute."""
    return (n + 2 * padding - kernel_size) // stride + 1


def _fitting_paddings_hint(n: int, kernel_size: int, stride: int, padding: int) -> str:
    for extra in range(1, stride + 1):
        if (n + 2 * (padding + extra) - kernel_size) % stride == 0:
            p = padding + extra
            out = (n + 2 * p - kernel_size) // stride + 1
            return f"padding={p} fits (output {out}), or choose a stride that divides {n + 2 * padding - kernel_size}"
    return f"choose a stride that divides {n + 2 * padding - kernel_size}"
