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


def gradient_error(analytic, numeric, floor_fraction: float = 1e-3) -> float:
    """The relative error that `check_gradient` bounds: max_i |a_i - n_i| / max(|a_i| + |n_i|, floor).

    ``floor`` is ``floor_fraction`` times the largest |entry| of either array. Centred differences
    carry an absolute round-off of about eps * |f| / h in every entry, so an entry that is merely tiny
    (or exactly 0) would show a large ratio of its own; below the floor, entries are compared with the
    floor instead. An entry wrong by a factor of 2 gives 1/3 if it is above the floor, and more than
    ``tol`` as long as it is larger than ``tol`` times the floor.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"shapes differ: analytic {a.shape} and numerical {n.shape}")
    if not 0 <= floor_fraction <= 1:
        raise ValueError(f"floor_fraction must be in [0, 1], got {floor_fraction}")
    with np.errstate(invalid="ignore"):  # inf - inf or inf / inf gives nan, which the caller rejects
        return rel_error(a, n, floor=_floor(a, n, floor_fraction))


def _floor(a, n, floor_fraction):
    """floor_fraction times the largest finite |entry| of a and n (a tiny positive number if there is none)."""
    both = np.abs(np.concatenate([a.ravel(), n.ravel()]))
    scale = float(np.max(both[np.isfinite(both)], initial=0.0))
    return max(floor_fraction * scale, np.finfo(np.float64).tiny)


def check_gradient(f: Callable[[], np.ndarray], x: np.ndarray, analytic: np.ndarray,
                   grad_output: np.ndarray | None = None, h: float = 1e-6, tol: float = 1e-6,
                   name: str = "gradient", floor_fraction: float = 1e-3) -> float:
    """Compare an analytic gradient with centred differences; return the error or raise.

    The error is `gradient_error(analytic, numeric, floor_fraction)`: entry by entry relative,
    |a - n| / (|a| + |n|), with entries smaller than ``floor_fraction`` times the gradient's largest
    entry compared with that floor instead. It raises an AssertionError naming the worst entry when
    the error is above ``tol``.
    """
    analytic = np.asarray(analytic)
    if analytic.shape != np.shape(x):
        raise ValueError(f"{name}: analytic gradient has shape {analytic.shape} but x has shape {np.shape(x)}")
    numeric = numerical_gradient(f, x, grad_output, h)
    err = gradient_error(analytic, numeric, floor_fraction)
    if not err <= tol:  # also catches nan
        a, n = analytic.astype(np.float64), numeric
        floor = _floor(a, n, floor_fraction)
        with np.errstate(invalid="ignore"):
            per_entry = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), floor)
        per_entry = np.where(np.isnan(per_entry), np.inf, per_entry)
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(per_entry)), per_entry.shape))
        raise AssertionError(
            f"{name} (analytic vs numerical): {int(np.sum(per_entry > tol))} of {per_entry.size} entries differ; "
            f"worst at index {idx}: analytic {a[idx]:.10g}, numerical {n[idx]:.10g}; relative error {err:.3g} "
            f"> tol {tol:g} (entries smaller than {floor:.3g}, {floor_fraction:g} of the largest, are compared "
            f"with {floor:.3g} instead)"
        )
    return err
