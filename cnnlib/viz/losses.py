"""Figures for 04_losses: loss curves beside their gradients, the hinge against the margin, fits to data.

The curves themselves are computed by the notebook with `cnnlib.numpy_nn.loss` (values and
``backward()``); these functions only draw them. Each returns the matplotlib ``Figure`` (or
draws on the ``ax`` it is given); the notebook calls ``plt.show()``.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np

from cnnlib.plots import LINESTYLES, OKABE_ITO

LOSS_COLORS = OKABE_ITO
FIT_STYLES = LINESTYLES  # fitted lines may coincide: a dash keeps each one visible


def _curve(x: np.ndarray, values, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != x.shape:
        raise ValueError(f"{name} has shape {values.shape}; it must match x, shape {x.shape}")
    return values


def plot_loss_and_gradient(x, curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
                           xlabel: str = "residual x = prediction - target", suptitle: str | None = None):
    """Two panels: each loss L(x) on the left, its derivative dL/dx on the right, same colours and
    line styles (each loss its own, so the curves stay apart without colour).

    ``curves`` maps a label to ``(values, gradients)``, both shaped like ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or not curves:
        raise ValueError("x must be a 1-D grid and curves must hold at least one {label: (values, gradients)}")
    fig, (ax_l, ax_g) = plt.subplots(1, 2, figsize=(10, 3.8))
    for k, (label, (values, grads)) in enumerate(curves.items()):
        style = {"color": LOSS_COLORS[k % len(LOSS_COLORS)], "linestyle": LINESTYLES[k % len(LINESTYLES)]}
        ax_l.plot(x, _curve(x, values, f"values of {label!r}"), lw=2.2, label=label, **style)
        ax_g.plot(x, _curve(x, grads, f"gradients of {label!r}"), lw=2.2, label=label, **style)
    for ax, ylabel, title in ((ax_l, "L(x)", "loss"), (ax_g, "dL/dx", "gradient")):
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(frameon=False)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_hinge(margin, hinge, zero_one=None, examples=None):
    """The binary hinge max(0, 1 - t*y) against the margin t*y, with the three regions shaded.

    t*y < 0: wrong side of the decision boundary; 0 <= t*y < 1: right but inside the margin
    (still a loss); t*y >= 1: right with room to spare (loss 0). ``zero_one`` (optional) is the
    0-1 error drawn for comparison; ``examples`` (optional) is a pair (margins, losses) of
    individual examples, drawn as points on the curve.
    """
    margin = np.asarray(margin, dtype=np.float64)
    if margin.ndim != 1:
        raise ValueError(f"margin must be a 1-D grid of t*y values, got shape {margin.shape}")
    hinge = _curve(margin, hinge, "hinge")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    lo, hi = float(margin.min()), float(margin.max())
    ax.axvspan(lo, min(0.0, hi), color="#d62728", alpha=0.08, label="misclassified (t·y < 0)")
    ax.axvspan(max(0.0, lo), min(1.0, hi), color="#ff7f0e", alpha=0.12, label="correct, inside the margin")
    ax.axvspan(max(1.0, lo), hi, color="#2ca02c", alpha=0.08, label="correct with margin: loss 0")
    ax.plot(margin, hinge, color=OKABE_ITO[0], lw=2.5, label="hinge max(0, 1 − t·y)")
    if zero_one is not None:
        ax.plot(margin, _curve(margin, zero_one, "zero_one"), color="black", lw=1.5, ls="--",
                label="0-1 error")
    if examples is not None:
        m_ex = np.asarray(examples[0], dtype=np.float64)
        ax.scatter(m_ex, _curve(m_ex, examples[1], "the examples' losses"), color="black", s=40, zorder=3,
                   label="examples")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("margin t·y  (label times score)")
    ax.set_ylabel("loss")
    ax.set_title("binary hinge loss")
    ax.legend(frameon=False, loc="upper right")
    fig.tight_layout()
    return fig


def plot_fits(x, y, fits: Mapping[str, tuple[float, float]], outliers=(), ax=None,
              title: str = "", xlabel: str = "x", ylabel: str = "y"):
    """Data points and one fitted line y = slope*x + intercept per ``{label: (slope, intercept)}``.

    A constant fit is a line of slope 0. Points whose indices are in ``outliers`` are drawn as
    red crosses. Each fit is drawn thinner than the one before, so two fits that coincide both
    stay visible. Returns the figure of ``ax`` (a new one when ``ax`` is None).
    """
    x = np.asarray(x, dtype=np.float64)
    y = _curve(x, y, "y")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.8))
    else:
        fig = ax.figure
    mask = np.zeros(x.shape, bool)
    mask[list(outliers)] = True
    ax.scatter(x[~mask], y[~mask], color="0.3", s=22, label="data", zorder=3)
    if mask.any():
        ax.scatter(x[mask], y[mask], color=OKABE_ITO[1], marker="x", s=60, lw=2, label="outlier", zorder=3)
    grid = np.linspace(x.min(), x.max(), 2)
    for k, (label, (slope, intercept)) in enumerate(fits.items()):
        ax.plot(grid, slope * grid + intercept, color=LOSS_COLORS[k % len(LOSS_COLORS)],
                ls=FIT_STYLES[k % len(FIT_STYLES)], lw=max(3.5 - 0.75 * k, 1.0), label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False)
    return fig
