"""Figures for activation functions (used by 01_neural_nets_activations).

- `curve_and_slope`: f(x) and f'(x) of an activation module, the slope read from its backward pass;
- `plot_activations`: one panel per activation, the function and its derivative together;
- `plot_gradient_by_depth`: how large the gradient still is, layer by layer, in a deep stack;
- `dead_unit_fraction` and `plot_unit_activity`: ReLU units that never fire for a batch.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from cnnlib.plots import series_style


def curve_and_slope(module, x) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` for a module that maps one number to one number, e.g. ``ReLU()`` or ``Maxout(1, 1)``.

    The slope is not a formula: it is ``module.backward(ones)``, the gradient the backward pass
    hands to the layer below when the layer above sends 1 for every element. For an elementwise
    f that is exactly f'(x) at every point. (A module with weights, like Maxout, also adds
    into its ``weight.grad``.)

    Shape: x (M,) -> both results (M,). The module sees x as a column, (M, 1).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array of points, got shape {x.shape}")
    y = module(x.reshape(-1, 1))  # (M, 1)
    slope = module.backward(np.ones_like(y))  # (M, 1)
    if y.shape != (x.size, 1) or slope.shape != (x.size, 1):
        raise ValueError(
            f"module must map each number to one number; it turned {(x.size, 1)} into {y.shape}"
        )
    return y.reshape(-1), slope.reshape(-1)


def plot_activations(modules: Mapping[str, object], x=None, ncols: int = 3,
                     panel_size: tuple[float, float] = (3.3, 1.9)):
    """One panel per activation: f(x) as a solid line, f'(x) (from the backward pass) dashed.

    ``modules`` maps a title to a module, in the order to draw them. Returns the Figure.
    """
    if not modules:
        raise ValueError("modules must name at least one activation, e.g. {'ReLU': ReLU()}")
    x = np.linspace(-4, 4, 401) if x is None else np.asarray(x, dtype=np.float64)
    nrows = -(-len(modules) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             squeeze=False, sharex=True)
    for ax, (name, module) in zip(axes.flat, modules.items()):
        y, slope = curve_and_slope(module, x)
        ax.axhline(0, color="0.75", lw=0.8)
        ax.axvline(0, color="0.75", lw=0.8)
        ax.plot(x, y, color="C0", lw=2, label="f(x)")
        ax.plot(x, slope, color="C3", lw=1.5, ls="--", label="f'(x) from backward")
        ax.set_title(name)
    for ax in axes[-1]:
        ax.set_xlabel("x")                  # the bottom row only (shared x): the figure stays short
    for ax in list(axes.flat)[len(modules):]:
        ax.set_visible(False)
    fig.tight_layout()
    # One legend for every panel, above them: at 14 pt it would cover a short panel's curves.
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    return fig


def plot_gradient_by_depth(grads: Mapping[str, Sequence[float]], ax=None):
    """Mean |gradient| reaching each layer of a deep stack, one line per activation, on a log scale.

    ``grads[name][k]`` is the size of the gradient at the input of the layer k+1 steps below
    the output (k = 0 is the last layer). Returns the Figure.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.4))
    for name, values in grads.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or np.any(values <= 0):
            raise ValueError(f"grads[{name!r}] must be a 1-D sequence of positive sizes, got {values!r}")
        ax.semilogy(np.arange(1, values.size + 1), values, label=name, **series_style(len(ax.get_lines())))
    ax.set_xlabel("layers below the output")
    ax.set_ylabel("mean |gradient|")
    ax.set_title("The gradient on its way back to the input")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False)
    ax.figure.tight_layout()
    return ax.figure


def dead_unit_fraction(h) -> float:
    """The fraction of units (columns of h, shape (N, units)) that are 0 or below for every sample.

    After a ReLU such a unit outputs 0 for the whole batch, so its gradient is 0 too: it is "dead".
    """
    h = np.asarray(h)
    if h.ndim != 2 or h.shape[0] == 0:
        raise ValueError(f"h must be (N, units) with N >= 1, got shape {h.shape}")
    return float(np.mean(np.all(h <= 0, axis=0)))


def plot_unit_activity(panels: Mapping[str, np.ndarray]):
    """Which units fire (> 0) for which samples: one panel per entry of (N, units) activations.

    A unit is a column, a sample a row: white where the unit fired, black where it did not, and
    the whole column red when the unit never fired for any sample (dead). Titles carry the
    fraction of dead units. Returns the Figure.
    """
    if not panels:
        raise ValueError("panels must hold at least one (N, units) array")
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.4), squeeze=False)
    for ax, (name, h) in zip(axes.flat, panels.items()):
        dead = dead_unit_fraction(h)
        fired = np.asarray(h) > 0  # (N, units)
        rgb = np.repeat(fired[..., None].astype(np.float64), 3, axis=2)  # (N, units, 3): white or black
        rgb[:, ~fired.any(axis=0)] = DEAD_COLOUR
        ax.imshow(rgb, aspect="auto", interpolation="nearest")
        ax.set_title(f"{name}: {dead:.0%} of units never fire")
        ax.set_xlabel("unit")
        ax.set_ylabel("sample")
    fig.tight_layout()
    return fig


DEAD_COLOUR = (0.75, 0.1, 0.1)
