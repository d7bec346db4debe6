"""The learner's own gradient check of a backward pass, run before the checker's verdict (a "selfcheck" cell).

    # %% tags=["selfcheck"]
    x = rng.standard_normal((3, 4)); g = rng.standard_normal((3, 4))
    gradient_check_yours(lambda: relu_backward(g, x), lambda: relu_forward(x), x, grad_output=g,
                         good_below=1e-6, name="grad_x")

``analytic`` returns the learner's gradient of ``sum(f() * grad_output)`` with respect to ``x``;
``f`` reads ``x``, which is nudged in place one entry at a time (:func:`cnnlib.testing.numerical_gradient`,
taught in 05_backpropagation). ``good_below`` is the learner's own answer to "what relative error
would you accept?": the student edition leaves it as ``None`` for them to fill in (tools/student.py).

It prints a verdict in words and never raises (a learner's stub raises NotImplementedError until it
is written). It never prints the error of a passing gradient: that error is round-off, whose digits
differ from one CPU to another; an error above the threshold is a bug's, and is printed.
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.guard import run_guarded
from cnnlib.testing import gradient_error, numerical_gradient

TOO_LENIENT, TOO_STRICT = 1e-3, 1e-12


def _judge_threshold(good_below) -> str | None:
    """Why ``good_below`` cannot serve as a float64 gradient check's threshold, or None if it can."""
    if isinstance(good_below, bool) or not isinstance(good_below, (int, float, np.floating)) \
            or not np.isfinite(good_below) or good_below <= 0:
        return f"good_below should be a small positive number, got {good_below!r}"
    if good_below > TOO_LENIENT:
        return (f"good_below = {good_below:g} is too lenient: a gradient with an entry wrong by "
                f"{100 * good_below:g}% or more of its size would still pass")
    if good_below < TOO_STRICT:
        return (f"good_below = {good_below:g} is stricter than centred differences can be: their round-off "
                f"alone is about 1e-10 in float64")
    return None


def gradient_check_yours(analytic, f, x, grad_output=None, good_below=None, name: str = "gradient",
                         h: float = 1e-6) -> None:
    """Compare the learner's ``analytic()`` with centred differences of ``f`` at ``x``; print the verdict."""
    x_dtype = getattr(x, "dtype", None)
    if x_dtype is None or x_dtype != np.float64:
        print(f"{name}: use float64 inputs for a gradient check (x has dtype {x_dtype}); in float32 "
              f"centred differences are off by about 1e-3 on their own.")
        return
    run = run_guarded(analytic)
    if run.timed_out:
        print(f"{name}: your code took longer than {run.limit_s:g} s.")
        return
    if isinstance(run.error, NotImplementedError):
        print(f"{name}: write your function first, then run this cell: it compares your gradient with "
              f"finite differences.")
        return
    if run.error is not None:
        print(f"{name}: your code raised {type(run.error).__name__}: {run.error}")
        return
    mine = np.asarray(run.value, dtype=np.float64) if run.value is not None else None
    if mine is None or mine.shape != x.shape:
        print(f"{name}: your gradient has shape {None if mine is None else mine.shape}; "
              f"a gradient has the shape of x, {x.shape}.")
        return
    numeric = run_guarded(numerical_gradient, f, x, grad_output, h)
    if numeric.error is not None or numeric.timed_out:
        why = "took too long" if numeric.timed_out else f"raised {type(numeric.error).__name__}: {numeric.error}"
        print(f"{name}: the finite differences could not be computed: f {why}.")
        return
    err = gradient_error(mine, numeric.value)
    if good_below is None:
        print(f"{name}: set good_below to the largest relative error you would still call a match "
              f"(05_backpropagation measures what round-off and what a bug give), then run this cell again.")
        return
    problem = _judge_threshold(good_below)
    if problem:
        print(f"{name}: {problem}.")
    elif err <= good_below:
        print(f"{name}: relative error below your good_below = {good_below:g}: your gradient matches "
              f"finite differences.")
    else:
        print(f"{name}: relative error {err:.2g}, above your good_below = {good_below:g}: look for the bug "
              f"before the checker does.")


__all__ = ["gradient_check_yours", "TOO_LENIENT", "TOO_STRICT"]
