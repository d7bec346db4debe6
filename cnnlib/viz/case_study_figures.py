"""Figures for 08_case_studies_alexnet_vgg and 09_case_studies_googlenet_resnet.

Each function draws with matplotlib and returns the ``Figure``; the notebook calls ``plt.show()``.
The numbers come from ``cnnlib.arch.summary`` and ``cnnlib.viz.case_studies``; nothing here
computes a network.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from cnnlib.plots import HATCHES, LINESTYLES, MARKERS, series_style

# ILSVRC top-5 error (%) on the test set as the lecture quotes it, with the weight layers of each
# network (None where no model is built here) and how each number was obtained. No two use the same
# protocol, and none is one network on one crop: "5 nets" is an ensemble of five trained networks whose
# scores are averaged; "10 crops" averages each network over ten crops of the test image; "outside
# data" means training images beyond ILSVRC's. Sources: AlexNet paper Section 6 and Table 2; VGG paper
# Table 7 (Clarifai: 11.7% without outside data, 11.2% with); GoogLeNet paper Tables 2-3; ResNet paper
# Table 5 and Section 4.1. LeNet-5 predates the challenge; VGG came second in 2014, behind GoogLeNet.
ILSVRC_HISTORY = (
    ("LeNet-5\n(1998)", 5, None, ""),
    ("AlexNet\n(2012)", 8, 16.4, "5 nets,\n10 crops"),
    ("ILSVRC'13\nwinner", None, 11.2, "nets,\noutside\ndata"),
    ("VGG (2014,\n2nd place)", 19, 7.3, "7 nets"),
    ("GoogLeNet\n(2014)", 22, 6.7, "7 nets,\n144 crops"),
    ("ResNet\n(2015)", 152, 3.6, "6 nets,\nmulti-scale"),
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
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 3.8), sharex=True)   # short: 14 pt text on a slide
    x = np.arange(len(names))
    top.bar(x, [row.activations for row in s.rows], color="C0")
    top.set_ylabel("activations\nper image")
    bottom.bar(x, [row.params for row in s.rows], color="C3")
    bottom.set_ylabel("parameters")
    for ax in (top, bottom):
        ax.yaxis.set_major_formatter(FuncFormatter(_si))
        ax.grid(axis="y", alpha=0.3)
    bottom.set_xticks(x, names, rotation=60, ha="right")
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
    ax.legend(loc="lower right", ncol=2)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_depth_history(history=ILSVRC_HISTORY):
    """The "revolution of depth": weight layers (left) and ILSVRC top-5 error (right) per network.

    ``history`` holds ``(label, layers, top-5 error, how it was measured)``. The bars lie on their side,
    one row per network (the first on top), so the names have room at 14 pt; the right panel writes the
    protocol after each bar's value, and hatches the bar that used outside training data.
    """
    labels = [h[0] for h in history]
    y = np.arange(len(labels))[::-1]                        # the first network on top
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, column, colour, xlabel in ((left, 1, "C0", "weight layers"), (right, 2, "C3", "top-5 error (%)")):
        values = [h[column] for h in history]
        shown = [i for i, v in enumerate(values) if v is not None]
        bars = ax.barh(y[shown], [values[i] for i in shown], color=colour, edgecolor="black", linewidth=0.5)
        notes = [" ".join(history[i][3].split()) for i in shown]
        ax.bar_label(bars, labels=[f"{values[i]:g}" + (f"  ({note})" if ax is right else "")
                                   for i, note in zip(shown, notes)], padding=3)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlim(0, max(values[i] for i in shown) * (2.7 if ax is right else 1.2))
        if ax is right:
            for bar, i in zip(bars, shown):
                if "outside" in history[i][3]:
                    bar.set_hatch("//")
    left.set_yticks(y, labels)
    left.set_title("deeper ...")
    right.set_title("... and better (ensembles, several crops)")
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
    ax.set_xticks(ticks, [str(n) for n in ticks])
    ax.set_yticks([t for t in (1e9, 2e9, 5e9, 1e10, 2e10)])
    ax.margins(x=0.08, y=0.15)
    ax.set(xlabel="weight layers on the longest path", ylabel="multiply-adds per image",
           title="depth is not cost")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
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


def plot_train_curves(curves: dict, smooth: int = 10, title: str = "training loss, one epoch"):
    """Training loss per mini-batch of several networks over seeds: ``{label: [losses of seed 0, ...]}``.

    Each seed is a thin line (a running mean over ``smooth`` mini-batches), each network's mean over
    the seeds a thick one, in its own colour and line style, named at its right end as well as in the legend.
    """
    fig, ax = plt.subplots(figsize=(9, 4))
    kernel = np.ones(smooth) / smooth
    ends = {}
    for i, (label, runs) in enumerate(curves.items()):
        style = dict(color=f"C{i}", linestyle=LINESTYLES[i % len(LINESTYLES)])
        smoothed = [np.convolve(np.asarray(r, dtype=float), kernel, mode="valid") for r in runs]
        steps = np.arange(smooth, len(runs[0]) + 1)
        for r in smoothed:
            ax.plot(steps, r, linewidth=0.8, alpha=0.5, **style)
        mean = np.mean(smoothed, axis=0)
        ax.plot(steps, mean, linewidth=2.5, label=f"{label} (mean of {len(runs)} seeds)", **style)
        ends[label] = (i, steps[-1], mean[-1])
    low, high = ax.get_ylim()
    gap, previous = 0.05 * (high - low), -np.inf
    for label, (i, x_end, y_end) in sorted(ends.items(), key=lambda item: item[1][2]):  # bottom up
        y_text = max(y_end, previous + gap)                   # names at the lines' ends, never on top of each other
        ax.annotate(label, (x_end, y_end), xytext=(x_end * 1.02, y_text), va="center", color=f"C{i}")
        previous = y_text
    ax.set_xlim(0, len(runs[0]) * 1.3)
    ax.set(xlabel=f"mini-batch (running mean over {smooth})", ylabel="cross-entropy loss", title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_row_times(times: dict, macs: dict | None = None, label_share: float = 0.05, groups: dict | None = None,
                   legend_title: str | None = None):
    """Measured milliseconds per image of several networks, each split into its rows (stacked bars).

    ``times`` maps a network to ``{row: seconds}`` (from ``time_by_rows``); ``macs`` maps the same
    names to total multiply-adds, written next to each bar. Rows that take more than
    ``label_share`` of the longest bar are named inside their segment.

    ``groups`` maps each network to ``{row: group label}`` (for example the output resolution of
    each row, `cnnlib.arch.resolution`); rows of one group share a colour and a hatch, shown once
    in the legend (in the order the groups first appear in ``groups``), and no two groups share
    either; ``legend_title`` says what the groups are. Without ``groups`` every row is its own group.
    """
    fig, ax = plt.subplots(figsize=(10, 0.9 * len(times) + 2.2))
    names = list(times)
    groups = groups or {name: {row: row for row in times[name]} for name in names}
    labels = list(dict.fromkeys(label for rows in groups.values() for label in rows.values()))
    if len(labels) > min(len(_ROW_COLOURS), len(_ROW_HATCHES)):
        raise ValueError(f"groups: at most {min(len(_ROW_COLOURS), len(_ROW_HATCHES))} groups can be told apart, "
                         f"got {len(labels)}; group the rows (for example by resolution)")
    style = {label: {"facecolor": _ROW_COLOURS[k], "hatch": _ROW_HATCHES[k]} for k, label in enumerate(labels)}
    longest = max(sum(t.values()) for t in times.values()) * 1000
    for y, name in enumerate(names):
        left = 0.0
        for row, sec in times[name].items():
            ms, label = sec * 1000, groups[name][row]
            ax.barh(y, ms, left=left, edgecolor="white", linewidth=0.5, **style[label])
            if ms > label_share * longest:
                ax.text(left + ms / 2, y, row, ha="center", va="center", rotation=90,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.8})
            left += ms
        note = f"  {left:.0f} ms" + (f"\n  {_short(macs[name])} multiply-adds" if macs else "")
        ax.text(left, y, note, va="center")                 # two short lines: clear of the legend at 14 pt
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, longest * 1.6)
    ax.set(xlabel="milliseconds per image (batch 1)", title="measured forward time on this CPU")
    ax.legend(handles=[Patch(edgecolor="white", label=label, **style[label]) for label in labels],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), title=legend_title)
    fig.tight_layout()
    return fig


# Colours for plot_row_times's groups: Okabe & Ito's (2008) colour-blind-safe eight, and a hatch per group as well.
_ROW_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_ROW_HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")
