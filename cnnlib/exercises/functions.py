"""Checking a function the learner wrote against cnnlib's reference, on many small seeded cases.

    check_function(fn, reference, cases, "Exercise 2", hints=[...], output_names=(...))

calls ``fn(*case.inputs.values())`` and ``reference(*case.inputs.values())`` on every case, smallest
first, and stops at the first case where they disagree. The verdict names the mistake when a
:class:`Hint` recognizes it, then shows that smallest failing case: the inputs, the expected and
the actual result. Statuses:

- ``fn is None``, or ``fn`` raises ``NotImplementedError`` (or returns ``None``, the ``...`` stub)
  on the first case: "not attempted";
- ``fn`` raises anything else: "error", with the exception's last line and the case;
- a result of the wrong type, shape or value, an input changed in place, or no exception where
  the reference raises one (a filter that does not fit): "fail";
- every case right: "pass".

The checker never raises; inputs are copied before each call, so neither function sees what the
other did to them. Cases are meant to be small (a learner's naive loops finish in seconds).
"""
from __future__ import annotations

import contextvars
import copy
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from cnnlib.exercises.answers import as_numbers
from cnnlib.exercises.core import ERROR, FAIL, PASS, emit, not_attempted


@dataclass(frozen=True)
class Case:
    """The arguments of one call, by name and in the order the function takes them; ``label`` says
    what the case is for ("overlapping windows", "a batch of one") and is shown when it fails."""

    inputs: dict
    label: str = ""


@dataclass(frozen=True)
class Hint:
    """``applies(inputs, expected, actual) -> bool`` recognizes a mistake; ``message`` names it.

    ``expected`` is the reference's result, or the exception it raised; ``actual`` is what the
    learner's function returned. A predicate that raises counts as not applying.
    """

    message: str
    applies: Callable[[dict, object, object], bool] = field(repr=False)


# The grader's hook (cnnlib.grading.release): while this holds a list, check_function only appends
# its cases to it and returns, running nothing.
CASE_SINK: contextvars.ContextVar[list | None] = contextvars.ContextVar("cnnlib_case_sink", default=None)


def _size(case: Case) -> int:
    return sum(int(np.size(v)) for v in case.inputs.values() if isinstance(v, np.ndarray))


def _show(value, indent: str = "    ") -> str:
    if isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value):
        return "(\n" + ",\n".join(indent + _show(v, indent + "  ") for v in value) + ")"
    if isinstance(value, np.ndarray) or type(value).__module__.startswith("torch"):
        try:
            arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
            text = np.array2string(arr, precision=4, suppress_small=True, separator=", ", threshold=400)
            return f"array of shape {arr.shape}:\n" + "\n".join(indent + line for line in text.splitlines())
        except Exception:  # noqa: BLE001 - showing an odd result must not crash the checker
            pass
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + " ..."


def _compare(actual, expected, what: str, rtol: float, atol: float) -> str | None:
    """None if ``actual`` matches ``expected``; else what is wrong, in a sentence."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) and hasattr(actual, "__len__") and not isinstance(actual, str):
            try:
                actual = list(actual)
            except Exception:  # noqa: BLE001
                pass
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            return (f"{what} should be a tuple of {len(expected)} results, got "
                    f"{type(actual).__name__}" + (f" of length {len(actual)}" if isinstance(actual, (tuple, list)) else ""))
        for k, (a, e) in enumerate(zip(actual, expected)):
            problem = _compare(a, e, f"{what}[{k}]", rtol, atol)
            if problem:
                return problem
        return None
    e = np.asarray(expected, dtype=np.float64)
    try:
        a = as_numbers(actual, name=what)
    except AssertionError as err:
        return str(err)
    if a.shape != e.shape:
        return f"{what} has shape {a.shape}, expected shape {e.shape}"
    bad = ~(np.abs(a - e) <= atol + rtol * np.abs(e))
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"{what}: {int(bad.sum())} of {bad.size} entries differ, the first at index {idx}"
    return None


def _named(results, names):
    """Split a tuple result into named parts for the message (``grad_input = ...``)."""
    if names and isinstance(results, (tuple, list)) and len(results) == len(names):
        return "\n".join(f"  {n} = {_show(r)}" for n, r in zip(names, results))
    return "  " + _show(results)


def _case_text(case: Case, number: int, total: int) -> str:
    label = f", {case.label}" if case.label else ""
    lines = [f"The smallest case it fails (case {number} of {total}{label}):"]
    lines += [f"  {k} = {_show(v)}" for k, v in case.inputs.items()]
    return "\n".join(lines)


def _changed(before: dict, after: list) -> str | None:
    for (key, old), new in zip(before.items(), after):
        if isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
            if old.shape != new.shape or not np.array_equal(old, new, equal_nan=True):
                return key
    return None


def check_function(fn, reference: Callable, cases: Iterable, name: str, hints: Iterable[Hint] = (),
                   success: str = "", output_names: tuple[str, ...] | None = None,
                   rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """Run ``fn`` and ``reference`` on every case (a :class:`Case` or a plain dict of inputs); print
    and record the verdict under ``name``; return True only if ``fn`` agrees on all of them."""
    sink = CASE_SINK.get()
    if sink is not None:  # the grader asks which cases this checker runs (cnnlib.grading.release)
        sink.extend(c if isinstance(c, Case) else Case(dict(c)) for c in cases)
        return False
    if fn is None:
        return not_attempted(name, "write the function in the cell above")
    if not callable(fn):
        emit(name, FAIL, f"not quite: give the function itself (its name, without brackets), "
                         f"not {type(fn).__name__}.")
        return False
    fname = getattr(fn, "__name__", "your function")
    cases = [c if isinstance(c, Case) else Case(dict(c)) for c in cases]
    order = sorted(range(len(cases)), key=lambda i: (_size(cases[i]), i))
    for step, i in enumerate(order):
        case = cases[i]
        where = _case_text(case, i + 1, len(cases))
        try:
            expected = reference(*copy.deepcopy(list(case.inputs.values())))
        except Exception as err:  # noqa: BLE001 - the reference refusing the case is part of the exercise
            expected = err
        args = copy.deepcopy(list(case.inputs.values()))
        try:
            actual = fn(*args)
        except NotImplementedError:
            if step == 0:
                return not_attempted(name, f"write the body of {fname}")
            emit(name, ERROR, f"{fname} raised NotImplementedError on this case.", where)
            return False
        except Exception as err:  # noqa: BLE001 - the learner's code may raise anything
            if isinstance(expected, Exception) and isinstance(err, type(expected)):
                continue
            last = str(err).strip().splitlines()[-1] if str(err).strip() else ""
            want = (f" (the reference raises {type(expected).__name__} here)"
                    if isinstance(expected, Exception) else "")
            emit(name, ERROR, f"{fname} raised {type(err).__name__}: {last}{want}", where)
            return False
        if step == 0 and actual is None and expected is not None:
            return not_attempted(name, f"write the body of {fname} (it returns None so far)")
        changed = _changed(case.inputs, args)
        if isinstance(expected, Exception):
            problem = (f"{fname} should raise {type(expected).__name__} here, as the reference does "
                       f"({expected}), but it returned a result")
        elif changed:
            problem = f"{fname} changed its input {changed} in place: work on a copy, or build a new array"
        else:
            problem = _compare(actual, expected, "the result", rtol, atol)
        if problem is None:
            continue
        hint = None if changed else next((h.message for h in hints if _applies(h, case.inputs, expected, actual)), None)
        details = [where, "expected:", _named(expected, output_names), "yours:", _named(actual, output_names)]
        if hint:
            details.append(f"(in detail: {problem})")
        emit(name, FAIL, f"not quite: {hint or problem}.", "\n".join(details))
        return False
    emit(name, PASS, f"correct on all {len(cases)} cases!" + (f" {success}" if success else ""))
    return True


def _applies(hint: Hint, inputs: dict, expected, actual) -> bool:
    try:
        return bool(hint.applies(copy.deepcopy(inputs), expected, actual))
    except Exception:  # noqa: BLE001 - a hint that cannot judge this case does not apply
        return False


__all__ = ["Case", "Hint", "check_function"]
