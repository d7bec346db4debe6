"""cnnlib.exercises.core: verdicts are printed as one line, recorded under the checker's id, never raised."""
import json

import numpy as np
import pytest

from cnnlib.exercises import core
from cnnlib.exercises.answers import expect_equal
from cnnlib.exercises.core import exercise, verdict


@pytest.fixture(autouse=True)
def fresh_registry():
    core.clear_verdicts()
    yield
    core.clear_verdicts()


@exercise
def check_output_size(answer) -> bool:
    return verdict(answer, lambda a: expect_equal(a, 5, "the output size"), "Exercise 1", success="5x5.")


def test_none_is_not_attempted(capsys):
    assert check_output_size(None) is False
    assert "Exercise 1: not attempted yet" in capsys.readouterr().out
    assert core.latest("output_size").status == "not attempted"


def test_right_and_wrong_answers_are_printed_and_recorded(capsys):
    assert check_output_size(5) is True
    assert capsys.readouterr().out.strip() == "Exercise 1: correct! 5x5."
    assert core.latest("output_size") == core.Verdict("output_size", "pass", "Exercise 1: correct! 5x5.")
    assert check_output_size(4) is False
    out = capsys.readouterr().out
    assert "not quite" in out and "the output size is 4" in out
    assert [v.status for v in core.verdicts()] == ["fail"]  # the latest verdict per exercise


def test_exercise_id_is_the_name_without_check():
    assert check_output_size.__exercise__ == "output_size"
    assert core.exercise_id("check_conv2d_forward") == "conv2d_forward"
    with pytest.raises(ValueError, match="must start with 'check_'"):
        exercise(lambda a: True)


def test_a_checker_that_crashes_still_gives_a_verdict(capsys):
    @exercise
    def check_buggy(answer):
        raise KeyError("oops")

    assert check_buggy(1) is False
    assert "could not judge this answer (KeyError" in capsys.readouterr().out
    assert core.latest("buggy").status == "fail"

    @exercise
    def check_silent(answer):
        return True

    assert check_silent(1) is False
    assert core.latest("silent").status == "error"


def test_a_check_that_raises_something_else_is_a_fail_not_a_traceback(capsys):
    assert verdict(object(), lambda a: float(a), "Exercise 9") is False
    assert "could not be read (TypeError" in capsys.readouterr().out


def test_record_to_appends_json_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(core, "_LOG", [])
    log = tmp_path / "verdicts.jsonl"
    core.record_to(log)
    check_output_size(None)
    check_output_size(5)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["exercise"], r["status"]) for r in rows] == [("output_size", "not attempted"), ("output_size", "pass")]


def test_emit_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="status must be one of"):
        core.emit("Exercise 1", "passed", "yes")


def test_mine_or_reference(capsys):
    def mine(x):
        return x

    def reference(x):
        return np.asarray(x)

    assert core.mine_or_reference("output_size", mine, reference) is reference
    assert "Using cnnlib's reference: yours has not passed" in capsys.readouterr().out
    check_output_size(5)
    assert core.mine_or_reference("output_size", mine, reference) is mine
