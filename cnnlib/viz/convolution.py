"""Figures for convolution, stride and padding (used by 02_convolution).

- `window_starts`: where a filter lands along one axis, and how many rows/columns it leaves uncovered;
- `plot_filter_positions`: the lecture's 7x7 walk-through as a picture (padding, windows, output pixels);
- `plot_kernel`: a small filter with its numbers written in;
- `show_named_images`: photographs, filter responses and activation maps side by side.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from cnnlib.shapes import check_sizes


def window_starts(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> tuple[list[int], int]:
    """Start offsets of the filter along one axis of the padded input, and the cells left over.

    The filter starts at 0, stride, 2*stride, ... as long as it fits inside the n + 2*padding
    cells. ``leftover = (n + 2p - F) % stride`` cells at the far end are never reached; it is
    0 exactly when the lecture's (N - F + 2P)/stride + 1 is a whole number.

    >>> window_starts(7, 3, stride=2)
    ([0, 2, 4], 0)
    >>> window_starts(7, 3, stride=3)      # "doesn't fit": the last column is never covered
    ([0, 3], 1)
    """
    n, kernel_size, stride, padding = check_sizes(n, kernel_size, stride, padding)
    span = n + 2 * padding - kernel_size
    if span < 0:
        raise ValueError(f"kernel_size={kernel_size} is larger than the padded input ({n + 2 * padding} cells)")
    return list(range(0, span + 1, stride)), span % stride


def plot_filter_positions(n: int, kernel_size: int, stride: int = 1, padding: int = 0, ax=None,
                          width: float | None = None):
    """Where an F x F filter lands on an N x N input: one dot per output pixel (the window's centre).

    Padding cells are grey and hold 0. The first window is outlined in blue, the next one along
    the row in orange. If the stride does not fit, the window that would be next is drawn in
    red, hanging over the edge, and the cells it would need are shaded. ``width`` (in cells)
    fixes the drawn width, so panels side by side share one scale. Returns the Figure.
    """
    starts, leftover = window_starts(n, kernel_size, stride, padding)
    size, k = n + 2 * padding, kernel_size
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.6))
    for r in range(size):
        for c in range(size):
            is_pad = min(r, c) < padding or max(r, c) >= padding + n
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor="0.85" if is_pad else "white", edgecolor="0.6", lw=0.6))
            if is_pad:
                ax.text(c + 0.5, r + 0.5, "0", ha="center", va="center", color="0.4")
    centres = np.array(starts) + k / 2
    cx, cy = np.meshgrid(centres, centres)
    ax.plot(cx.ravel(), cy.ravel(), "o", color="C2", ms=5, zorder=3)
    ax.add_patch(Rectangle((0, 0), k, k, fill=False, edgecolor="C0", lw=2.5, zorder=4))
    if len(starts) > 1:
        ax.add_patch(Rectangle((starts[1], 0), k, k, fill=False, edgecolor="C1", lw=2, ls="--", zorder=4))
    if leftover:
        nxt = starts[-1] + stride
        ax.add_patch(Rectangle((size - leftover, 0), leftover, size, facecolor="C3", alpha=0.15, zorder=2))
        ax.add_patch(Rectangle((nxt, 0), k, k, fill=False, edgecolor="C3", lw=2, ls=":", zorder=4))
    out = (size - k) / stride + 1
    result = f"{int(out)}x{int(out)} output" if not leftover else f"{out:.2f}: doesn't fit"
    pad = f", pad {padding}" if padding else ""
    ax.set_title(f"{n}x{n} input, {k}x{k} filter, stride {stride}{pad}\n-> {result}")
    right = max(size, starts[-1] + stride + k if leftover else size, width or 0)
    ax.set_xlim(-0.2, right + 0.2)
    ax.set_ylim(size + 0.2, -0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure


def plot_kernel(kernel, ax=None, title: str | None = None, fmt: str | None = ".2f", *,
                signed: bool | None = None, colorbar: bool = False):
    """A small 2-D filter as a heat map with each weight written in its cell (``fmt=None``: no numbers).

    Signed filters (edge detectors) are red and blue around a white 0; ``signed=True`` draws a
    filter with no negative weight on that same scale (red for positive), so that filters side by side
    share one colour meaning; ``signed=None`` decides by the weights. ``colorbar=True`` adds a colour bar
    with the values. Returns the Figure.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be 2-D (kH, kW), got shape {kernel.shape}")
    if signed is not None and not isinstance(signed, bool):
        raise ValueError(f"signed must be True, False or None (decide by the weights), got {signed!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    limit = float(np.max(np.abs(kernel))) or 1.0
    signed = bool(np.any(kernel < 0)) if signed is None else signed
    shown = ax.imshow(kernel, cmap="RdBu_r" if signed else "Blues", vmin=-limit if signed else 0, vmax=limit)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=7)
    for (r, c), value in np.ndenumerate(kernel):
        if fmt:
            dark = abs(value) > 0.6 * limit
            ax.text(c, r, format(value, fmt), ha="center", va="center",
                    color="white" if dark else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax.figure


def show_named_images(images: Mapping[str, np.ndarray], ncols: int | None = None, size: float = 2.6,
                cmap: str | None = None):
    """Images side by side with their titles.

    (H, W) arrays with no negative value are drawn in grey; signed ones (filter responses) in
    red and blue on a scale symmetric about a white 0, with a colour bar, so the sign of an edge
    and its size show; (H, W, 3) arrays as colour. ``cmap`` draws every (H, W) array with that colour map instead, each scaled to its own
    range (for activation maps). Returns the Figure.
    """
    if not images:
        raise ValueError("images must hold at least one array")
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax, (name, image) in zip(axes.flat, images.items()):
        image = np.asarray(image, dtype=np.float64)
        if image.ndim == 3 and image.shape[2] == 3:
            ax.imshow(np.clip(image, 0, 1))
        elif image.ndim == 2 and cmap is not None:
            ax.imshow(image, cmap=cmap)
        elif image.ndim == 2 and np.any(image < 0):
            limit = float(np.max(np.abs(image)))
            shown = ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.03)
        elif image.ndim == 2:
            ax.imshow(image, cmap="gray")
        else:
            raise ValueError(f"images[{name!r}] must be (H, W) or (H, W, 3), got shape {image.shape}")
        ax.set_title(name)
        ax.axis("off")
    for ax in list(axes.flat)[len(images):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
