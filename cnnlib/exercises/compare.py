"""Comparing a learner's result with the reference's: a tolerance that follows the dtype, whole numbers
kept whole, and a failing entry shown with the digits that differ.

    problem = compare(actual, expected, "the result", Tolerance(rtol=1e-6, atol=1e-8), single=True)

Tolerances (:class:`Tolerance`):

- float64 (the default): ``|yours - expected| <= atol + rtol * |expected|`` with the checker's
  ``rtol`` and ``atol`` (1e-6 and 1e-8 in ``check_function``);
- float32: where the learner's result holds float32 (or float16) numbers, or the case's inputs do,
  ``rtol`` is at least :data:`FLOAT32_RTOL` (1e-4) and ``atol`` at least :data:`FLOAT32_ATOL` times
  the largest ``|expected|`` entry of that result, or of 0.1 if that is smaller (sums of many float32
  terms lose digits relative to the largest of them, not to each entry; and a tiny result such as
  sigmoid's slope far out on a tail, ``s * (1 - s)``, carries the rounding of intermediate values near 1);
- ``float64_because="..."``: the checker needs float64 and says why; a float32 result is then judged
  at the float64 tolerance, and a failure says why float64 is needed.

Whole numbers: where the reference returns an integer (a Python ``int``, a NumPy integer or an integer
array: a size, a count, a shape), the learner's must be an integer type too and equal it exactly;
``3.0`` fails, with a word about ``//`` and ``int(...)``. A shape used to build an array must be a
whole number, and ``np.zeros(3.0)`` raises.
"""
from __future__ import annotations

import itertools
import math
import numbers
import sys
from dataclasses import dataclass

import numpy as np

from cnnlib.exercises.answers import as_numbers

FLOAT32_RTOL = 1e-4   # float32 keeps about 7 digits; a few operations in a row lose one or two more
FLOAT32_ATOL = 1e-5   # times the largest |expected| entry of the result: cancellation in float32 sums
FLOAT32_MIN_SCALE = 0.1  # ... taken as at least 0.1: intermediate values of order 1 (sigmoid's 1 - s at
#                          x = 12 is 6e-6 with an error of 6e-8) lose digits that tiny results cannot show
_LOW = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class Tolerance:
    """The float64 tolerance of a check, and why float64 is needed if float32 is not accepted."""

    rtol: float = 1e-6
    atol: float = 1e-8
    float64_because: str = ""

    def entries(self, e: np.ndarray, single: bool) -> tuple[float, float]:
        """(rtol, atol) for an expected array ``e``, judged at float32 precision if ``single``."""
        if not single or self.float64_because:
            return self.rtol, self.atol
        scale = max(float(np.max(np.abs(e))) if e.size else 0.0, FLOAT32_MIN_SCALE)
        return max(self.rtol, FLOAT32_RTOL), max(self.atol, FLOAT32_ATOL * scale)

    def words(self, e: np.ndarray, single: bool) -> str:
        rtol, atol = self.entries(e, single)
        if rtol == 0 and atol == 0:
            return ""
        at = "float32 precision: " if single and not self.float64_because else ""
        return f" by more than the tolerance ({at}rtol {rtol:g}, atol {atol:.2g})"


def _dtype_name(value) -> str | None:
    """The dtype of an array, a NumPy scalar or a tensor, as a string ("float32"); None for other values."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return str(value.dtype).replace("torch.", "")
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.name
    return None


def low_precision(*values) -> str | None:
    """"float32" (or "float16", "bfloat16") if any array or tensor in ``values`` (in lists, tuples and
    dicts too) holds numbers that coarse; else None."""
    stack = list(values)
    seen = 0
    while stack and seen < 10_000:
        value, seen = stack.pop(), seen + 1
        name = _dtype_name(value)
        if name in _LOW:
            return name
        if isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return None


def _is_integer_expected(expected) -> bool:
    if isinstance(expected, (bool, np.bool_)):
        return False
    if isinstance(expected, numbers.Integral):
        return True
    return isinstance(expected, (np.ndarray, np.generic)) and expected.dtype.kind in "iu"


def _integer_typed(actual) -> bool:
    if isinstance(actual, (bool, np.bool_)):
        return False
    if isinstance(actual, numbers.Integral):
        return True
    name = _dtype_name(actual)
    return name is not None and (name.startswith("int") or name.startswith("uint"))


def _entry(value, dtype: str | None, whole: bool = False) -> str:
    """One number with all its digits: the shortest repr in its own precision (float32 as float32)."""
    if whole and float(value).is_integer() and abs(value) < 2 ** 53:
        return repr(int(value))
    if dtype in _LOW:
        return f"{np.float32(value)!s} ({dtype})"
    return repr(float(value))


def digits_to_show(a: np.ndarray, e: np.ndarray) -> int:
    """Decimal places that show where ``a`` and ``e`` first differ (at least 4, at most 17)."""
    bad = a != e
    if not np.any(bad):
        return 4
    diff = float(np.max(np.abs(a[bad] - e[bad])))
    if diff == 0 or not math.isfinite(diff):
        return 4
    return int(min(17, max(4, math.ceil(-math.log10(diff)) + 1)))


def _as_list(actual, n: int):
    if not isinstance(actual, (tuple, list)) and hasattr(actual, "__len__") and not isinstance(actual, str):
        try:  # at most one item too many, read in a bounded C loop: an endless __iter__ cannot run away
            return list(itertools.islice(actual, n + 1))
        except Exception:  # noqa: BLE001
            pass
    return actual


def compare(actual, expected, what: str, tol: Tolerance, single: bool = False) -> str | None:
    """None if ``actual`` matches ``expected``; else what is wrong, in a sentence.

    ``single``: judge at float32 precision (the case's inputs are float32); a float32 result is judged
    so anyway."""
    if isinstance(expected, (tuple, list)):
        actual = _as_list(actual, len(expected))
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            return (f"{what} should be a tuple of {len(expected)} results, got "
                    f"{type(actual).__name__}" + (f" of length {len(actual)}" if isinstance(actual, (tuple, list)) else ""))
        for k, (a, e) in enumerate(zip(actual, expected)):
            problem = compare(a, e, f"{what}[{k}]", tol, single)
            if problem:
                return problem
        return None
    whole = _is_integer_expected(expected)
    e = np.asarray(expected, dtype=np.float64)
    try:
        a = as_numbers(actual, name=what)
    except AssertionError as err:
        return str(err)
    if a.shape != e.shape:
        return f"{what} has shape {a.shape}, expected shape {e.shape}"
    if whole and not _integer_typed(actual):
        kind = _dtype_name(actual) or type(actual).__name__
        shown = _entry(a.reshape(-1)[0], kind) if a.size else "nothing"
        return (f"{what} should be a whole number of an integer type (int), like the reference's, but it is "
                f"a {kind} ({shown}{', ...' if a.size > 1 else ''}): sizes and counts are ints; use // to divide, "
                f"or int(...)")
    dtype = low_precision(actual)
    single = bool(single or dtype)
    rtol, atol = (0.0, 0.0) if whole else tol.entries(e, single)
    bad = ~(np.abs(a - e) <= atol + rtol * np.abs(e))
    if not np.any(bad):
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    how = "" if whole else tol.words(e, single)
    why = (f" (this check needs float64: {tol.float64_because}; yours is {dtype})"
           if tol.float64_because and dtype else "")
    pair = f"expected {_entry(e[idx], None, whole)}, yours {_entry(a[idx], dtype, whole)}"
    if bad.size == 1:
        return f"{what} differs{how}{why}: {pair}"
    return f"{what}: {int(bad.sum())} of {bad.size} entries differ{how}{why}; the first, at index {idx}: {pair}"


__all__ = ["FLOAT32_RTOL", "FLOAT32_ATOL", "FLOAT32_MIN_SCALE", "Tolerance", "compare", "digits_to_show", "low_precision"]
