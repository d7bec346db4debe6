"""What the optimizer explorer draws: SGD, momentum and Adam paths across a 2-D loss surface.

Taught in 06_optimizers. The paths themselves come from `cnnlib.surfaces.optimizer_path`
(the optimizers of `cnnlib.numpy_nn.optim`, identical to torch.optim, stepping on a 2-D surface);
this module only chooses the three runs the explorer compares and summarises them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnlib import surfaces
from cnnlib.checks import check_float, check_int


@dataclass(frozen=True)
class OptimizerPaths:
    """Three runs from the same start with the same learning rate.

    ``paths`` maps a label to a (steps + 1, 2) array of the points visited (the start first; rows
    after a divergence are nan); ``final_losses`` holds the loss at the last point (nan: diverged).
    """

    surface: surfaces.Surface
    paths: dict[str, np.ndarray]
    final_losses: dict[str, float]


def optimizer_paths(lr: float = 0.1, momentum: float = 0.9, betas=(0.9, 0.999), steps: int = 50,
                    surface: str | surfaces.Surface = "ravine") -> OptimizerPaths:
    """Plain SGD, SGD with ``momentum`` and Adam with ``betas``, all with learning rate ``lr``.

    >>> res = optimizer_paths(steps=3)
    >>> list(res.paths), res.paths["SGD"].shape
    (['SGD', 'momentum 0.90', 'Adam'], (4, 2))
    """
    lr = check_float(lr, "lr", minimum=0.0, strict_minimum=True)
    momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0, strict_maximum=True)
    b1 = check_float(betas[0], "betas[0]", minimum=0.0, maximum=1.0, strict_maximum=True)
    b2 = check_float(betas[1], "betas[1]", minimum=0.0, maximum=1.0, strict_maximum=True)
    steps = check_int(steps, "steps", minimum=1)
    if isinstance(surface, str):
        if surface not in surfaces.SURFACES:
            raise ValueError(f"surface must be one of {', '.join(surfaces.SURFACES)}, got {surface!r}")
        surface = surfaces.SURFACES[surface]
    runs = {
        "SGD": surfaces.optimizer_path("sgd", None, steps, surface=surface, lr=lr),
        f"momentum {momentum:.2f}": surfaces.optimizer_path("momentum", None, steps, surface=surface, lr=lr,
                                                          momentum=momentum),
        "Adam": surfaces.optimizer_path("adam", None, steps, surface=surface, lr=lr, betas=(b1, b2)),
    }
    finals = {name: float(surface(*path[-1])) for name, path in runs.items()}
    return OptimizerPaths(surface, runs, finals)


def describe_final_losses(final_losses: dict[str, float]) -> str:
    """``"SGD 0.293, momentum 0.90 0.00483, Adam diverged"`` (3 significant digits)."""
    return ", ".join(f"{name} {'diverged' if math.isnan(loss) else format(loss, '.3g')}"
                     for name, loss in final_losses.items())
