"""Verdicts: how every exercise check ends, what it prints and what it records for the grader.

A checker ends in exactly one :class:`Verdict` with a status in :data:`STATUSES`. The verdict is
printed as one line (function checkers add the failing case below it) and recorded in a
process-wide registry, keyed by the exercise's id, which ``python -m cnnlib.grade`` reads.

Public checkers are decorated with :func:`exercise`; its id is the function's name without
``check_`` (``check_conv_parameters`` records ``conv_parameters``), so the grader can find the
expected exercises in a notebook's check cells without running them.
"""
from __future__ import annotations

import contextvars
import functools
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

# Re-exported: the numeric helpers were first defined here and the checkers import them from here.
from cnnlib.exercises.answers import (
    NOTES, as_count, as_number, as_numbers, expect_by_hand, expect_close, expect_equal,
)
from cnnlib.exercises.guard import Endless, run_guarded, settle

PASS, FAIL, NOT_ATTEMPTED, ERROR = "pass", "fail", "not attempted", "error"
STATUSES = (PASS, FAIL, NOT_ATTEMPTED, ERROR)


@dataclass(frozen=True)
class Verdict:
    """One check's outcome: ``exercise`` (the id), ``status`` (one of STATUSES) and the printed ``message``."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASS


_REGISTRY: dict[str, Verdict] = {}
_LOG: list[Path] = []  # where the grader asked for each verdict to be appended (JSON lines)
_CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("cnnlib_exercise", default=None)


def record(v: Verdict) -> Verdict:
    """Keep ``v`` as the latest verdict of its exercise (and append it to the grader's log, if any)."""
    _REGISTRY[v.exercise] = v
    for path in _LOG:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(v)) + "\n")
    return v


def verdicts() -> list[Verdict]:
    """The latest verdict of every exercise checked in this process, in the order first checked."""
    return list(_REGISTRY.values())


def latest(exercise_id: str) -> Verdict | None:
    return _REGISTRY.get(exercise_id)


def clear_verdicts() -> None:
    _REGISTRY.clear()


def record_to(path) -> None:
    """Also append every later verdict, as one JSON object per line, to ``path`` (used by the grader).

    A file survives a kernel that dies or times out, so the verdicts reached before still count.
    """
    _LOG.append(Path(path))


def exercise_id(checker_name: str) -> str:
    """``check_conv_parameters`` -> ``conv_parameters``: the id the grader and the registry use."""
    return checker_name[len("check_"):] if checker_name.startswith("check_") else checker_name


DEFAULT_POINTS = 1


def exercise(checker: Callable[..., bool] | None = None, *, points: float = DEFAULT_POINTS):
    """Decorator for a public checker ``check_<id>(answer) -> bool``: ``@exercise`` or ``@exercise(points=3)``.

    While it runs, verdicts are recorded under ``<id>``. It never raises: an exception escaping
    the checker (a bug in the checker, not in the answer; any BaseException but KeyboardInterrupt)
    is reported as a failed check, and a checker that ends without a verdict records one that says
    so. ``points`` (default 1) is what the exercise is worth in ``python -m cnnlib.grade``'s
    gradebook; the checker keeps it as ``points`` (read by the grader and by tools/export_*.py).
    """
    if checker is None:
        return functools.partial(exercise, points=points)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not points > 0:
        raise ValueError(f"points must be a positive number, got {points!r}")
    if not checker.__name__.startswith("check_"):
        raise ValueError(f"a checker's name must start with 'check_', got {checker.__name__!r}")
    key = exercise_id(checker.__name__)

    @functools.wraps(checker)
    def run(*args, **kwargs) -> bool:
        token = _CURRENT.set(key)
        before = _REGISTRY.get(key)
        try:
            result = checker(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001 - the one place a checker's own bug is caught
            emit(key, FAIL, f"the checker could not judge this answer ({type(err).__name__}: {err})")
            return False
        finally:
            _CURRENT.reset(token)
        if _REGISTRY.get(key) is before:
            emit(key, ERROR, "the checker ended without a verdict (a bug in cnnlib.exercises)")
            return False
        return bool(result)

    run.__exercise__ = key
    run.points = points
    return run


def emit(title: str, status: str, text: str, details: str = "") -> Verdict:
    """Print ``"<title>: <text>"`` (and ``details`` below it) and record it; returns the Verdict.

    Inside an :func:`exercise` checker the verdict is recorded under that checker's id, so
    ``title`` is only what the learner reads ("Exercise 2").
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    line = f"{title}: {text}"
    print(line + (f"\n{details}" if details else ""))
    return record(Verdict(_CURRENT.get() or title, status, line + (f"\n{details}" if details else "")))


def not_attempted(title: str, what: str = "replace None with your answer") -> bool:
    emit(title, NOT_ATTEMPTED, f"not attempted yet: {what} and run the cell again.")
    return False


def verdict(answer, check: Callable[[object], None], name: str, success: str = "") -> bool:
    """Run ``check(answer)``; print whether it is right, record it and return True or False.

    An iterator (a generator) is read into a list first; one that never ends is refused. ``check``
    runs under :func:`cnnlib.exercises.guard.run_guarded` (a time limit, prints captured).

    A right answer read in a way worth a word (61706.0 taken as the count 61706: ``answers.note``)
    gets that word after "correct!".

    ``check`` raises ``AssertionError`` with a hint when the answer is wrong (the helpers of
    ``cnnlib.exercises.answers`` do, for answers of the wrong kind or shape too). An answer of
    ``None`` means the learner has not tried yet. Any other exception from ``check`` becomes a
    "not quite" with its message: odd answers get a verdict, never a traceback.
    """
    if answer is None:
        return not_attempted(name)
    notes: list[str] = []  # how the answer was read (answers.note), said after "correct!"
    token = NOTES.set(notes)
    try:
        run = run_guarded(lambda: check(settle(answer)))
    finally:
        NOTES.reset(token)
    err = run.error
    if run.timed_out:
        emit(name, FAIL, f"not quite: reading your answer took longer than {run.limit_s:g} s; "
                         f"give a number, or a list or a tuple of numbers.")
        return False
    if isinstance(err, Endless):
        emit(name, FAIL, f"not quite: your answer is {err}; give a list or a tuple of numbers.")
        return False
    if isinstance(err, AssertionError):
        emit(name, FAIL, f"not quite. {err}")
        return False
    if err is not None:  # an odd answer (even one whose methods call sys.exit) must still get a verdict
        emit(name, FAIL, f"not quite: your answer could not be read ({type(err).__name__}: {err}).")
        return False
    emit(name, PASS, "correct!" + (f" {success}" if success else "") + "".join(f" ({n[:1].upper()}{n[1:]}.)" for n in notes))
    return True


def mine_or_reference(exercise_key: str, mine: Callable, reference: Callable) -> Callable:
    """The learner's function if its exercise passed in this kernel, else cnnlib's (with a note).

    For the cells after an exercise that use the learner's own code (their convolution inside a
    network), so the notebook still runs top to bottom before the exercise is solved.
    """
    v = _REGISTRY.get(exercise_key)
    if v is not None and v.passed:
        print(f"Using your {getattr(mine, '__name__', exercise_key)}: it passed its check.")
        return mine
    print(f"Using cnnlib's {getattr(reference, '__name__', exercise_key)}: "
          f"yours has not passed its check ({exercise_key}) yet.")
    return reference


__all__ = [
    "PASS", "FAIL", "NOT_ATTEMPTED", "ERROR", "STATUSES", "Verdict", "record", "verdicts", "latest",
    "clear_verdicts", "record_to", "exercise", "DEFAULT_POINTS", "exercise_id", "emit", "not_attempted", "verdict",
    "mine_or_reference", "as_count", "as_number", "as_numbers", "expect_by_hand", "expect_close",
    "expect_equal",
]
