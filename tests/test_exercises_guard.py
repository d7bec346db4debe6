"""The exercise checkers never hang or escape: whatever a learner's function or answer does (sys.exit, an endless
loop, an endless iterator, a change to a list it was given, a million printed lines), the check ends in a verdict."""
import io
import itertools
import signal
import sys
import threading
import time

import numpy as np
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from cnnlib.exercises import core, guard, nb07
from cnnlib.exercises.core import verdict
from cnnlib.exercises.functions import Case, check_function

LIMIT_S = 0.3  # the per-call time limit in these tests; a hang is over in well under a second


@pytest.fixture(autouse=True)
def fresh_registry_and_short_limit(monkeypatch):
    monkeypatch.setattr(guard, "TIME_LIMIT_S", LIMIT_S)
    core.clear_verdicts()
    yield
    core.clear_verdicts()


def _double(x):
    return 2 * x


CASES = [Case({"x": np.array([1.0, -2.0])}, "two numbers"), Case({"x": np.array([[0.5, 3.0]])}, "a row")]


def _check(fn):
    @core.exercise
    def check_double(f):
        return check_function(f, _double, CASES, "Exercise 7")
    return check_double(fn)


class Mine(BaseException):
    """A learner's own exception class derived from BaseException, not Exception."""


def _exits(x):
    sys.exit(0)


def _raises_system_exit(x):
    raise SystemExit("bye")


def _raises_mine(x):
    raise Mine("mine")


def _raises_generator_exit(x):
    raise GeneratorExit


@pytest.mark.parametrize("fn, name", [(_exits, "SystemExit"), (_raises_system_exit, "SystemExit"),
                                      (_raises_mine, "Mine"), (_raises_generator_exit, "GeneratorExit")])
def test_a_base_exception_from_the_learner_is_a_verdict(fn, name, capsys):
    assert _check(fn) is False
    out = capsys.readouterr().out
    assert f"{fn.__name__} raised {name}" in out
    assert core.latest("double").status == "error"


def test_sys_exit_is_explained(capsys):
    _check(_exits)
    assert "sys.exit" in capsys.readouterr().out


def test_keyboard_interrupt_still_stops_the_check():
    def interrupted(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _check(interrupted)


def test_a_numeric_check_that_exits_is_a_verdict(capsys):
    class Exits:
        def __float__(self):
            sys.exit(3)

    assert verdict(Exits(), lambda a: float(a), "Exercise 9") is False
    assert "SystemExit" in capsys.readouterr().out


def test_an_escaping_base_exception_from_a_checker_is_caught(capsys):
    @core.exercise
    def check_leaky(answer):
        raise Mine("from inside the checker")

    assert check_leaky(1) is False
    assert "could not judge this answer (Mine" in capsys.readouterr().out


def _spins(x):
    while True:
        pass


def _sleeps(x):
    time.sleep(60)


def _swallows_exceptions(x):
    while True:
        try:
            time.sleep(60)
        except Exception:  # noqa: BLE001 - what a learner might write; the time limit is not an Exception
            pass


@pytest.mark.parametrize("fn", [_spins, _sleeps, _swallows_exceptions])
def test_a_call_that_never_returns_gets_a_verdict_in_time(fn, capsys):
    start = time.monotonic()
    assert _check(fn) is False
    assert time.monotonic() - start < 10 * LIMIT_S
    out = capsys.readouterr().out
    assert f"{fn.__name__} did not return within {LIMIT_S:g} s" in out
    assert "The smallest case it fails (case 1 of 2, two numbers)" in out
    assert core.latest("double").status == "error"


def test_the_time_limit_also_works_outside_the_main_thread(capsys):
    results = []
    worker = threading.Thread(target=lambda: results.append(_check(_spins)), daemon=True)
    worker.start()
    worker.join(timeout=30 * LIMIT_S)
    assert not worker.is_alive() and results == [False]
    assert f"did not return within {LIMIT_S:g} s" in capsys.readouterr().out


def test_the_previous_alarm_handler_and_timer_are_put_back(capsys):
    fired = []

    def previous(signum, frame):
        fired.append(signum)

    old = signal.signal(signal.SIGALRM, previous)
    try:
        signal.setitimer(signal.ITIMER_REAL, 20 * LIMIT_S)
        assert _check(_spins) is False and _check(_double) is True
        assert signal.getsignal(signal.SIGALRM) is previous
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left < 20 * LIMIT_S  # still armed, for what was left of it
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        time.sleep(0.2)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_a_slow_numeric_answer_gets_a_verdict(capsys):
    class Slow:
        def __float__(self):
            while True:
                pass

    assert verdict(Slow(), lambda a: float(a), "Exercise 9") is False
    assert f"longer than {LIMIT_S:g} s" in capsys.readouterr().out


# -- endless iterators -------------------------------------------------------------------------------------

def test_check_receptive_fields_refuses_an_endless_iterator(capsys):
    start = time.monotonic()
    assert nb07.check_receptive_fields(lambda layers: itertools.count(1)) is False
    assert time.monotonic() - start < 10 * LIMIT_S
    out = capsys.readouterr().out
    assert "an iterator that never ends" in out
    assert core.latest("receptive_fields").status == "fail"


def test_a_finite_generator_is_read_as_a_list(capsys):
    def receptive_fields(layers):
        r, j = 1, 1
        for k, s in layers:
            r, j = r + (k - 1) * j, j * s
            yield r

    assert nb07.check_receptive_fields(receptive_fields) is True


def test_an_iterable_that_lies_about_its_length_gets_a_verdict(capsys):
    class Liar:
        def __len__(self):
            return 1

        def __iter__(self):
            return itertools.count(1)

    assert nb07.check_receptive_fields(lambda layers: Liar()) is False
    assert core.latest("receptive_fields").status == "fail"


@pytest.mark.parametrize("answer", [itertools.count(1), itertools.repeat(5)])
def test_a_numeric_answer_that_never_ends_gets_a_verdict(answer, capsys):
    assert nb07.check_lenet5_params(answer) is False
    assert "never ends" in capsys.readouterr().out


def test_a_numeric_answer_from_a_finite_generator_is_read(capsys):
    assert core.verdict((v for v in [5]), lambda a: core.expect_equal(a, 5), "Exercise 1") is True


# -- lists changed in place --------------------------------------------------------------------------------

def _rf(layers):
    r, j, out = 1, 1, []
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
        out.append(r)
    return out


def _appends(layers):
    result = _rf(layers)
    layers.append((1, 1))
    return result


def _pops(layers):
    result = _rf(layers)
    layers.pop()
    return result


def _replaces_a_row(layers):
    result = _rf(layers)
    layers[0] = (0, 0)
    return result


@pytest.mark.parametrize("fn", [_appends, _pops, _replaces_a_row])
def test_a_list_changed_in_place_is_caught(fn, capsys):
    assert nb07.check_receptive_fields(fn) is False
    assert "changed its input layers in place" in capsys.readouterr().out


def test_a_nested_list_changed_in_place_is_caught(capsys):
    def scale(rows):
        rows[0][0] = 99.0
        return [[2 * v for v in row] for row in rows]

    cases = [Case({"rows": [[1.0, 2.0], [3.0, 4.0]]})]
    assert check_function(scale, lambda rows: [[2 * v for v in row] for row in rows], cases, "Exercise 8") is False
    assert "changed its input rows in place" in capsys.readouterr().out


def test_the_reference_itself_passes_with_list_inputs(capsys):
    assert nb07.check_receptive_fields(_rf) is True


# -- prints ------------------------------------------------------------------------------------------------

def _prints_a_million_lines(x):
    for i in range(1_000_000):
        print("line", i)
    return 3 * x


def test_a_flood_of_prints_is_captured_and_cut(monkeypatch, capsys):
    monkeypatch.setattr(guard, "TIME_LIMIT_S", 60.0)
    assert _check(_prints_a_million_lines) is False
    out = capsys.readouterr().out
    assert len(out) < 5_000
    assert "line 0\n" in out and "line 999999" not in out
    assert "output cut" in out and "1,000,000 lines" in out
    assert "output cut" in core.latest("double").message


def test_one_huge_line_is_cut_by_characters():
    out = guard.CappedOutput(lines=20, chars=100)
    out.write("x" * 10_000_000)
    assert out.kept == "x" * 100 and out.cut and out.lines == 1
    assert out.shown().endswith("(output cut: 1 line, 10,000,000 characters in all; the first 1 line shown)")


def test_output_within_the_limits_is_kept_whole():
    out = guard.CappedOutput(lines=2, chars=100)
    out.write("a\n")
    out.write("b")
    assert out.shown() == "  a\n  b" and not out.cut and out.lines == 2
    out.write("\n")
    assert not out.cut
    out.write("c")
    assert out.cut and out.lines == 3 and out.shown().startswith("  a\n  b\n  ... (output cut: 3 lines")


def test_prints_of_a_failing_case_are_shown(capsys):
    def chatty(x):
        print("my shape is", x.shape)
        return 3 * x

    assert _check(chatty) is False
    out = capsys.readouterr().out
    assert "my shape is (2,)" in out and "output cut" not in out


def test_prints_of_a_passing_function_are_not_shown(capsys):
    def chatty(x):
        print("debugging", x.shape)
        return 2 * x

    assert _check(chatty) is True
    out = capsys.readouterr().out
    assert "debugging" not in out
    assert "correct on all 2 cases!" in out and "printed" in out


def test_a_function_that_changes_sys_stdout_does_not_keep_it(capsys):
    saved = sys.stdout

    def rebinds(x):
        sys.stdout = io.StringIO()  # what a learner might do
        return 2 * x

    assert _check(rebinds) is True
    assert sys.stdout is saved


# -- in a real Jupyter kernel, where the checks run for a learner ------------------------------------------

def test_in_a_jupyter_kernel_a_hang_and_sys_exit_get_verdicts():
    nb = new_notebook(cells=[
        new_code_cell("import signal\nfrom cnnlib.exercises import guard\n"
                      "from cnnlib.exercises.nb07 import check_receptive_fields\nguard.TIME_LIMIT_S = 0.5"),
        new_code_cell("def receptive_fields(layers):\n    while True:\n        pass\n\n"
                      "_ = check_receptive_fields(receptive_fields)"),
        new_code_cell("import sys\n\ndef receptive_fields(layers):\n    sys.exit(1)\n\n"
                      "_ = check_receptive_fields(receptive_fields)"),
        new_code_cell("print(signal.getsignal(signal.SIGALRM) is signal.SIG_DFL,\n"
                      "      signal.getitimer(signal.ITIMER_REAL))")])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    texts = ["".join(o.get("text", "") for o in cell.outputs) for cell in nb.cells]
    assert "receptive_fields did not return within 0.5 s" in texts[1]
    assert "receptive_fields raised SystemExit: 1 (sys.exit()" in texts[2]
    assert texts[3].strip() == "True (0.0, 0.0)"
