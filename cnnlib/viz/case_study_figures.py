"""Figures for 08_case_studies_alexnet_vgg and 09_case_studies_googlenet_resnet.

Each function draws with matplotlib and returns the ``Figure``; the notebook calls ``plt.show()``.
The numbers come from ``cnnlib.arch.summary`` and ``cnnlib.viz.case_studies``; nothing here
computes a network.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from cnnlib.plots import HATCHES, MARKERS, series_style

# Top-5 error (%) on ImageNet (ILSVRC) as the lecture quotes it, with the weight layers of each
# network (None where the lecture builds no model). LeNet-5 predates the challenge.
ILSVRC_HISTORY = (
    ("LeNet-5\n(1998)", 5, None),
    ("AlexNet\n(2012)", 8, 16.4),
    ("ILSVRC'13\nwinner", None, 11.2),
    ("VGG\n(2014)", 19, 7.3),
    ("GoogLeNet\n(2014)", 22, 6.7),
    ("ResNet\n(2015)", 152, 3.6),
)


def _si(x, _pos=None) -> str:
    """An axis tick: 2e10 -> '20G', 3e6 -> '3M'."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:g}{unit}"
    return f"{x:g}"


def _short(x) -> str:
    """A count in a title or label, one decimal: 61706 -> '61.7K'."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:g}"


def plot_layer_profile(s, title: str = ""):
    """Activations (memory) and parameters of each row of a summary, as two bar charts one above the other.

    Shows where a network keeps its numbers: early convolutions hold most activations, the
    fully connected layers at the end most parameters.
    """
    names = [row.name for row in s.rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    x = np.arange(len(names))
    top.bar(x, [row.activations for row in s.rows], color="C0")
    top.set_ylabel("activations\nper image")
    bottom.bar(x, [row.params for row in s.rows], color="C3")
    bottom.set_ylabel("parameters")
    for ax in (top, bottom):
        ax.yaxis.set_major_formatter(FuncFormatter(_si))
        ax.grid(axis="y", alpha=0.3)
    bottom.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
    top.set_title(title or f"{s.title}: {_short(s.total_activations)} activations, {_short(s.total_params)} parameters")
    fig.tight_layout()
    return fig


def plot_inception_macs(designs: dict, title: str = "one inception module"):
    """Multiply-adds per branch of several designs of one module, as stacked horizontal bars.

    ``designs`` maps a label to ``{branch: multiply-adds}``, e.g.
    ``{"naive": {"1x1": ..., "3x3": ..., "5x5": ...}, "with 1x1 reductions": {...}}``.
    """
    fig, ax = plt.subplots(figsize=(9, 0.9 * len(designs) + 1.4))
    branches = list(dict.fromkeys(b for d in designs.values() for b in d))
    labels = list(designs)
    left = np.zeros(len(labels))
    for i, branch in enumerate(branches):
        widths = np.array([designs[label].get(branch, 0) for label in labels], dtype=float)
        ax.barh(labels, widths, left=left, color=f"C{i}", label=branch,       # a hatch per branch as well
                hatch=HATCHES[i % len(HATCHES)], edgecolor="white", linewidth=0.5)
        left += widths
    for y, total in enumerate(left):
        ax.text(total, y, f"  {_short(total)}", va="center")
    ax.set_xlim(0, left.max() * 1.15)
    ax.xaxis.set_major_formatter(FuncFormatter(_si))
    ax.set_xlabel("multiply-adds per image")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8, ncol=2)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_depth_history(history=ILSVRC_HISTORY):
    """The "revolution of depth": weight layers (left) and ILSVRC top-5 error (right) per network."""
    labels = [h[0] for h in history]
    x = np.arange(len(labels))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, column, colour, ylabel in ((left, 1, "C0", "weight layers"), (right, 2, "C3", "top-5 error (%)")):
        values = [h[column] for h in history]
        shown = [i for i, v in enumerate(values) if v is not None]
        bars = ax.bar(x[shown], [values[i] for i in shown], color=colour)
        ax.bar_label(bars, fmt="%g", fontsize=8)
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
        ax.margins(y=0.15)
    left.set_title("deeper ...")
    right.set_title("... and better")
    fig.tight_layout()
    return fig


def plot_compute_vs_depth(points: dict, paper: dict | None = None):
    """Multiply-adds against weight layers, one point per network: ``{name: (layers, macs)}``.

    Both axes are logarithmic (8 to 152 layers, 1G to 20G multiply-adds); each network has
    its own colour, named in the legend. ``paper`` adds the papers' own figures as open
    circles: ``{name: (layers, macs)}``.
    """
    fig, ax = plt.subplots(figsize=(9, 4))
    for i, (name, (layers, macs)) in enumerate(points.items()):
        ax.scatter(layers, macs, color=f"C{i}", marker=MARKERS[i % len(MARKERS)], s=55, zorder=3, label=name)
    if paper:
        xs, ys = zip(*paper.values())
        ax.scatter(xs, ys, facecolors="none", edgecolors="black", s=130, zorder=2, label="the paper's figure")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(_si))
        axis.set_minor_formatter(FuncFormatter(lambda x, pos: ""))
    ticks = []
    for n in sorted({p[0] for p in points.values()}):
        if not ticks or n / ticks[-1] > 1.15:  # leave out a tick that would touch its neighbour
            ticks.append(n)
    ax.set_xticks(ticks, [str(n) for n in ticks], fontsize=8)
    ax.set_yticks([t for t in (1e9, 2e9, 5e9, 1e10, 2e10)])
    ax.margins(x=0.08, y=0.15)
    ax.set(xlabel="weight layers on the longest path", ylabel="multiply-adds per image",
           title="depth is not cost")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    fig.tight_layout()
    return fig


def plot_gradient_norms(curves: dict, title: str = "gradient reaching each layer"):
    """||dL/dx|| at each layer's input on a log scale, one line per network: ``{label: norms}``.

    The x axis runs from the input (0) to the output (depth), so the backward pass flows right to left.
    """
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for k, (label, norms) in enumerate(curves.items()):
        ax.semilogy(np.arange(len(norms)), norms, markersize=4, label=label, **series_style(k))
    ax.set(xlabel="layer (0 = input)", ylabel="gradient norm", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_row_times(times: dict, macs: dict | None = None, label_share: float = 0.05):
    """Measured milliseconds per image of several networks, each split into its rows (stacked bars).

    ``times`` maps a network to ``{row: seconds}`` (from ``time_by_rows``); ``macs`` maps the same
    names to total multiply-adds, written next to each bar. Rows that take more than
    ``label_share`` of the longest bar are named inside their segment.
    """
    fig, ax = plt.subplots(figsize=(10, 0.9 * len(times) + 1.6))
    names = list(times)
    longest = max(sum(t.values()) for t in times.values()) * 1000
    for y, name in enumerate(names):
        left = 0.0
        for j, (row, sec) in enumerate(times[name].items()):
            ms = sec * 1000
            ax.barh(y, ms, left=left, color=plt.cm.tab20(j % 20), edgecolor="white", linewidth=0.5)
            if ms > label_share * longest:
                ax.text(left + ms / 2, y, row, ha="center", va="center", fontsize=7, rotation=90)
            left += ms
        note = f"  {left:.0f} ms" + (f", {_short(macs[name])} multiply-adds" if macs else "")
        ax.text(left, y, note, va="center", fontsize=9)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, longest * 1.45)
    ax.set(xlabel="milliseconds per image (batch 1); one colour per row of the network",
           title="measured forward time on this CPU")
    fig.tight_layout()
    return fig
