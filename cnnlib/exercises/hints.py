"""Hints: how a checker names a learner's mistake, and when it may claim to.

A :class:`Hint` is a predicate on (inputs, expected, actual) and a message. ``check_function``
(:mod:`cnnlib.exercises.functions`) shows a hint only where :func:`applies`: its predicate fits the
learner's result and not the right result too (on a case where the mistake changes nothing, such as
"forgot to flip" on a symmetric filter, the hint cannot tell what went wrong). :func:`unexplained`
finds the part of a tuple result that no fitting hint accounts for: a second mistake, to be named too.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

from cnnlib.exercises.compare import compare, low_precision


@dataclass(frozen=True)
class Hint:
    """``applies(inputs, expected, actual) -> bool`` recognizes a mistake; ``message`` names it.

    ``expected`` is the reference's result, or the exception it raised; ``actual`` is what the
    learner's function returned. A predicate that raises counts as not applying.
    """

    message: str
    applies: Callable[[dict, object, object], bool] = field(repr=False)


def fits(hint: Hint, inputs: dict, expected, actual) -> bool:
    """The hint's own predicate, never raising (one that cannot judge does not fit)."""
    try:
        return bool(hint.applies(copy.deepcopy(inputs), expected, actual))
    except Exception:  # noqa: BLE001
        return False


def applies(hint: Hint, inputs: dict, expected, actual) -> bool:
    """Whether ``hint`` names the mistake in ``actual``: its predicate holds for ``actual`` and not for
    the right result too (on a case where the mistake makes no difference, such as "forgot to flip"
    on a symmetric filter, the hint cannot tell what went wrong, so it is not claimed)."""
    try:
        if not hint.applies(copy.deepcopy(inputs), expected, actual):
            return False
        if isinstance(expected, Exception):
            return True
        return not hint.applies(copy.deepcopy(inputs), expected, copy.deepcopy(expected))
    except Exception:  # noqa: BLE001 - a hint that cannot judge this case does not apply
        return False


def unexplained(inputs, actual, expected, fitting, output_names, tol, others=()) -> str:
    """For a tuple result: the first wrong part that no hint of ``fitting`` accounts for, in a sentence
    (the message of a hint of ``others`` that accounts for it, else what is wrong with it), or "".

    A part is accounted for by a hint when putting the right value in its place makes the hint stop
    fitting; a hint that still fits has not looked at that part (forgot to flip, judged on grad_input
    alone, says nothing of a wrong grad_bias)."""
    if not (isinstance(expected, (tuple, list)) and isinstance(actual, (tuple, list))
            and len(actual) == len(expected) > 1):
        return ""
    single = bool(low_precision(inputs))
    for k, (a, e) in enumerate(zip(actual, expected)):
        what = output_names[k] if output_names and len(output_names) == len(expected) else f"the result[{k}]"
        problem = compare(a, e, what, tol, single)
        if problem is None:
            continue
        repaired = list(actual)
        repaired[k] = copy.deepcopy(e)
        repaired = tuple(repaired) if isinstance(actual, tuple) else repaired
        if all(fits(h, inputs, expected, repaired) for h in fitting):
            named = [h.message for h in others if h not in fitting and not fits(h, inputs, expected, repaired)]
            return named[0] if named else problem
    return ""


__all__ = ["Hint", "applies", "fits", "unexplained"]
