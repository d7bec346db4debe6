"""Checking a function the learner wrote against cnnlib's reference, on many small seeded cases.

    check_function(fn, reference, cases, "Exercise 2", hints=[...], output_names=(...))

calls ``fn(*case.inputs.values())`` and ``reference(*case.inputs.values())`` on every case, smallest
first, and stops at the first case where they disagree. The verdict names the mistake when a
:class:`Hint` recognizes it, then shows that smallest failing case: the inputs, the expected and
the actual result (the first differing entry with all its digits, the arrays with as many decimals
as the difference needs). Statuses:

- ``fn is None``, or ``fn`` raises ``NotImplementedError`` (or returns ``None``, the ``...`` stub)
  on the first case: "not attempted";
- ``fn`` calls cnnlib or PyTorch (a shortcut: the exercise asks the learner to write it), unless the
  checker allows that name (``allowed=``): "fail", naming what it calls, before any case runs;
- ``fn`` raises anything else (``sys.exit`` and other ``BaseException`` s too), or runs past the
  time limit: "error", with the exception's last line and the case;
- a result of the wrong type, shape or value, an iterator that never ends, an input changed in
  place (arrays, and lists, tuples and dicts all the way down), a float where the reference returns
  an int (a size, a count), or no exception where the reference raises one (a filter that does not
  fit): "fail";
- every case right: "pass".

Tolerance (:mod:`cnnlib.exercises.compare`): ``rtol``/``atol`` (1e-6, 1e-8) for float64 results; a
float32 result, or a case whose inputs are float32, at float32 precision (rtol 1e-4, atol scaled to
the result), unless the checker passes ``float64_because="why"``.

Hints: a hint is claimed only where its predicate fits the learner's result and not the right one
(on a case where the mistake changes nothing it cannot tell). Several that fit are narrowed on the
later cases to those that fit every failing case, and the first listed of those is said (list hints
most specific first). A second mistake is named ("That is not all: ...") when a part of a tuple
result is wrong that no fitting hint accounts for, or a later case fails in a way the hints do not
explain. So a hint's predicate should look at every part of the result its mistake changes: a part
it ignores that is wrong is taken for a second mistake.

The checker never raises, except KeyboardInterrupt (the learner's stop button); inputs are copied
before each call, so neither function sees what the other did to them. Every call of ``fn`` and
the reading of its result run under :func:`cnnlib.exercises.guard.run_guarded`: at most
``guard.TIME_LIMIT_S`` seconds per call, prints captured and shown (capped) only with a failing
case. Cases are meant to be small (a learner's naive loops finish in well under a second).
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import time
import types
import weakref
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from cnnlib.exercises import my_layers
from cnnlib.exercises.answers import as_numbers
from cnnlib.exercises.compare import Tolerance, compare, digits_to_show, low_precision
from cnnlib.exercises.core import _CURRENT, ERROR, FAIL, PASS, emit, not_attempted
from cnnlib.exercises.guard import Endless, problem_of, run_guarded, settle
from cnnlib.exercises.hints import Hint, applies, unexplained
from cnnlib.exercises.own_code import allowed_only, shortcuts


@dataclass(frozen=True)
class Case:
    """The arguments of one call, by name and in the order the function takes them; ``label`` says
    what the case is for ("overlapping windows", "a batch of one") and is shown when it fails."""

    inputs: dict
    label: str = ""


# Whether check_function refuses a function that calls cnnlib or PyTorch (see allow_shortcuts).
_SHORTCUTS_JUDGED: contextvars.ContextVar[bool] = contextvars.ContextVar("cnnlib_shortcuts_judged", default=True)


@contextlib.contextmanager
def allow_shortcuts():
    """Within this block, check_function judges a function that calls cnnlib or PyTorch by its results
    alone. For tests that build right or wrong implementations from cnnlib's reference or from torch
    (a parity check of a checker's reference; a mutant that is "the reference, but ..."); never for a
    learner's answer."""
    token = _SHORTCUTS_JUDGED.set(False)
    try:
        yield
    finally:
        _SHORTCUTS_JUDGED.reset(token)


# The grader's replayed answers (cnnlib.grading.judge): a stand-in function -> what the learner's own
# function, in the sandbox, takes from cnnlib or torch (own_code.shortcut_findings, as plain data).
_RECORDED_FINDINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def record_findings(stand_in, findings) -> None:
    """Judge ``stand_in`` (the grader's replay of a learner's function) by ``findings``, which the sandbox
    made from the learner's real function, instead of by its own code."""
    _RECORDED_FINDINGS[stand_in] = [(str(s), str(n)) for s, n in findings]


def _borrowed(fn, allowed) -> list[str]:
    recorded = _RECORDED_FINDINGS.get(fn) if isinstance(fn, types.FunctionType) else None
    return allowed_only(recorded, allowed) if recorded is not None else shortcuts(fn, allowed)


# The grader's hook (cnnlib.grading.release): while this holds a list, check_function only appends
# its cases to it and returns, running nothing.
CASE_SINK: contextvars.ContextVar[list | None] = contextvars.ContextVar("cnnlib_case_sink", default=None)


def _size(case: Case) -> int:
    return sum(int(np.size(v)) for v in case.inputs.values() if isinstance(v, np.ndarray))


def _show(value, indent: str = "    ", digits: int = 4) -> str:
    if isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value):
        return "(\n" + ",\n".join(indent + _show(v, indent + "  ", digits) for v in value) + ")"
    if isinstance(value, np.ndarray) or type(value).__module__.startswith("torch"):
        try:
            arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
            text = np.array2string(arr, precision=digits, suppress_small=digits <= 4, separator=", ", threshold=400)
            dtype = f", {arr.dtype}" if arr.dtype != np.float64 else ""
            return f"array of shape {arr.shape}{dtype}:\n" + "\n".join(indent + line for line in text.splitlines())
        except Exception:  # noqa: BLE001 - showing an odd result must not crash the checker
            pass
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + " ..."


def _digits(actual, expected) -> int:
    """Decimal places that show the first difference between two results (4 if it cannot be read)."""
    try:
        if isinstance(expected, (tuple, list)) and isinstance(actual, (tuple, list)):
            return max([4] + [_digits(a, e) for a, e in zip(actual, expected)])
        a, e = as_numbers(actual), np.asarray(expected, dtype=np.float64)
        return digits_to_show(a, e) if a.shape == e.shape else 4
    except Exception:  # noqa: BLE001
        return 4


def _named(results, names, digits: int = 4):
    """Split a tuple result into named parts for the message (``grad_input = ...``)."""
    if names and isinstance(results, (tuple, list)) and len(results) == len(names):
        return "\n".join(f"  {n} = {_show(r, digits=digits)}" for n, r in zip(names, results))
    return "  " + _show(results, digits=digits)


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


@dataclass
class _Wrong:
    """Why a result is wrong: ``problem`` (a sentence), ``hints`` that fit it, ``details`` to print."""

    problem: str
    hints: list
    details: str
    also: str = ""  # a part of the result the hints do not explain (a second mistake), in a sentence


def _judge(fn_name, case, args, actual, expected, hints, output_names, tol):
    """A :class:`_Wrong` for a wrong result, or None. Runs under run_guarded: it reads the learner's
    result (an iterator, its repr, its items), which may be slow, endless or raise."""
    changed = _changed(case.inputs, args)
    try:
        actual = settle(actual)
    except Endless as err:
        return _Wrong(f"{fn_name} returned {err}; return a list or a tuple", [], "yours: an iterator that never ends")
    if isinstance(expected, Exception):
        problem = (f"{fn_name} should raise {type(expected).__name__} here, as the reference does "
                   f"({expected}), but it returned a result")
    elif changed:
        kind = "array" if isinstance(case.inputs[changed], np.ndarray) else type(case.inputs[changed]).__name__
        problem = f"{fn_name} changed its input {changed} in place: work on a copy, or build a new {kind}"
    else:
        problem = compare(actual, expected, "the result", tol, single=bool(low_precision(case.inputs)))
    if problem is None:
        return None
    fitting = [] if changed else [h for h in hints if applies(h, case.inputs, expected, actual)]
    digits = 4 if isinstance(expected, Exception) else _digits(actual, expected)
    details = ["expected:", _named(expected, output_names, digits), "yours:", _named(actual, output_names, digits)]
    also = unexplained(case.inputs, actual, expected, fitting[:1], output_names, tol, fitting) if fitting else ""
    return _Wrong(problem, fitting, "\n".join(details), also)


def _with_prints(where: str, run) -> str:
    printed = run.output.shown("    ")
    return where + (f"\n  It printed:\n{printed}" if printed else "")


@dataclass
class _Outcome:
    """One case run: ``status`` "ok", "skip" (not attempted), "error" or "fail", and what to print."""

    status: str
    run: object = None
    expected: object = None
    wrong: _Wrong | None = None
    text: str = ""


def _run_case(fn, fname, reference, case, hints, output_names, tol, first: bool) -> _Outcome:
    """Run ``reference`` and ``fn`` on copies of one case's inputs and judge what ``fn`` did."""
    try:
        expected = reference(*copy.deepcopy(list(case.inputs.values())))
    except Exception as err:  # noqa: BLE001 - the reference refusing the case is part of the exercise
        expected = err
    args = copy.deepcopy(list(case.inputs.values()))
    run = run_guarded(fn, *args)
    err, actual = run.error, run.value
    if not run.timed_out and isinstance(err, NotImplementedError):
        return _Outcome("skip" if first else "error", run, expected, text=f"{fname} raised NotImplementedError on this case.")
    if not run.timed_out and isinstance(err, Exception) and isinstance(expected, Exception) \
            and isinstance(err, type(expected)):
        return _Outcome("ok", run, expected)
    if run.timed_out or err is not None:
        want = (f" (the reference raises {type(expected).__name__} here)"
                if isinstance(expected, Exception) and not run.timed_out else "")
        return _Outcome("error", run, expected, text=f"{problem_of(run, fname)}{want}")
    if first and actual is None and expected is not None:
        return _Outcome("skip", run, expected, text="returns None")
    judged = run_guarded(_judge, fname, case, args, actual, expected, hints, output_names, tol)
    if judged.timed_out or judged.error is not None:
        why = (f"took longer than {judged.limit_s:g} s (is it an iterator that never ends?)" if judged.timed_out
               else f"raised {type(judged.error).__name__}: {judged.error}")
        return _Outcome("fail", run, expected, text=f"reading what {fname} returned {why}; "
                                                  f"return a list, a tuple or an array")
    if judged.value is None:
        return _Outcome("ok", run, expected)
    return _Outcome("fail", run, expected, wrong=judged.value, text=judged.value.problem)


SCAN_S = 5.0  # after a hinted failure, seconds spent on the later cases looking for a second mistake


def _second_opinion(fn, fname, reference, cases, later, hints, output_names, tol, first_hints):
    """Run the later cases of a failed check: (the hints to say, a sentence about a second mistake or "").

    With hints on the first failing case: those that also fit every later failing case they can judge
    (the first ones if none does; of several that fit everywhere, the first listed is said); a later
    failing case that none of them explains names a second mistake (its own hint, or what is wrong). A case where the
    reference raises is not used: a wrong formula also misjudges which filters fit. Without hints on the
    first failing case: the first later case that a hint recognizes names it."""
    keep, other = list(first_hints), ""
    start = time.monotonic()
    for i in later:
        if time.monotonic() - start > SCAN_S:
            break
        out = _run_case(fn, fname, reference, cases[i], hints, output_names, tol, first=False)
        if out.status == "ok" or (first_hints and isinstance(out.expected, Exception)):
            continue
        fitting = out.wrong.hints if out.wrong else []
        label = f", {cases[i].label}" if cases[i].label else ""
        if first_hints and [h for h in keep if h in fitting]:
            keep = [h for h in keep if h in fitting]
            if out.wrong.also:  # the hints explain part of this result, not all of it
                other = f"That is not all: on case {i + 1} of {len(cases)}{label}, {out.wrong.also}."
                break
            continue
        if first_hints or fitting:
            why = "; ".join(h.message for h in fitting) if fitting else f"another problem: {out.text}"
            other = f"That is not all: on case {i + 1} of {len(cases)}{label}, {why}."
            break
    return keep, other


def check_function(fn, reference: Callable, cases: Iterable, name: str, hints: Iterable[Hint] = (),
                   success: str = "", output_names: tuple[str, ...] | None = None,
                   rtol: float = 1e-6, atol: float = 1e-8, float64_because: str = "",
                   allowed: Iterable[str] = (), shortcut=True) -> bool:
    """Run ``fn`` and ``reference`` on every case (a :class:`Case` or a plain dict of inputs); print
    and record the verdict under ``name``; return True only if ``fn`` agrees on all of them.

    Each call of ``fn``, and the reading of what it returns, runs under ``guard.run_guarded``: a time
    limit of ``guard.TIME_LIMIT_S`` seconds, prints captured (shown, capped, with a failing case), every
    exception but KeyboardInterrupt caught.

    Tolerance (:mod:`cnnlib.exercises.compare`): ``rtol``/``atol`` for float64 results; a float32
    result, or a case with float32 inputs, is judged at float32 precision (rtol 1e-4) unless
    ``float64_because`` says why this exercise needs float64. Integer results (sizes, counts) must
    be integers, exactly.

    Shortcuts: ``fn`` must be the learner's own code. One that calls cnnlib or PyTorch (or is one of
    their functions) fails before any case runs, naming what it calls; NumPy is fine. ``allowed``:
    dotted names the worked solution legitimately uses ("cnnlib.shapes.conv_output_size").
    ``shortcut=False`` turns the check off; a list of dotted names there is accepted for readability
    (they are refused, as is everything else of cnnlib and torch not in ``allowed``).
    """
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
    borrowed = _borrowed(fn, allowed) if shortcut is not False and _SHORTCUTS_JUDGED.get() else []
    if borrowed:
        emit(name, FAIL, f"not quite: {'; '.join(borrowed)}. This exercise asks you to write it yourself, "
                         f"so it must not call cnnlib's or PyTorch's code (NumPy is fine).")
        return False
    tol = Tolerance(rtol, atol, float64_because)
    cases = [c if isinstance(c, Case) else Case(dict(c)) for c in cases]
    order = sorted(range(len(cases)), key=lambda i: (_size(cases[i]), i))
    printed = False
    for step, i in enumerate(order):
        case = cases[i]
        out = _run_case(fn, fname, reference, case, hints, output_names, tol, first=step == 0)
        printed = printed or out.run.output.chars > 0
        if out.status == "ok":
            continue
        where = _case_text(case, i + 1, len(cases))
        if out.status == "skip":
            return not_attempted(name, f"write the body of {fname}"
                                 + (" (it returns None so far)" if out.text == "returns None" else ""))
        if out.status == "error":
            emit(name, ERROR, out.text, _with_prints(where, out.run))
            return False
        if out.wrong is None:
            emit(name, FAIL, f"not quite: {out.text}.", _with_prints(where, out.run))
            return False
        wrong = out.wrong
        fitting, other = _second_opinion(fn, fname, reference, cases, order[step + 1:], hints, output_names, tol,
                                         wrong.hints)
        also = wrong.also
        if fitting and wrong.hints and fitting[0] is not wrong.hints[0]:  # the later cases chose another hint
            also = unexplained(case.inputs, out.run.value, out.expected, fitting[:1], output_names, tol, wrong.hints)
        other = f"That is not all: {also}." if also else other
        details = wrong.details + (f"\n(in detail: {wrong.problem})" if fitting else "")
        said = fitting[0].message if fitting else wrong.problem  # hints are listed most specific first
        emit(name, FAIL, f"not quite: {said}." + (f" {other}" if other else ""),
             _with_prints(where, out.run) + "\n" + details)
        return False
    note = " (It printed while it was checked; prints are shown only with a failing case.)" if printed else ""
    emit(name, PASS, f"correct on all {len(cases)} cases!" + (f" {success}" if success else "") + note)
    try:
        kept = my_layers.keep(_CURRENT.get(), fn) if _CURRENT.get() in my_layers.LAYERS else ""
    except Exception as err:  # noqa: BLE001 - keeping the function must not turn a pass into a crash
        kept = f"Not kept in {my_layers.FOLDER}/: {type(err).__name__}: {err}."
    if kept:  # a layer exercise: the learner's function joins their library (cnnlib.exercises.my_layers)
        print(kept)
    return True


__all__ = ["Case", "Hint", "allow_shortcuts", "check_function", "record_findings"]
