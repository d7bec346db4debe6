"""Figures for 03_pooling: a depth slice as a grid of numbers, its pooling windows, gradient maps.

A pooling window of size k x k moved with stride s over an H x W slice has its top-left corner
at (i*s, j*s) for i < (H - k) // s + 1 and j < (W - k) // s + 1 (no padding here). When s < k
neighbouring windows share pixels ("overlapping pooling"): `window_coverage` counts how many
windows read each pixel, which is also how many gradient contributions a pixel can receive.

Every plotting function returns the matplotlib ``Figure``; the notebook calls ``plt.show()``.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Rectangle

from cnnlib.checks import pair

# Qualitative colours, one per window (tab10 without its grey); they repeat after nine windows.
WINDOW_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def _as_slice(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be one depth slice, a 2-D (H, W) array, got shape {x.shape}")
    return x


def window_origins(size_hw, kernel_size, stride=None) -> list[tuple[int, int]]:
    """Top-left corner (row, col) of every pooling window over an (H, W) slice, row by row.

    ``stride`` defaults to ``kernel_size`` (PyTorch's default for pooling); no padding.

    >>> window_origins((4, 4), 2)
    [(0, 0), (0, 2), (2, 0), (2, 2)]
    """
    h, w = pair(size_hw, "size_hw", minimum=1)
    kh, kw = pair(kernel_size, "kernel_size", minimum=1)
    sh, sw = pair(kernel_size if stride is None else stride, "stride", minimum=1)
    if kh > h or kw > w:
        raise ValueError(f"kernel_size {(kh, kw)} is larger than the slice {(h, w)}; use a smaller window")
    return [(i * sh, j * sw) for i in range((h - kh) // sh + 1) for j in range((w - kw) // sw + 1)]


def window_coverage(size_hw, kernel_size, stride=None) -> np.ndarray:
    """How many pooling windows read each pixel, an (H, W) int array.

    All ones for 2x2 windows at stride 2 on a 4x4 slice; up to 4 for 3x3 at stride 2 (overlap);
    0 for pixels no window reaches (the rows and columns the floor rule drops).
    """
    h, w = pair(size_hw, "size_hw", minimum=1)
    kh, kw = pair(kernel_size, "kernel_size", minimum=1)
    counts = np.zeros((h, w), dtype=np.int64)
    for r, c in window_origins((h, w), (kh, kw), stride):
        counts[r:r + kh, c:c + kw] += 1
    return counts


def window_argmax(x, kernel_size, stride=None) -> list[tuple[int, int]]:
    """(row, col) of the largest value in each window, in `window_origins` order (first one on ties)."""
    x = _as_slice(x)
    kh, kw = pair(kernel_size, "kernel_size", minimum=1)
    where = []
    for r, c in window_origins(x.shape, (kh, kw), stride):
        a, b = np.unravel_index(int(np.argmax(x[r:r + kh, c:c + kw])), (kh, kw))
        where.append((r + int(a), c + int(b)))
    return where


def draw_grid(ax, values, title: str = "", fmt: str = "{:g}", cmap: str | None = None,
              vmin: float | None = None, vmax: float | None = None) -> None:
    """Draw a 2-D array as a grid of cells with its numbers written in them.

    With ``cmap`` the cells are coloured by value (``vmin``/``vmax`` fix the scale, e.g. to
    share it across panels); without, they are white and other patches can colour them.
    """
    values = _as_slice(values, "values")
    h, w = values.shape
    if cmap is not None:
        ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
        lo = values.min() if vmin is None else vmin
        hi = values.max() if vmax is None else vmax
        dark = (values - lo) > 0.6 * (hi - lo) if hi > lo else np.zeros(values.shape, bool)
    else:
        dark = np.zeros(values.shape, bool)
    for r in range(h):
        for c in range(w):
            ax.text(c, r, fmt.format(values[r, c]), ha="center", va="center",
                    color="white" if dark[r, c] else "black")
    for k in range(h + 1):
        ax.plot([-0.5, w - 0.5], [k - 0.5, k - 0.5], color="0.6", lw=0.8)
    for k in range(w + 1):
        ax.plot([k - 0.5, k - 0.5], [-0.5, h - 0.5], color="0.6", lw=0.8)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)


def _window_patch(r: int, c: int, kh: int, kw: int, color: str, inset: float) -> Rectangle:
    return Rectangle((c - 0.5 + inset, r - 0.5 + inset), kw - 2 * inset, kh - 2 * inset,
                     facecolor=color, alpha=0.22, edgecolor=color, lw=2.5)


def plot_pooling(x, out, kernel_size, stride=None, mark_max: bool = True,
                 titles: tuple[str, str] = ("input slice", "pooled"), fmt: str = "{:g}",
                 suptitle: str | None = None):
    """The input slice with each pooling window in its own colour, and the output with the same colours.

    ``out`` is the pooled slice (computed by the caller, e.g. with ``max_pool2d``); output cell
    (i, j) takes the colour of the window it summarises. With ``mark_max`` the largest value of
    each window is circled. Overlapping windows are drawn slightly inset so each edge shows.
    """
    x, out = _as_slice(x), _as_slice(out, "out")
    kh, kw = pair(kernel_size, "kernel_size", minimum=1)
    origins = window_origins(x.shape, (kh, kw), stride)
    if len(origins) != out.size:
        raise ValueError(f"out has {out.size} cells but kernel_size {(kh, kw)} and stride {stride} give "
                         f"{len(origins)} windows over a {x.shape} slice; pass the matching pooled slice")
    overlap = window_coverage(x.shape, (kh, kw), stride).max() > 1
    fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(8, 3.6),
                                        gridspec_kw={"width_ratios": [x.shape[1], max(out.shape[1], 2)]})
    draw_grid(ax_in, x, titles[0], fmt)
    draw_grid(ax_out, out, titles[1], fmt)
    for k, (r, c) in enumerate(origins):
        color = WINDOW_COLORS[k % len(WINDOW_COLORS)]
        ax_in.add_patch(_window_patch(r, c, kh, kw, color, 0.06 + (0.05 * (k % 4) if overlap else 0)))
        i, j = divmod(k, out.shape[1])
        ax_out.add_patch(_window_patch(i, j, 1, 1, color, 0.06))
    if mark_max:
        for r, c in window_argmax(x, (kh, kw), stride):
            ax_in.add_patch(Circle((c, r), 0.33, fill=False, edgecolor="black", lw=1.5))
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_grids(panels: Mapping[str, np.ndarray], fmt: str = "{:g}", cmap: str = "Greens",
               shared_scale: bool = True, suptitle: str | None = None, figsize=None):
    """A row of annotated heatmaps, one per ``{title: 2-D array}`` entry (gradient maps, coverage counts).

    With ``shared_scale`` every panel uses the same colour scale, so equal colours mean equal values.
    """
    if not panels:
        raise ValueError("panels must hold at least one {title: 2-D array} entry")
    arrays = {title: _as_slice(v, f"panel {title!r}") for title, v in panels.items()}
    lo = min(float(a.min()) for a in arrays.values()) if shared_scale else None
    hi = max(float(a.max()) for a in arrays.values()) if shared_scale else None
    n = len(arrays)
    fig, axes = plt.subplots(1, n, figsize=figsize or (min(3.2 * n, 10), 3.4), squeeze=False)
    for ax, (title, a) in zip(axes[0], arrays.items()):
        draw_grid(ax, a, title, fmt, cmap=cmap, vmin=lo, vmax=hi)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
