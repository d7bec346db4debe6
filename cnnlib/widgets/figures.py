"""The explorers' pictures: matplotlib figures drawn from the pure results in this package.

Every function takes plain results (arrays, dataclasses) and returns a `matplotlib.figure.Figure`
made WITHOUT pyplot: the figure is not registered with pyplot's global list, so nothing is
displayed twice and nothing accumulates while a slider moves (the figure is garbage once its
PNG has been made by `figure_png`).
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlib.widgets.arithmetic import ConvArithmetic, PoolingResult

FIRST, SECOND = "tab:blue", "tab:orange"   # the first window and the next one along the row
GOOD, BAD = "#1a7f37", "#cf222e"           # "fits" / "doesn't fit"


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (what an ``ipywidgets.Image`` shows)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _grid(ax, rows: int, cols: int) -> None:
    """Cell borders and no ticks: cell (r, c) is the unit square centred on (c, r)."""
    ax.hlines(np.arange(-0.5, rows), -0.5, cols - 0.5, color="0.55", linewidth=0.6, zorder=2)
    ax.vlines(np.arange(-0.5, cols), -0.5, rows - 0.5, color="0.55", linewidth=0.6, zorder=2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)


def _square(ax, row, col, size, color, **kw) -> None:
    ax.add_patch(Rectangle((col - 0.5, row - 0.5), size, size, fill=False, edgecolor=color, **kw))


def _hatch_ignored(ax, total: int, ignored: int) -> None:
    """Hatch the trailing rows and columns that no window reaches (the floor rule drops them)."""
    if ignored <= 0:
        return
    start = total - ignored
    kw = dict(fill=False, hatch="xx", edgecolor=BAD, linewidth=0)
    ax.add_patch(Rectangle((start - 0.5, -0.5), ignored, total, **kw))
    ax.add_patch(Rectangle((-0.5, start - 0.5), start, ignored, **kw))


# -- convolution arithmetic -----------------------------------------------------------------------
def conv_arithmetic_figure(r: ConvArithmetic) -> Figure:
    """Left: the padded input (padding grey) with every filter position; right: the output grid."""
    fig = Figure(figsize=(9, 4.4), layout="constrained")
    ax_in, ax_out = fig.subplots(1, 2, width_ratios=[1.6, 1])
    p, f, s = r.padded_size, r.kernel_size, r.stride
    cells = np.zeros((p, p))
    cells[r.padding:r.padding + r.n, r.padding:r.padding + r.n] = 1          # 0 padding, 1 input
    ax_in.imshow(cells, cmap=ListedColormap(["#d0d0d0", "white"]), vmin=0, vmax=1)
    _grid(ax_in, p, p)
    _hatch_ignored(ax_in, p, r.ignored)
    centres = np.array(r.positions) + (f - 1) / 2
    cx, cy = np.meshgrid(centres, centres)
    ax_in.plot(cx.ravel(), cy.ravel(), "o", color="0.25", markersize=4, zorder=3)
    if r.positions:
        _square(ax_in, 0, 0, f, FIRST, linewidth=3, zorder=4)
    if len(r.positions) > 1:
        _square(ax_in, 0, s, f, SECOND, linewidth=2.5, linestyle="--", zorder=4)
        ax_in.annotate("", xy=(centres[1], -0.9), xytext=(centres[0], -0.9), annotation_clip=False,
                       arrowprops=dict(arrowstyle="->", color=SECOND, linewidth=1.5))
        ax_in.text((centres[0] + centres[1]) / 2, -1.2, f"stride {s}", color=SECOND,
                   ha="center", va="bottom", fontsize=10)
    ax_in.set_xlabel(f"input {r.n}×{r.n}, padding {r.padding} (grey) → {p}×{p};  "
                     f"filter {f}×{f}: {len(r.positions) ** 2} positions (dots)")
    o = r.output_size
    if o > 0:
        ax_out.imshow(np.zeros((o, o)), cmap=ListedColormap(["white"]))
        _grid(ax_out, o, o)
        ax_out.add_patch(Rectangle((-0.5, -0.5), 1, 1, color=FIRST, alpha=0.6))
        if o > 1:
            ax_out.add_patch(Rectangle((0.5, -0.5), 1, 1, color=SECOND, alpha=0.6))
        ax_out.set_xlabel(f"output {o}×{o}" + ("" if r.fits else " (PyTorch's floor)"))
    else:
        ax_out.set_axis_off()
        ax_out.text(0.5, 0.5, "no output:\nthe filter is larger\nthan the padded input",
                    ha="center", va="center", color=BAD, fontsize=12, transform=ax_out.transAxes)
    verdict = "fits" if r.fits else "doesn't fit"
    fig.suptitle(f"{r.formula}   ({verdict})", color=GOOD if r.fits else BAD, fontsize=13)
    return fig


# -- pooling --------------------------------------------------------------------------------------
def _annotate_values(ax, values: np.ndarray, fmt: str) -> None:
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=10)


def pooling_figure(x: np.ndarray, res: PoolingResult) -> Figure:
    """Left: the map with its windows outlined (and the max each picked); right: the pooled output.

    Windows that do not overlap (stride >= window) are all coloured; overlapping ones would hide
    each other, so then only the first two of the first row and the first of the second are, and
    the dashed ones show the stride.
    """
    fig = Figure(figsize=(9, 4.4), layout="constrained")
    ax_in, ax_out = fig.subplots(1, 2, width_ratios=[1.5, 1])
    h_out, w_out = res.output.shape
    k, s = res.kernel_size, res.stride
    cells = list(np.ndindex(h_out, w_out))
    if s >= k:
        shown = {cell: f"C{idx % 10}" for idx, cell in enumerate(cells)}
    else:
        shown = {cell: color for cell, color in zip([(0, 0), (0, 1), (1, 0)], (FIRST, SECOND, "tab:green"))
                 if cell[0] < h_out and cell[1] < w_out}
    vmax = 2 * x.max() + 1e-9
    ax_in.imshow(x, cmap="Blues", vmin=0, vmax=vmax)
    _grid(ax_in, *x.shape)
    _annotate_values(ax_in, x, ".0f" if np.all(x == np.round(x)) else ".1f")
    _hatch_ignored(ax_in, x.shape[0], res.ignored)
    for (i, j), color in shown.items():
        r0, c0 = res.window_origins[i, j]
        inset = 0.07
        ax_in.add_patch(Rectangle((c0 - 0.5 + inset, r0 - 0.5 + inset), k - 2 * inset, k - 2 * inset,
                                  fill=False, edgecolor=color, linewidth=2.5, zorder=4,
                                  linestyle="-" if (i, j) == (0, 0) or s >= k else "--"))
        if res.argmax is not None:
            ar, ac = res.argmax[i, j]
            ax_in.add_patch(Rectangle((ac - 0.4, ar - 0.4), 0.8, 0.8, color=color, alpha=0.35, zorder=2))
    notes = [] if s >= k else ["windows overlap: 3 shown"]
    notes += ["hatched: never pooled"] if res.ignored > 0 else []
    ax_in.set_xlabel(f"input {x.shape[0]}×{x.shape[1]}: {h_out * w_out} windows of {k}×{k}, stride {s}"
                     + ("\n" + "; ".join(notes) if notes else ""))
    ax_out.imshow(res.output, cmap="Blues", vmin=0, vmax=vmax)
    _grid(ax_out, h_out, w_out)
    _annotate_values(ax_out, res.output, ".0f" if res.mode == "max" and np.all(x == np.round(x)) else ".2f")
    for (i, j), color in shown.items():
        _square(ax_out, i, j, 1, color, linewidth=3, zorder=4)
    ax_out.set_xlabel(f"{res.mode} pooling → output {h_out}×{w_out}")
    what = "largest value (shaded)" if res.mode == "max" else "mean"
    fig.suptitle(f"each output cell is the {what} of the window with the same colour", fontsize=12)
    return fig


# -- filters --------------------------------------------------------------------------------------
def filter_figure(kernel: np.ndarray, image: np.ndarray, filtered: np.ndarray, title: str,
                  signed: bool) -> Figure:
    """Kernel (numbers shown when small), the photograph, and the filtered photograph.

    ``signed``: show the output on a red-blue scale around 0 (edge filters); otherwise grey in [0, 1].
    """
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_k, ax_im, ax_out = fig.subplots(1, 3)
    bound = np.abs(kernel).max() or 1.0
    ax_k.imshow(kernel, cmap="RdBu_r", vmin=-bound, vmax=bound)
    _grid(ax_k, *kernel.shape)
    if kernel.shape[0] <= 5:
        for (i, j), v in np.ndenumerate(kernel):
            ax_k.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8 if kernel.shape[0] == 5 else 10)
    ax_k.set_title(f"kernel {kernel.shape[0]}×{kernel.shape[1]} (sum {kernel.sum():.2f})")
    ax_im.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax_im.set_title("photograph")
    if signed:
        edge = np.abs(filtered).max() or 1.0
        ax_out.imshow(filtered, cmap="RdBu_r", vmin=-edge, vmax=edge)
    else:
        ax_out.imshow(filtered, cmap="gray", vmin=0, vmax=1)
    ax_out.set_title("filtered (conv2d)")
    for ax in (ax_im, ax_out):
        ax.set_axis_off()
    fig.suptitle(title, fontsize=12)
    return fig


# -- activations ----------------------------------------------------------------------------------
def activation_figure(x: np.ndarray, y: np.ndarray, dy: np.ndarray, formula: str) -> Figure:
    """f(x) and f'(x) side by side, on the same x axis."""
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax_f, ax_d = fig.subplots(1, 2, sharex=True)
    for ax, values, label, color in ((ax_f, y, "f(x)", "tab:blue"), (ax_d, dy, "f′(x)", "tab:red")):
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.plot(x, values, color=color, linewidth=2.5)
        ax.set_title(label)
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
    ax_d.set_ylim(min(-0.1, dy.min() - 0.1), max(1.1, dy.max() + 0.1))
    fig.suptitle(formula, fontsize=12)
    return fig


# -- optimizers -----------------------------------------------------------------------------------
def optimizer_figure(surface, paths: dict[str, np.ndarray], title: str) -> Figure:
    """Left: the paths over the contour lines of a `cnnlib.surfaces.Surface`; right: the loss at every step.

    A path that diverged (nan rows) is drawn up to where it left, and labelled "diverged".
    """
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_map, ax_loss = fig.subplots(1, 2, width_ratios=[1.7, 1])
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    gx, gy, z = surface.grid(161)
    ax_map.contour(gx, gy, z, levels=np.geomspace(max(z.min(), 1e-3), z.max(), 14), colors="0.6",
                   linewidths=0.8)
    # each optimizer has its own colour, marker (map) and line style (loss): not colour alone
    for (name, path), color, marker, line in zip(paths.items(), ("tab:blue", "tab:orange", "tab:green", "tab:red"),
                                                 "os^D", ("-", "--", "-.", ":")):
        shown = np.clip(path, [x0, y0], [x1, y1])            # a path that flies off stays on the map's edge
        ax_map.plot(shown[:, 0], shown[:, 1], "-", marker=marker, color=color, markersize=3, linewidth=1.5,
                    label=name)
        loss = surface(path[:, 0], path[:, 1])
        final = "diverged" if np.isnan(loss[-1]) else f"{loss[-1]:.3g}"
        ax_loss.plot(np.arange(len(loss)), np.maximum(loss, 1e-12), line, color=color, linewidth=2,
                     label=f"{name}: {final}")
    start = next(iter(paths.values()))[0]
    ax_map.plot(*start, "ks", markersize=7, label="start")
    ax_map.plot(*surface.minimum, "k*", markersize=12, label="minimum")
    ax_map.set_xlim(x0, x1)
    ax_map.set_ylim(y0, y1)
    ax_map.set_xlabel("x")
    ax_map.set_ylabel("y")
    ax_map.legend(loc="lower left", fontsize=8)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_title("loss (final value)")
    ax_loss.legend(fontsize=9)
    ax_loss.grid(alpha=0.3)
    fig.suptitle(title, fontsize=12)
    return fig
