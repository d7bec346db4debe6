"""Checking gradients and comparing arrays (used by the tests and the notebooks' self-checks).

Introduced in 05_backpropagation: a backward pass is only trusted once it agrees with a
numerical gradient computed by centred differences,

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2h),

whose error shrinks like h**2.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float | np.ndarray], x: np.ndarray,
                       grad_output: np.ndarray | None = None, h: float = 1e-6) -> np.ndarray:
    """Centred-difference gradient of ``sum(f() * grad_output)`` with respect to ``x``.

    ``f`` takes no argument and reads ``x``, which is changed in place one entry at a time
    (and restored), so ``f`` may close over a parameter array. With ``grad_output=None``,
    ``f`` must return a scalar.
    """
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a floating-point array, got dtype {x.dtype}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = _weighted(f(), grad_output)
        flat[i] = old - h
        minus = _weighted(f(), grad_output)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def _weighted(value, grad_output) -> float:
    value = np.asarray(value, dtype=np.float64)
    if grad_output is None:
        if value.size != 1:
            raise ValueError(f"f returned shape {value.shape}; pass grad_output to check a non-scalar function")
        return float(value)
    return float(np.sum(value * grad_output))


def rel_error(a, b, floor: float = 1e-12) -> float:
    """max |a - b| / max(|a| + |b|, floor): 0 for equal arrays, about 1e-16 for float64 round-off."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))


def assert_close(actual, expected, rtol: float = 1e-7, atol: float = 1e-10, name: str = "value") -> None:
    """Raise an AssertionError a learner can act on when ``actual`` and ``expected`` differ.

    The message says which entry differs most, by how much, and what the shapes were.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(
            f"{name}: shape {actual.shape} but expected {expected.shape}; check the layout "
            f"(NCHW for images, (out_features, in_features) for Linear weights)"
        )
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    if not np.all(np.isfinite(a) == np.isfinite(e)):
        raise AssertionError(f"{name}: has non-finite values where the expected one does not (or vice versa)")
    fin = np.isfinite(e)
    diff = np.abs(np.where(fin, a, 0.0) - np.where(fin, e, 0.0))  # no inf - inf (a NumPy warning)
    allowed = atol + rtol * np.abs(np.where(fin, e, 0.0))
    if np.all(diff <= allowed) and np.array_equal(a[~fin], e[~fin]):
        return
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff - allowed)), diff.shape))
    raise AssertionError(
        f"{name}: {int(np.sum(diff > allowed))} of {diff.size} entries differ; worst at index {idx}: "
        f"got {a[idx]:.6g}, expected {e[idx]:.6g} (|diff| {diff[idx]:.3g} > allowed {allowed[idx]:.3g}); "
        f"relative error {rel_error(a, e):.3g}"
    )


def check_gradient(f: Callable[[], np.ndarray], x: np.ndarray, analytic: np.ndarray,
                   grad_output: np.ndarray | None = None, h: float = 1e-6, tol: float = 1e-6,
                   name: str = "gradient") -> float:
    """Compare an analytic gradient with centred differences; return the relative error or raise."""
    numeric = numerical_gradient(f, x, grad_output, h)
    err = rel_error(analytic, numeric)
    if not err <= tol:
        assert_close(analytic, numeric, rtol=tol, atol=tol, name=f"{name} (analytic vs numerical)")
    return err
