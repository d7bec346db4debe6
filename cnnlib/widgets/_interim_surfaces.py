"""INTERIM stand-in for `cnnlib.surfaces` (being written by another engineer); deleted when it lands.

Only the optimizer explorer uses it, and only while ``import cnnlib.surfaces`` fails.
"""
from __future__ import annotations

import numpy as np


def ravine(x, y):
    """A long, narrow valley: f(x, y) = x² / 20 + y² (steep across, shallow along)."""
    return x ** 2 / 20 + y ** 2


def _grad(p):
    return np.array([p[0] / 10, 2 * p[1]])


def optimizer_path(name, start, steps, surface=ravine, lr=0.1, momentum=0.9, betas=(0.9, 0.999), eps=1e-8):
    p = np.array(start, dtype=np.float64)
    v = np.zeros(2)
    m = np.zeros(2)
    s = np.zeros(2)
    path = [p.copy()]
    for t in range(1, steps + 1):
        g = _grad(p)
        if name == "sgd":
            p = p - lr * g
        elif name == "momentum":
            v = momentum * v + g
            p = p - lr * v
        else:
            m = betas[0] * m + (1 - betas[0]) * g
            s = betas[1] * s + (1 - betas[1]) * g * g
            p = p - lr * (m / (1 - betas[0] ** t)) / (np.sqrt(s / (1 - betas[1] ** t)) + eps)
        path.append(p.copy())
    return np.array(path)
