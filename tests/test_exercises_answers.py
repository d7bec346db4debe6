"""cnnlib.exercises.answers: any sequence type is read, tolerances fit how an answer is found, odd answers
get a sentence (never another exception), and the notebooks' checkers accept what the issue says they rejected."""
import importlib
import inspect
import re

import numpy as np
import pytest
import torch

from cnnlib.exercises import core
from cnnlib.exercises.answers import as_count, as_number, as_numbers, expect_by_hand, expect_close, expect_equal, is_close

CONTAINERS = [list, tuple, np.array, torch.tensor, lambda v: torch.tensor(v, dtype=torch.float32)]


@pytest.mark.parametrize("make", CONTAINERS)
def test_every_sequence_type_reads_the_same(make):
    assert as_numbers(make([1.5, 2.0]), (2,)).tolist() == [1.5, 2.0]
    assert as_numbers(make([[1, 2], [3, 4]]), (2, 2)).dtype == np.float64


def test_numbers_and_counts():
    assert as_number(np.float32(2.5)) == 2.5 and as_number([1.84]) == 1.84 and as_number(torch.tensor([3.0])) == 3.0
    assert as_count(9280.0) == 9280 and as_count(np.int64(7)) == 7 and as_count(torch.tensor(12)) == 12
    assert as_count(10 ** 30) == 10 ** 30  # a Python int stays exact
    assert as_numbers(torch.Size([4, 10, 32, 32]), (4,), integer=True).tolist() == [4, 10, 32, 32]
    with pytest.raises(AssertionError, match="should be a whole number"):
        as_count(9280.5)
    with pytest.raises(AssertionError, match=r"got 61706\.0001"):  # enough digits to see it is not whole
        as_count(61706.0001)


def test_a_count_given_as_an_exact_float_is_accepted_with_a_note(capsys):
    from cnnlib.exercises.nb07 import check_lenet5_params
    assert check_lenet5_params(61706.0) is True
    out = capsys.readouterr().out
    assert "correct!" in out and "(Your 61706.0 is a float, read as the whole number 61706" in out
    assert check_lenet5_params(61706) is True
    assert "float" not in capsys.readouterr().out  # an int gets no note
    assert check_lenet5_params(61706.5) is False
    assert "should be a whole number" in capsys.readouterr().out


def test_by_hand_tolerances_are_worded_in_percent_never_zero():
    for rtol, words in [(0.01, "within 1%"), (5e-3, "within 0.5%"), (1e-3, "within 0.1%"), (1e-4, "within 0.01%"),
                        (0.015, "within 1.5%")]:
        with pytest.raises(AssertionError) as err:
            expect_by_hand(2.0, 1.0, rtol=rtol)
        assert f"({words})" in str(err.value) and "0%)" not in str(err.value).replace(words, "")
    with pytest.raises(AssertionError, match=r"\(to 2 significant figures, or within 0\.5%\)"):
        expect_by_hand(0.5, 0.4, rtol=5e-3, sig_figs=2)


ODD = [("abc", "not a string"), (True, "truth value"), (10 ** 400, "too large"), ([1, 10 ** 400], "too large"),
       (float("nan"), "nan or inf"), ([1.0, float("inf")], "nan or inf"), (print, "a function"),
       ([[1, 2], [3]], "different lengths"), ({"a": 1}, "a dict"), ([None, 1], "None"), (1 + 2j, "complex"),
       (None, "is None"), (torch.tensor([True]), "truth value"), (np.array(["1"]), "text")]


@pytest.mark.parametrize("answer, words", ODD)
def test_odd_answers_get_a_sentence(answer, words):
    with pytest.raises(AssertionError, match=words):
        as_numbers(answer, name="your answer")


def test_shapes_are_checked_with_the_words_a_learner_needs():
    with pytest.raises(AssertionError, match="should be 2 numbers, as a tuple"):
        as_numbers([1, 2, 3], (2,))
    with pytest.raises(AssertionError, match="should be a single number"):
        as_number([1, 2])
    with pytest.raises(AssertionError, match=r"should have shape \(2, 3\), got shape \(3, 2\)"):
        as_numbers(np.zeros((3, 2)), (2, 3))


def test_expect_close_is_tight_and_never_reveals_the_answer():
    expect_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-12]))
    with pytest.raises(AssertionError, match="should be 2 numbers"):
        expect_close([1.0], [1.0, 2.0])
    with pytest.raises(AssertionError) as err:
        expect_close([1.0, 3.0], [1.0, 2.718281])
    assert "1 of 2 entries are off" in str(err.value) and "index (1,)" in str(err.value)
    assert "2.718" not in str(err.value)
    with pytest.raises(AssertionError):
        expect_close(1.84, 1.84235)  # by code, 1.84 is not close enough


def test_expect_close_judges_a_float32_answer_at_float32_precision():
    exact = np.exp(np.array([60.1234567, 75.7654321]))
    computed_in_float32 = torch.exp(torch.tensor([60.1234567, 75.7654321]))  # torch's default dtype
    expect_close(computed_in_float32, exact)
    with pytest.raises(AssertionError, match="float32 precision"):
        expect_close(computed_in_float32 * 1.001, exact)
    with pytest.raises(AssertionError, match="relative tolerance 1e-06"):
        expect_close(exact * (1 + 1e-5), exact)  # a float64 answer keeps the tight tolerance


def test_expect_by_hand_tolerances():
    expect_by_hand(1.84, 1.84235)                      # within 1%
    with pytest.raises(AssertionError, match="within 1%"):
        expect_by_hand(1.8, 1.84235)
    expect_by_hand(1.7, 1.7407, sig_figs=2)            # 2 significant figures
    expect_by_hand(1.74, 1.7407, sig_figs=2)
    with pytest.raises(AssertionError, match="2 significant figures"):
        expect_by_hand(1.8, 1.7407, sig_figs=2)
    expect_by_hand([0.8, 0.46, 0.06], [0.8, 0.46, 0.062], decimals=2)
    with pytest.raises(AssertionError, match="2 decimal places"):
        expect_by_hand([0.8, 0.5, 0.06], [0.8, 0.46, 0.062], decimals=2)
    expect_by_hand(0.0, 0.0, sig_figs=2)


def test_expect_equal_reads_counts_and_shapes():
    expect_equal(np.int64(9280), 9280)
    expect_equal(np.array([4, 10, 32, 32]), (4, 10, 32, 32))
    with pytest.raises(AssertionError, match="23,040,000; that is not it"):
        expect_equal(23_040_000, 23_040_100, "the count")


def test_is_close_never_raises():
    assert is_close([1, 2], np.array([1.0, 2.0]))
    assert not is_close([1, 2], [1, 2, 3]) and not is_close("x", 1) and not is_close(None, None)


# -- the notebooks' checkers: the fixes the issue asks for --------------------------------------
FIXED = [  # (module, checker, a right answer the checkers rejected before)
    ("nb02", "check_stride_padding", np.array([2, 1])),
    ("nb02", "check_stride_padding", torch.tensor([2, 1])),
    ("nb02", "check_output_shape", np.array([4, 10, 32, 32])),
    ("nb03", "check_pool_layer", np.array([13, 13, 256, 0])),
    ("nb04", "check_multiclass_hinge", np.array([1.9, 0.875])),
    ("nb04", "check_outlier_estimates", np.array([4.0, 10.0])),
    ("nb08", "check_alexnet_conv2", np.array([27, 27, 256, 614_656])),
    ("nb07", "check_lenet5_params", np.int64(61_706)),
    ("nb04", "check_cross_entropy", 1.84),             # by hand, 1.84235 rounded
    ("nb09", "check_macs_ratio", 1.7),                  # "1.7x", as its success line says
    ("nb06", "check_momentum_steps", (0.8, 0.46, 0.06)),  # 0.062 to two decimals
    ("nb06", "check_adam_moments", torch.tensor([-0.181, 1.75])),
    ("nb01", "check_fc_parameters", 23_040_100.0),
]


@pytest.mark.parametrize("module, name, answer", FIXED)
def test_right_answers_of_any_type_are_accepted(module, name, answer, capsys):
    checker = getattr(importlib.import_module(f"cnnlib.exercises.{module}"), name)
    assert checker(answer) is True, capsys.readouterr().out


def _checkers():
    for module in ("nb01", "nb02", "nb03", "nb04", "nb05", "nb06", "nb07", "nb08", "nb09"):
        mod = importlib.import_module(f"cnnlib.exercises.{module}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("check_") and fn.__module__ == mod.__name__:
                yield pytest.param(fn, id=f"{module}.{name}")


@pytest.mark.parametrize("checker", list(_checkers()))
def test_every_checker_is_registered_and_gives_odd_answers_a_verdict(checker, capsys):
    assert getattr(checker, "__exercise__", None) == checker.__name__[len("check_"):]
    for answer, _ in ODD + [([1, 2, 3], ""), (np.zeros((7, 7)), ""), (torch.ones(3), ""), (-1, ""), ([], "")]:
        result = checker(answer)
        out = capsys.readouterr().out
        assert result is False, (answer, out)
        # a verdict line: the exercise's title (numeric "Exercise N", or a function checker's own), then why
        # (after whatever a learner's function, such as ``print``, printed itself)
        assert re.search(r"^[A-Z][^:\n]*: (not quite|not attempted)", out, re.M), out
        assert "could not" not in out, out  # every odd answer gets a sentence written for it
        assert "within 0%" not in out, out
        assert core.latest(checker.__exercise__).status in ("fail", "not attempted")


def test_ask_leads_the_message_when_an_answer_cannot_be_read():
    with pytest.raises(AssertionError, match=r"^give two numbers: \(a, b\): your answer should be 2 numbers"):
        as_numbers([1, 2, 3], (2,), ask="give two numbers: (a, b)")
    assert as_numbers((1, 2), (2,), ask="give two numbers: (a, b)").tolist() == [1.0, 2.0]
