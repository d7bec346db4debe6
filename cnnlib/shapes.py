"""Output-size arithmetic for convolution and pooling (taught in 02_convolution).

The lecture's rule for a square input of size N, a filter of size F and a stride S is

    output = (N - F) / S + 1

and with P pixels of zero padding on each side, N becomes N + 2P. When the division is
not exact the filter "doesn't fit". `conv_output_size` says so; the layers themselves,
like PyTorch's, take the floor and simply ignore the last rows and columns.
"""
from __future__ import annotations

from cnnlib.checks import check_int


def check_sizes(n, kernel_size, stride=1, padding=0) -> tuple[int, int, int, int]:
    """The four sizes of the output-size formula as ints, or a ValueError naming the bad one."""
    return (check_int(n, "n", minimum=1), check_int(kernel_size, "kernel_size", minimum=1),
            check_int(stride, "stride", minimum=1), check_int(padding, "padding", minimum=0))


def _span(n, kernel_size, padding, dilation):
    """N + 2P - (d*(F-1) + 1): how far the (dilated) filter can slide; a ValueError if it does not fit at all."""
    extent = dilation * (kernel_size - 1) + 1
    span = n + 2 * padding - extent
    if span < 0:
        dilated = "" if dilation == 1 else f" (with dilation={dilation} it spans {extent})"
        raise ValueError(
            f"kernel_size={kernel_size}{dilated} is larger than the padded input "
            f"({n} + 2*{padding} = {n + 2 * padding}); use a smaller kernel or more padding"
        )
    return span


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """The lecture's ``(N - F + 2P) / stride + 1``, insisting that the filter fits exactly.

    >>> conv_output_size(7, 3, stride=2)
    3
    >>> conv_output_size(227, 11, stride=4)   # AlexNet CONV1
    55

    Raises ``ValueError`` when the filter does not fit (7, 3, stride 3 gives 2.33), and names
    the smallest padding that would make it fit. With ``dilation`` d (taps d pixels apart) the
    filter spans d*(F-1) + 1 pixels, which takes F's place in the formula.
    """
    n, kernel_size, stride, padding = check_sizes(n, kernel_size, stride, padding)
    dilation = check_int(dilation, "dilation", minimum=1)
    span = _span(n, kernel_size, padding, dilation)
    if span % stride:
        extent = dilation * (kernel_size - 1) + 1
        raise ValueError(
            f"the filter doesn't fit: (N - F + 2P) / stride + 1 = ({n} - {extent} + 2*{padding}) "
            f"/ {stride} + 1 = {span / stride + 1:.2f} is not a whole number; "
            f"{_fitting_paddings_hint(n, extent, stride, padding)}"
        )
    return span // stride + 1


def floor_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """PyTorch's rule: ``floor((N - F + 2P) / stride) + 1``; what the layers compute.

    It refuses what `conv_output_size` refuses, except a stride that leaves rows over (those are dropped).
    """
    n, kernel_size, stride, padding = check_sizes(n, kernel_size, stride, padding)
    dilation = check_int(dilation, "dilation", minimum=1)
    return _span(n, kernel_size, padding, dilation) // stride + 1


def fitting_paddings(n: int, kernel_size: int, stride: int, max_padding: int) -> list[int]:
    """Every padding in ``0 .. max_padding`` for which the filter fits exactly.

    >>> fitting_paddings(7, 3, 2, 3)
    [0, 1, 2, 3]
    >>> fitting_paddings(8, 3, 2, 3)     # 8 - 3 + 2P is always odd: no padding helps stride 2
    []
    """
    n, kernel_size, stride, max_padding = check_sizes(n, kernel_size, stride, max_padding)
    return [p for p in range(max_padding + 1)
            if n + 2 * p - kernel_size >= 0 and (n + 2 * p - kernel_size) % stride == 0]


def nearest_fitting_padding(n: int, kernel_size: int, stride: int, padding: int) -> int | None:
    """The padding closest to ``padding`` that makes the filter fit (the smaller one on a tie), or None.

    Adding 1 to P adds 2 to N - F + 2P, so searching ``stride`` paddings either side is enough.
    """
    n, kernel_size, stride, padding = check_sizes(n, kernel_size, stride, padding)
    candidates = fitting_paddings(n, kernel_size, stride, padding + stride + kernel_size)
    if not candidates:
        return None
    return min(candidates, key=lambda p: (abs(p - padding), p))


def _fitting_paddings_hint(n: int, kernel_size: int, stride: int, padding: int) -> str:
    p = nearest_fitting_padding(n, kernel_size, stride, padding)
    if p is None:
        return f"choose a stride that divides {n + 2 * padding - kernel_size}"
    out = (n + 2 * p - kernel_size) // stride + 1
    return f"padding={p} fits (output {out}), or choose a stride that divides {n + 2 * padding - kernel_size}"
