"""Figures for 05_backpropagation and 06_optimizers: a computational graph, descent paths, gradient noise, Adam's moments.

The numbers are computed in the notebook with `cnnlib.numpy_nn` (layers, optimizers) and
`cnnlib.surfaces` (2-D loss surfaces); these functions draw them. One of them also measures:
`minibatch_gradient_noise`, the mean squared distance between a mini-batch gradient and the
full-batch gradient, which for batches of B out of N examples drawn without replacement is

    E ||g_B - g||^2 = (sigma^2 / B) * (N - B) / (N - 1),   sigma^2 = mean_i ||g_i - g||^2.

Each plotting function returns the matplotlib ``Figure``; the notebook calls ``plt.show()``.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch

from cnnlib.checks import check_int
from cnnlib.numpy_nn.module import Parameter
from cnnlib.plots import LINESTYLES, MARKERS, OKABE_ITO, series_style

COLORS = OKABE_ITO


# -- a computational graph ---------------------------------------------------------------------
def plot_chain(nodes: Sequence[str], backward: Sequence[str], below: Mapping[int, str] | None = None,
               title: str | None = None):
    """A chain of operations drawn left to right, with the backward pass drawn right to left.

    ``nodes`` are the boxes (text, mathtext allowed); ``backward[i]`` labels the red arrow from
    box i+1 back to box i (the gradient that flows there); ``below`` maps a box index to a line
    written under it (e.g. the gradient of a weight used in that box).
    """
    n = len(nodes)
    if n < 2 or len(backward) != n - 1:
        raise ValueError(f"need at least 2 nodes and one backward label per arrow ({max(n - 1, 1)}), "
                         f"got {n} nodes and {len(backward)} labels")
    below = dict(below or {})
    if any(not 0 <= k < n for k in below):
        raise ValueError(f"below's keys must be node indices in [0, {n - 1}], got {sorted(below)}")
    fig, ax = plt.subplots(figsize=(2.2 * n, 2.9))
    xs = np.arange(n) * 2.2
    w, h = 1.5, 0.55
    for i, (x, label) in enumerate(zip(xs, nodes)):
        ax.add_patch(FancyBboxPatch((x - w / 2, -h / 2), w, h, boxstyle="round,pad=0.05",
                                    facecolor="#e8f0fa", edgecolor="#1f77b4"))
        ax.text(x, 0, label, ha="center", va="center")
        if i in below:
            ax.text(x, -1.25, below[i], ha="center", va="center", color="#d62728")
    for i in range(n - 1):
        left, right = xs[i] + w / 2 + 0.07, xs[i + 1] - w / 2 - 0.07
        ax.annotate("", xy=(right, 0.12), xytext=(left, 0.12),
                    arrowprops=dict(arrowstyle="->", color="black", lw=1.4))
        ax.annotate("", xy=(left, -0.12), xytext=(right, -0.12),
                    arrowprops=dict(arrowstyle="->", color="#d62728", lw=1.4))
        ax.text((xs[i] + xs[i + 1]) / 2, -0.72, backward[i], ha="center", va="center",
                color="#d62728")
    ax.text(xs[0] - w / 2, 0.75, "forward →", ha="left")
    ax.text(xs[-1] + w / 2, 0.75, "← backward (chain rule)", ha="right", color="#d62728")
    ax.set_xlim(xs[0] - w / 2 - 0.3, xs[-1] + w / 2 + 0.3)
    ax.set_ylim(-1.6, 1.0)
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# -- curves --------------------------------------------------------------------------------------
def plot_curves(x, curves: Mapping[str, np.ndarray], xlabel: str, ylabel: str, title: str | None = None,
                logx: bool = False, logy: bool = False, styles: Mapping[str, str] | None = None, ax=None):
    """Several curves y(x) on one pair of axes, labelled; ``styles`` maps a label to a line style.

    Returns the figure holding ``ax`` (a new (8, 3.6) figure when ``ax`` is None).
    """
    x = np.asarray(x, dtype=np.float64)
    if not curves:
        raise ValueError("curves must hold at least one {label: values}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.6))
    else:
        fig = ax.figure
    for k, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=np.float64)
        if values.shape != x.shape:
            raise ValueError(f"curve {label!r} has shape {values.shape}; it must match x, shape {x.shape}")
        ax.plot(x, values, (styles or {}).get(label, LINESTYLES[k % len(LINESTYLES)]), color=COLORS[k % len(COLORS)],
                lw=2, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, xscale="log" if logx else "linear", yscale="log" if logy else "linear")
    return _finish(fig, ax, title)


def descent_path(grad: Callable[[np.ndarray], np.ndarray], start, make_optimizer: Callable, steps: int) -> np.ndarray:
    """The points visited by an optimizer of `cnnlib.numpy_nn.optim` on a function with gradient ``grad``.

    One `Parameter` starts at ``start``; each step sets its ``.grad`` to ``grad(w)`` and calls
    ``step()`` of ``make_optimizer([w])`` (e.g. ``lambda p: SGD(p, lr=0.1)``).

    Shape: start (D,) or a scalar -> returns (steps + 1, D) or (steps + 1,), the start first.
    """
    steps = check_int(steps, "steps", minimum=0)
    w = Parameter(np.array(start, dtype=np.float64))
    optimizer = make_optimizer([w])
    path = [w.data.copy()]
    for _ in range(steps):
        w.grad = np.asarray(grad(w.data), dtype=np.float64).reshape(w.data.shape)
        optimizer.step()
        path.append(w.data.copy())
    return np.array(path)


def torch_descent_path(grad: Callable[[np.ndarray], np.ndarray], start, make_optimizer: Callable,
                       steps: int) -> np.ndarray:
    """`descent_path` with a ``torch.optim`` optimizer: ``make_optimizer([tensor])``, float64 on the CPU.

    Used to put PyTorch's update rules beside `cnnlib.numpy_nn.optim`'s on the same gradients.
    """
    import torch

    steps = check_int(steps, "steps", minimum=0)
    w = torch.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    optimizer = make_optimizer([w])
    path = [w.detach().numpy().copy()]
    for _ in range(steps):
        g = np.asarray(grad(w.detach().numpy().copy()), dtype=np.float64).reshape(tuple(w.shape))
        w.grad = torch.from_numpy(g)
        optimizer.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


def plot_descent_1d(x, fx, paths: Mapping[str, np.ndarray], f: Callable, title: str | None = None):
    """A 1-D loss f(w) (the curve ``fx`` over the grid ``x``) and gradient-descent paths on it.

    ``paths`` maps a label to the visited points w_0, w_1, ... (the start first); each point is
    drawn on the curve at (w_t, f(w_t)) and the end is marked with a star.
    """
    x, fx = np.asarray(x, dtype=np.float64), np.asarray(fx, dtype=np.float64)
    if x.shape != fx.shape or x.ndim != 1:
        raise ValueError(f"x and fx must be 1-D of the same length, got {x.shape} and {fx.shape}")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(x, fx, color="0.3", lw=2, label="loss f(w)")
    for k, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=np.float64).ravel()
        color = COLORS[(k + 1) % len(COLORS)]
        ax.plot(path, f(path), color=color, marker=MARKERS[k % len(MARKERS)], linestyle=LINESTYLES[k % len(LINESTYLES)],
                markersize=4, lw=1, alpha=0.8, label=label)
        ax.plot(path[-1], f(path[-1]), "*", color=color, markersize=16, markeredgecolor="black")
    ax.set(xlabel="w", ylabel="f(w)")
    return _finish(fig, ax, title)


# -- mini-batch gradient noise -------------------------------------------------------------------
def minibatch_gradient_noise(grad_fn: Callable[[np.ndarray], np.ndarray], n: int, batch_sizes: Sequence[int],
                             trials: int, rng: np.random.Generator) -> np.ndarray:
    """Mean of ||g_B - g||^2 over ``trials`` random mini-batches, for each batch size B.

    ``grad_fn(idx)`` returns the gradient (any shape) of the mean loss over the examples ``idx``
    at fixed parameters; g = grad_fn(all n examples). Batches are drawn without replacement.

    Shape: returns (len(batch_sizes),).
    """
    n = check_int(n, "n", minimum=1)
    trials = check_int(trials, "trials", minimum=1)
    sizes = [check_int(b, "batch_sizes[]", minimum=1) for b in batch_sizes]
    if any(b > n for b in sizes):
        raise ValueError(f"batch_sizes must be at most n = {n}, got {max(sizes)}")
    full = np.asarray(grad_fn(np.arange(n)), dtype=np.float64)
    noise = np.empty(len(sizes))
    for k, b in enumerate(sizes):
        sq = [np.sum((np.asarray(grad_fn(rng.choice(n, size=b, replace=False))) - full) ** 2)
              for _ in range(trials)]
        noise[k] = np.mean(sq)
    return noise


def plot_gradient_noise(batch_sizes, measured, expected):
    """Measured mini-batch gradient noise (points) against the formula (line), on log-log axes."""
    b = np.asarray(batch_sizes, dtype=np.float64)
    measured, expected = np.asarray(measured, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if not b.shape == measured.shape == expected.shape:
        raise ValueError(f"batch_sizes, measured and expected must have one entry each per batch size, "
                         f"got shapes {b.shape}, {measured.shape}, {expected.shape}")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(b, expected, "-", color="0.4", lw=2, label=r"$\frac{\sigma^2}{B}\cdot\frac{N-B}{N-1}$")
    ax.plot(b, measured, "o", color=COLORS[3], markersize=8, label="measured")
    ax.set(xscale="log", yscale="log", xlabel="batch size B",
           ylabel=r"mean $\|g_B - g\|^2$", title="noise of the mini-batch gradient")
    ax.grid(alpha=0.3, which="both")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


# -- paths across a 2-D surface ------------------------------------------------------------------
def plot_paths(surface: Callable, paths: Mapping[str, np.ndarray], title: str | None = None,
               xlim=None, ylim=None, levels: int = 14):
    """Left: contour lines of ``surface(x, y)`` with each optimizer's path; right: the loss per step.

    ``surface`` is a `cnnlib.surfaces.Surface` (its ``xlim``, ``ylim`` and ``minimum`` are used
    unless ``xlim``/``ylim`` are given) or any f(x, y) with ``xlim`` and ``ylim`` passed.
    ``paths`` maps a label to (steps + 1, 2) points, the start first. Points that leave the
    window are clipped to its edge so a diverging path stays visible.
    """
    if not paths:
        raise ValueError("paths must hold at least one {label: (steps + 1, 2) array}")
    xlim = xlim if xlim is not None else getattr(surface, "xlim", None)
    ylim = ylim if ylim is not None else getattr(surface, "ylim", None)
    if xlim is None or ylim is None:
        raise ValueError("pass xlim and ylim, the window to draw (a cnnlib.surfaces.Surface carries its own)")
    fig, (ax_map, ax_loss) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=[1.7, 1])
    gx, gy = np.meshgrid(np.linspace(*xlim, 240), np.linspace(*ylim, 160))
    z = surface(gx, gy)
    ax_map.contour(gx, gy, z, levels=np.geomspace(max(float(z.min()), 1e-3), float(z.max()), levels),
                   colors="0.65", linewidths=0.8)
    for k, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=np.float64)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"path {label!r} must have shape (steps + 1, 2), got {path.shape}")
        style = series_style(k)                 # colour, line style and marker: apart without colour too
        shown = np.clip(path, [xlim[0], ylim[0]], [xlim[1], ylim[1]])
        ax_map.plot(shown[:, 0], shown[:, 1], markersize=3.5, lw=1.4, label=label, **style)
        loss = surface(path[:, 0], path[:, 1])
        ax_loss.plot(np.arange(len(loss)), np.maximum(loss, 1e-12), color=style["color"],
                     linestyle=style["linestyle"], lw=2, label=label)
    start = np.asarray(next(iter(paths.values())))[0]
    ax_map.plot(*start, "ks", markersize=7, label="start")
    minimum = getattr(surface, "minimum", None)
    if minimum is not None:
        ax_map.plot(*minimum, "k*", markersize=12, label="minimum")
    ax_map.set(xlim=xlim, ylim=ylim, xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
    ax_map.set_aspect("equal")                  # one unit is as long on both axes: the path's true geometry
    ax_map.legend(loc="lower right", ncol=2)
    ax_loss.set(yscale="log", xlabel="step", ylabel="loss", title="loss per step")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(frameon=False)
    if title:
        ax_map.set_title(title)
    fig.tight_layout()
    return fig


def _finish(fig, ax, title):
    """The common ending of this module's line plots: optional title, light grid, legend, tight layout."""
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
