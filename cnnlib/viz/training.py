"""Learning curves per step: several implementations of one training run on one pair of axes."""
from __future__ import annotations

import numpy as np

from cnnlib.plots import series_style

# Widths that keep curves lying on top of each other visible: a wide solid line under narrower ones.
WIDTHS = (5.0, 2.8, 1.4)


def plot_losses(curves: dict, title: str = "", xlabel: str = "step"):
    """``{"label": losses}``: the loss of every step, one curve per label, each with its own line style.

    When the curves are identical, each stays visible: the first is drawn widest, the next ones
    narrower on top of it, with different dash patterns. Returns the figure.
    """
    import matplotlib.pyplot as plt

    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves must be a non-empty dict {label: losses}")
    lengths = {label: len(np.ravel(v)) for label, v in curves.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"every curve needs the same number of steps, got {lengths}")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for k, (label, losses) in enumerate(curves.items()):
        style = series_style(k)
        style.pop("marker", None)
        style["linewidth"] = WIDTHS[k % len(WIDTHS)]
        y = np.ravel(np.asarray(losses, dtype=np.float64))
        ax.plot(np.arange(1, len(y) + 1), y, label=label, **style)
    ax.set(xlabel=xlabel, ylabel="training loss", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


__all__ = ["plot_losses", "WIDTHS"]
