"""Checking a function the learner wrote against cnnlib's reference, on many small seeded cases.

    check_function(fn, reference, cases, "Exercise 2", hints=[...], output_names=(...))

calls ``fn(*case.inputs.values())`` and ``reference(*case.inputs.values())`` on every case, smallest
first, and stops at the first case where they disagree. The verdict names the mistake when a
:class:`Hint` recognizes it, then shows that smallest failing case: the inputs, the expected and
the actual result. Statuses:

- ``fn is None``, or ``fn`` raises ``NotImplementedError`` (or returns ``None``, the ``...`` stub)
  on the first case: "not attempted";
- ``fn`` raises anything else (``sys.exit`` and other ``BaseException`` s too), or runs past the
  time limit: "error", with the exception's last line and the case;
- a result of the wrong type, shape or value, an iterator that never ends, an input changed in
  place (arrays, and lists, tuples and dicts all the way down), or no exception where the reference
  raises one (a filter that does not fit): "fail";
- every case right: "pass".

The checker never raises, except KeyboardInterrupt (the learner's stop button); inputs are copied
before each call, so neither function sees what the other did to them. Every call of ``fn`` and
the reading of its result run under :func:`cnnlib.exercises.guard.run_guarded`: at most
``guard.TIME_LIMIT_S`` seconds per call, prints captured and shown (capped) only with a failing
case. Cases are meant to be small (a learner's naive loops finish in well under a second).
"""
from __future__ import annotations

import contextvars
import copy
import itertools
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from cnnlib.exercises.answers import as_numbers
from cnnlib.exercises import my_layers
from cnnlib.exercises.core import _CURRENT, ERROR, FAIL, PASS, emit, not_attempted
from cnnlib.exercises.guard import Endless, problem_of, run_guarded, settle


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
            try:  # at most one item too many, read in a bounded C loop: an endless __iter__ cannot run away
                actual = list(itertools.islice(actual, len(expected) + 1))
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


def _same(old, new) -> bool:
    """Whether ``new`` still equals ``old``, a copy of a case's input: arrays, lists, tuples and dicts
    compared all the way down (a row replaced inside a list of rows counts), other values by ``==``."""
    if isinstance(old, np.ndarray):
        return (isinstance(new, np.ndarray) and old.shape == new.shape
                and np.array_equal(old, new, equal_nan=old.dtype.kind in "fc"))
    if isinstance(old, (list, tuple)):
        return (type(new) is type(old) and len(new) == len(old)
                and all(_same(a, b) for a, b in zip(old, new)))
    if isinstance(old, dict):
        return (type(new) is type(old) and new.keys() == old.keys()
                and all(_same(old[k], new[k]) for k in old))
    if isinstance(old, (int, float, complex, str, bytes, bool, type(None), np.generic)):
        return type(new) is type(old) and (old == new or (old != old and new != new))  # NaN stays NaN
    return True  # an object we cannot compare: not judged


def _changed(before: dict, after: list) -> str | None:
    """The name of the first input that the learner's function changed in place, or None."""
    for (key, old), new in zip(before.items(), after):
        if not _same(old, new):
            return key
    return None


def _judge(fn_name, case, args, actual, expected, hints, output_names, rtol, atol):
    """(problem, details) for a wrong result, or None. Runs under run_guarded: it reads the learner's
    result (an iterator, its repr, its items), which may be slow, endless or raise."""
    changed = _changed(case.inputs, args)
    try:
        actual = settle(actual)
    except Endless as err:
        return f"{fn_name} returned {err}; return a list or a tuple", "yours: an iterator that never ends"
    if isinstance(expected, Exception):
        problem = (f"{fn_name} should raise {type(expected).__name__} here, as the reference does "
                   f"({expected}), but it returned a result")
    elif changed:
        kind = "array" if isinstance(case.inputs[changed], np.ndarray) else type(case.inputs[changed]).__name__
        problem = f"{fn_name} changed its input {changed} in place: work on a copy, or build a new {kind}"
    else:
        problem = _compare(actual, expected, "the result", rtol, atol)
    if problem is None:
        return None
    hint = None if changed else next((h.message for h in hints if _applies(h, case.inputs, expected, actual)), None)
    details = ["expected:", _named(expected, output_names), "yours:", _named(actual, output_names)]
    if hint:
        details.append(f"(in detail: {problem})")
    return hint or problem, "\n".join(details)


def _with_prints(where: str, run) -> str:
    printed = run.output.shown("    ")
    return where + (f"\n  It printed:\n{printed}" if printed else "")


def check_function(fn, reference: Callable, cases: Iterable, name: str, hints: Iterable[Hint] = (),
                   success: str = "", output_names: tuple[str, ...] | None = None,
                   rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """Run ``fn`` and ``reference`` on every case (a :class:`Case` or a plain dict of inputs); print
    and record the verdict under ``name``; return True only if ``fn`` agrees on all of them.

    Each call of ``fn``, and the reading of what it returns, runs under ``guard.run_guarded``: a time
    limit of ``guard.TIME_LIMIT_S`` seconds, prints captured (shown, capped, with a failing case), every
    exception but KeyboardInterrupt caught."""
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
    if not isinstance(fname, str):
        fname = "your function"
    cases = [c if isinstance(c, Case) else Case(dict(c)) for c in cases]
    order = sorted(range(len(cases)), key=lambda i: (_size(cases[i]), i))
    printed = False
    for step, i in enumerate(order):
        case = cases[i]
        where = _case_text(case, i + 1, len(cases))
        try:
            expected = reference(*copy.deepcopy(list(case.inputs.values())))
        except Exception as err:  # noqa: BLE001 - the reference refusing the case is part of the exercise
            expected = err
        args = copy.deepcopy(list(case.inputs.values()))
        run = run_guarded(fn, *args)
        printed = printed or run.output.chars > 0
        err, actual = run.error, run.value
        if not run.timed_out and isinstance(err, NotImplementedError):
            if step == 0:
                return not_attempted(name, f"write the body of {fname}")
            emit(name, ERROR, f"{fname} raised NotImplementedError on this case.", _with_prints(where, run))
            return False
        if not run.timed_out and isinstance(err, Exception) and isinstance(expected, Exception) \
                and isinstance(err, type(expected)):
            continue
        if run.timed_out or err is not None:
            want = (f" (the reference raises {type(expected).__name__} here)"
                    if isinstance(expected, Exception) and not run.timed_out else "")
            emit(name, ERROR, f"{problem_of(run, fname)}{want}", _with_prints(where, run))
            return False
        if step == 0 and actual is None and expected is not None:
            return not_attempted(name, f"write the body of {fname} (it returns None so far)")
        judged = run_guarded(_judge, fname, case, args, actual, expected, hints, output_names, rtol, atol)
        if judged.timed_out or judged.error is not None:
            why = (f"took longer than {judged.limit_s:g} s (is it an iterator that never ends?)" if judged.timed_out
                   else f"raised {type(judged.error).__name__}: {judged.error}")
            emit(name, FAIL, f"not quite: reading what {fname} returned {why}; return a list, a tuple or an array.",
                 _with_prints(where, run))
            return False
        if judged.value is None:
            continue
        problem, details = judged.value
        emit(name, FAIL, f"not quite: {problem}.", _with_prints(where, run) + "\n" + details)
        return False
    note = " (It printed while it was checked; prints are shown only with a failing case.)" if printed else ""
    emit(name, PASS, f"correct on all {len(cases)} cases!" + (f" {success}" if success else "") + note)
    kept = my_layers.keep(_CURRENT.get(), fn) if _CURRENT.get() in my_layers.LAYERS else ""
    if kept:  # a layer exercise: the learner's function joins their library (cnnlib.exercises.my_layers)
        print(kept)
    return True


def _applies(hint: Hint, inputs: dict, expected, actual) -> bool:
    try:
        return bool(hint.applies(copy.deepcopy(inputs), expected, actual))
    except Exception:  # noqa: BLE001 - a hint that cannot judge this case does not apply
        return False


__all__ = ["Case", "Hint", "check_function"]
