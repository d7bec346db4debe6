"""The learner's own gradient check (cnnlib.exercises.selfcheck): a verdict in words, never a traceback."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib.exercises.selfcheck import gradient_check_yours

X = np.array([[0.7, -1.3, 2.1], [-0.4, 1.6, -2.2]])
G = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def relu(x):
    return np.maximum(x, 0.0)


def test_a_right_gradient_matches_without_printing_its_round_off(capsys):
    x = X.copy()
    gradient_check_yours(lambda: G * (x > 0), lambda: relu(x), x, grad_output=G, good_below=1e-6)
    out = capsys.readouterr().out
    assert "below your good_below = 1e-06: your gradient matches" in out and "e-1" not in out


def test_a_wrong_gradient_is_flagged_with_its_error(capsys):
    x = X.copy()
    gradient_check_yours(lambda: 2 * G * (x > 0), lambda: relu(x), x, grad_output=G, good_below=1e-6)
    assert "relative error 0.33, above your good_below = 1e-06" in capsys.readouterr().out


@pytest.mark.parametrize("good_below, says", [
    (None, "set good_below to the largest relative error"),
    (0.1, "too lenient"), (1e-15, "stricter than centred differences can be"),
    (-1.0, "a small positive number"), ("1e-6", "a small positive number")])
def test_the_learners_threshold_is_judged(good_below, says, capsys):
    gradient_check_yours(lambda: G * (X > 0), lambda: relu(X), X.copy(), grad_output=G, good_below=good_below)
    assert says in capsys.readouterr().out


def stub(*_):
    raise NotImplementedError


@pytest.mark.parametrize("analytic, x, says", [
    (lambda: stub(), X.copy(), "write your function first"),
    (lambda: 1 / 0, X.copy(), "raised ZeroDivisionError"),
    (lambda: G[0], X.copy(), "a gradient has the shape of x, (2, 3)"),
    (lambda: G, X.astype(np.float32), "use float64 inputs")])
def test_a_stub_a_crash_a_wrong_shape_and_float32_get_words_not_tracebacks(analytic, x, says, capsys):
    gradient_check_yours(analytic, lambda: relu(x), x, grad_output=G, good_below=1e-6)
    assert says in capsys.readouterr().out
