"""The one place exercise verdicts are printed, so every notebook speaks the same way."""
from __future__ import annotations

from typing import Callable

import numpy as np

from cnnlib.testing import assert_close


def verdict(answer, check: Callable[[object], None], name: str, success: str = "") -> bool:
    """Run ``check(answer)``; print whether it is right and return True or False.

    ``check`` raises ``AssertionError`` (or ``ValueError``) with a hint when the answer is wrong.
    An answer of ``None`` means the learner has not tried yet.
    """
    if answer is None:
        print(f"{name}: not attempted yet: replace None with your answer and run the cell again.")
        return False
    try:
        check(answer)
    except (AssertionError, ValueError, TypeError) as err:
        print(f"{name}: not quite. {err}")
        return False
    print(f"{name}: correct!" + (f" {success}" if success else ""))
    return True


def expect_close(answer, expected, name: str = "your answer", rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """An assertion for numeric answers, with a message saying which entry is off."""
    expected = np.asarray(expected)
    answer = np.asarray(answer)
    if answer.shape != expected.shape:
        raise AssertionError(f"{name} has shape {answer.shape}, expected {expected.shape}")
    assert_close(answer, expected, rtol=rtol, atol=atol, name=name)


def expect_equal(answer, expected, name: str = "your answer") -> None:
    if answer != expected:
        raise AssertionError(f"{name} is {answer!r}; that is not it, look again at the formula above")
