"""What the optimizer explorer draws: SGD, momentum and Adam paths across a 2-D ravine.

Taught in 05_backprop_optimizers. The paths themselves come from `cnnlib.surfaces.optimizer_path`
(the optimizers of `cnnlib.numpy_nn.optim` stepping on a 2-D loss surface); this module only
chooses the three runs the explorer compares and the window they are drawn in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from cnnlib.checks import check_float, check_int

try:
    from cnnlib import surfaces
except ImportError:  # INTERIM until cnnlib/surfaces.py lands
    from cnnlib.widgets import _interim_surfaces as surfaces

START = (-4.0, 1.5)
XLIM, YLIM = (-5.0, 5.0), (-2.5, 2.5)


@dataclass(frozen=True)
class OptimizerPaths:
    surface: Callable
    paths: dict[str, np.ndarray]   # name -> (steps + 1, 2) points, the start first
    final_losses: dict[str, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]


def optimizer_paths(lr: float = 0.1, momentum: float = 0.9, betas=(0.9, 0.999), steps: int = 50,
                    start=START) -> OptimizerPaths:
    """Plain SGD, SGD with momentum and Adam from the same start on the ravine, with the same lr."""
    lr = check_float(lr, "lr", minimum=0.0, strict_minimum=True)
    momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0, strict_maximum=True)
    b1 = check_float(betas[0], "betas[0]", minimum=0.0, maximum=1.0, strict_maximum=True)
    b2 = check_float(betas[1], "betas[1]", minimum=0.0, maximum=1.0, strict_maximum=True)
    steps = check_int(steps, "steps", minimum=1)
    surface = surfaces.ravine
    runs = {
        "SGD": surfaces.optimizer_path("sgd", start, steps, surface=surface, lr=lr),
        f"momentum {momentum:.2f}": surfaces.optimizer_path("momentum", start, steps, surface=surface, lr=lr,
                                                          momentum=momentum),
        "Adam": surfaces.optimizer_path("adam", start, steps, surface=surface, lr=lr, betas=(b1, b2)),
    }
    finals = {name: float(surface(*path[-1])) for name, path in runs.items()}
    return OptimizerPaths(surface, runs, finals, XLIM, YLIM)
