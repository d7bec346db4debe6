"""Reading and judging numeric answers: any sequence type, and a tolerance that fits how they are found.

Every helper raises ``AssertionError`` with a sentence a learner can act on, and nothing else,
whatever the answer is: a list, a tuple, a NumPy array or scalar, a torch tensor (on any device),
``torch.Size``; or something odd (a string, ``True``, ``10**400``, NaN, a function, a ragged list,
a tensor of the wrong shape). Used inside a checker given to ``core.verdict``, every answer gets
a verdict.

The messages never print the expected value: a wrong answer must not give the right one away.

Tolerances:

- ``expect_close``: an answer computed by code, so it must agree tightly (``rtol=1e-6``).
- ``expect_by_hand``: an answer worked out on paper, right within 1% by default; with
  ``sig_figs=2`` also any answer that agrees with the exact value rounded to 2 significant figures
  (1.7 for 1.7407), with ``decimals=2`` to 2 decimal places (0.06 for 0.062).
- ``expect_equal``: a count or a shape, exact (9280.0 and ``np.int64(9280)`` are 9280 too).
"""
from __future__ import annotations

import contextvars
import numbers
import sys

import numpy as np

_EXACT_INT = 2 ** 53  # beyond this a float64 no longer holds every whole number


def _plain(answer):
    """Tensors (anywhere inside lists and tuples) as NumPy arrays; everything else unchanged."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(answer, torch.Tensor):
        t = answer.detach().cpu()
        if t.dtype == torch.bool or t.is_complex():
            return t.numpy()
        return t.to(torch.float64).numpy()
    if isinstance(answer, (tuple, list)):
        return [_plain(a) for a in answer]
    return answer


def _kind(value) -> str:
    """A few words for what a non-number is ("a string", "a function", ...)."""
    if value is None:
        return "None"
    if isinstance(value, (str, bytes)):
        return f"text ({value!r:.40})"
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return f"{value} (a truth value)"
    if callable(value):
        return "a function (call it and give what it returns)"
    if isinstance(value, complex) or isinstance(value, np.complexfloating):
        return "a complex number"
    return f"a {type(value).__name__}"


def _float(value, name: str, verb: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{name} {verb} {_kind(value)}; give numbers")
    try:
        return float(value)
    except OverflowError:
        raise AssertionError(f"{name} {verb} a number too large to compute with "
                             f"(about 10**{len(str(abs(int(value)))) - 1})") from None


def _shape_message(name: str, got: tuple, want: tuple) -> str:
    if want == ():
        return f"{name} should be a single number, got shape {got}"
    if len(want) == 1:
        example = ", ".join("abcdefgh"[i] for i in range(min(want[0], 8)))
        return f"{name} should be {want[0]} numbers, as a tuple ({example}) or a list; got shape {got}"
    return f"{name} should have shape {want}, got shape {got}"


def as_numbers(answer, shape=None, name: str = "your answer", integer: bool = False, ask: str = "") -> np.ndarray:
    """``answer`` as a float64 array (int64 with ``integer=True``), checked and of ``shape`` if given.

    A single-element answer is accepted where one number is expected (``[1.84]``, ``tensor([1.84])``).
    ``ask`` says what the question wants ("give two numbers: (m_hat, v_hat)"); it leads the message
    when the answer cannot be read.
    """
    try:
        return _as_numbers(answer, shape, name, integer)
    except AssertionError as err:
        if ask:
            raise AssertionError(f"{ask}: {err}") from None
        raise


def _as_numbers(answer, shape, name: str, integer: bool) -> np.ndarray:
    if answer is None:
        raise AssertionError(f"{name} is None: replace it with your answer")
    if isinstance(answer, (str, bytes)):
        raise AssertionError(f"{name} is {_kind(answer)}; give a number, not a string")
    plain = _plain(answer)
    try:
        arr = np.asarray(plain)
    except (ValueError, TypeError):
        raise AssertionError(f"{name} mixes sequences of different lengths; give a flat list of numbers "
                             f"(or a table whose rows all have the same length)") from None
    verb = "is" if arr.ndim == 0 else "contains"
    floats = arr.dtype.kind == "f" or (arr.dtype.kind == "O" and any(
        isinstance(v, (float, np.floating)) for v in arr.reshape(-1)))
    if _was_float(answer):
        floats = True
    if arr.dtype.kind in "iuf":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind == "O":
        arr = np.array([_float(v, name, verb) for v in arr.reshape(-1)], dtype=np.float64).reshape(arr.shape)
    else:
        example = arr.reshape(-1)[0].item() if arr.size else "nothing"
        raise AssertionError(f"{name} {verb} {_kind(example)}; give numbers")
    if shape is not None:
        shape = tuple(shape)
        if arr.shape != shape:
            if shape == () and arr.size == 1:
                arr = arr.reshape(())
            else:
                raise AssertionError(_shape_message(name, arr.shape, shape))
    if not np.all(np.isfinite(arr)):
        raise AssertionError(f"{name} contains nan or inf; give finite numbers")
    if integer:
        if np.any(np.abs(arr) >= _EXACT_INT):
            raise AssertionError(f"{name} contains a whole number too large to check exactly")
        if np.any(arr != np.round(arr)):
            what = "a whole number" if arr.ndim == 0 else "whole numbers"
            raise AssertionError(f"{name} should be {what} (a count or a size), got "
                                 f"{np.array2string(arr, floatmode='unique', separator=', ', threshold=50)}: "
                                 f"check for a division (/) that should not leave a remainder")
        if floats:
            flat = [repr(float(v)) for v in arr.reshape(-1)[:4]] + (["..."] if arr.size > 4 else [])
            if arr.size == 1:
                note(f"your {flat[0]} is a float, read as the whole number {int(arr.reshape(-1)[0])}: "
                     f"a count is an int, and int(...) or // keeps it one")
            else:
                note(f"your ({', '.join(flat)}) are floats, read as whole numbers: "
                     f"sizes are ints, and int(...) or // keeps them so")
        arr = arr.astype(np.int64)
    return arr


def _was_float(answer) -> bool:
    """Whether the answer as given holds floats (a float tensor reads as float64 like any other)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(answer, torch.Tensor):
        return answer.is_floating_point()
    if isinstance(answer, (tuple, list)):
        return any(_was_float(a) for a in answer)
    return isinstance(answer, (float, np.floating))


def as_number(answer, name: str = "your answer") -> float:
    """One number as a float (from a Python or NumPy number, or a one-element list, array or tensor)."""
    return float(as_numbers(answer, (), name))


def as_count(answer, name: str = "your answer") -> int:
    """A whole number, exactly: Python ints of any size stay exact, 9280.0 is 9280 (with a note), 9280.5
    is refused."""
    if isinstance(answer, numbers.Integral) and not isinstance(answer, (bool, np.bool_)):
        return int(answer)
    return int(as_numbers(answer, (), name, integer=True))


# Notes on how an answer was read ("61706.0 was read as the whole number 61,706"), collected while
# core.verdict runs a check and printed after "correct!".
NOTES: contextvars.ContextVar[list | None] = contextvars.ContextVar("cnnlib_answer_notes", default=None)


def note(text: str) -> None:
    """Add ``text`` to the notes of the check that is running (nothing outside core.verdict)."""
    notes = NOTES.get()
    if notes is not None and text not in notes:
        notes.append(text)


def _show(a) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    return np.array2string(a, precision=6, separator=", ", threshold=50)


def _judge(a: np.ndarray, ok: np.ndarray, name: str, how: str) -> None:
    if np.all(ok):
        return
    if a.ndim == 0:
        raise AssertionError(f"{name} is {_show(a)}, which is not the right value {how}")
    idx = tuple(int(i) for i in np.argwhere(~ok)[0])
    raise AssertionError(f"{name}: {int(np.sum(~ok))} of {a.size} entries are off {how}, "
                         f"the first at index {idx} (yours is {_show(a[idx])})")


def expect_close(answer, expected, name: str = "your answer", rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """An answer computed by code: the shape of ``expected`` and every entry within ``atol + rtol*|expected|``;
    a float32 answer (a torch tensor's default) at float32 precision (:mod:`cnnlib.exercises.compare`)."""
    from cnnlib.exercises.compare import Tolerance, low_precision  # compare reads answers with this module

    e = np.asarray(expected, dtype=np.float64)
    a = as_numbers(answer, e.shape, name)
    how = f"(relative tolerance {rtol:g})"
    if low_precision(answer):
        rtol, atol = Tolerance(rtol, atol).entries(e, single=True)
        how = f"(relative tolerance {rtol:g}, float32 precision)"
    _judge(a, np.abs(a - e) <= atol + rtol * np.abs(e), name, how)


def _round_to(e: np.ndarray, unit: np.ndarray) -> np.ndarray:
    return np.round(e / unit) * unit


def expect_by_hand(answer, expected, name: str = "your answer", rtol: float = 0.01,
                   sig_figs: int | None = None, decimals: int | None = None) -> None:
    """An answer worked out by hand: right within ``rtol`` (1%), or to ``sig_figs`` significant
    figures or ``decimals`` decimal places of the exact value where the question asks for them."""
    e = np.asarray(expected, dtype=np.float64)
    a = as_numbers(answer, e.shape, name)
    ok = np.abs(a - e) <= rtol * np.abs(e)
    ways = []
    slack = 1 + 1e-9  # 0.065 must count as 0.5 units from 0.06 despite binary rounding
    if sig_figs is not None:
        exponent = np.floor(np.log10(np.where(e == 0, 1.0, np.abs(e))))
        unit = 10.0 ** (exponent - sig_figs + 1)
        ok |= np.abs(a - _round_to(e, unit)) <= 0.5 * unit * slack
        ways.append(f"to {sig_figs} significant figures")
    if decimals is not None:
        unit = np.full_like(e, 10.0 ** -decimals)
        ok |= np.abs(a - _round_to(e, unit)) <= 0.5 * unit * slack
        ways.append(f"to {decimals} decimal places")
    if rtol > 0:
        ways.append(f"within {percent(rtol)}")
    _judge(a, ok, name, "(" + ", or ".join(ways) + ")" if ways else "(exactly)")


def percent(fraction: float) -> str:
    """A relative tolerance in words: 0.01 -> "1%", 5e-3 -> "0.5%", 1e-3 -> "0.1%" (never "0%")."""
    return f"{fraction * 100:.2g}%"


def expect_equal(answer, expected, name: str = "your answer") -> None:
    """A count (an int) or a shape (a tuple of ints), exactly; any sequence or number type is read."""
    if isinstance(expected, numbers.Integral):
        got = as_count(answer, name)
    elif isinstance(expected, tuple) and all(isinstance(v, numbers.Integral) for v in expected):
        got = tuple(int(v) for v in as_numbers(answer, (len(expected),), name, integer=True))
    else:
        got = answer
    if got != expected:
        shown = f"{got:,}" if isinstance(got, int) and abs(got) >= 10_000 else repr(got)
        raise AssertionError(f"{name} is {shown}; that is not it, look again at the formula above")


def is_close(a, b, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True if ``a`` and ``b`` read as numbers of the same shape and agree; False (never an error) otherwise.

    Meant for hints: ``is_close(actual + inputs["b"][:, None, None], expected)``. Where either holds
    float32 numbers (a learner who computes in float32), they agree at float32 precision, as
    ``check_function`` judges results (:mod:`cnnlib.exercises.compare`): a hint must name the mistake
    of a float32 answer too.
    """
    from cnnlib.exercises.compare import Tolerance, low_precision  # compare reads answers with this module

    try:
        x = as_numbers(a, name="a")
        y = as_numbers(b, name="b")
    except AssertionError:
        return False
    if x.shape != y.shape:
        return False
    if low_precision(a, b):
        rtol, atol = Tolerance(rtol, atol).entries(y, single=True)
    return bool(np.all(np.abs(x - y) <= atol + rtol * np.abs(y)))


__all__ = ["as_numbers", "as_number", "as_count", "expect_close", "expect_by_hand", "expect_equal", "is_close", "note",
           "percent", "NOTES"]
