import numpy as np
import pytest

from cnnlib.exercises.core import expect_close, expect_equal, verdict


def test_none_is_not_attempted(capsys):
    assert verdict(None, lambda a: None, "Exercise 1") is False
    assert "not attempted yet" in capsys.readouterr().out


def test_right_and_wrong_answers(capsys):
    check = lambda a: expect_equal(a, 5, "the output size")  # noqa: E731
    assert verdict(5, check, "Exercise 1", success="5x5.") is True
    assert capsys.readouterr().out.strip() == "Exercise 1: correct! 5x5."
    assert verdict(4, check, "Exercise 1") is False
    out = capsys.readouterr().out
    assert "not quite" in out and "the output size is 4" in out


def test_expect_close_names_the_entry():
    expect_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-12]))
    with pytest.raises(AssertionError, match="shape"):
        expect_close([1.0], [1.0, 2.0])
    with pytest.raises(AssertionError, match="worst at index"):
        expect_close([1.0, 3.0], [1.0, 2.0])
