"""The grader's stages without a sandbox: the wire format, student ids, extraction by AST, judging recorded
outputs with the released checker, points on @exercise, and the results file."""
from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from cnnlib.exercises.core import exercise
from cnnlib.exercises.examples import check_relu_backward
from cnnlib.grading import wire
from cnnlib.grading.extract import extract
from cnnlib.grading.judge import judge
from cnnlib.grading.release import identify, load_release
from cnnlib.grading.report import Results
from cnnlib.grading.run import Outputs
from exercise_notebooks import instructor_notebook, write


def test_values_cross_the_wire_without_pickle(tmp_path, capsys):
    class Evil:
        def __reduce__(self):
            return (print, ("unpickled!",))

    value = (np.arange(6.0).reshape(2, 3), [1, 2.5, None, "x"], np.float32(2), {"k": True}, Evil(),
             np.array([Evil()], dtype=object))
    arrays: dict = {}
    wire.save(tmp_path, "v", wire.encode(value, arrays), arrays)
    tree, loaded = wire.load(tmp_path, "v")
    back = wire.decode(tree, loaded)
    assert np.array_equal(back[0], value[0]) and back[1] == [1, 2.5, None, "x"]
    assert back[2] == 2 and back[2].dtype == np.float32 and back[3] == {"k": True}
    assert isinstance(back[4], wire.Opaque) and isinstance(back[5], wire.Opaque)  # objects are never rebuilt
    assert "unpickled!" not in capsys.readouterr().out


def test_a_checkers_kit_of_cnnlib_layers_is_rebuilt_inside_the_sandbox_only(tmp_path):
    from cnnlib.exercises.nb07 import LayerKit

    arrays: dict = {}
    tree = wire.encode({"layers": LayerKit()}, arrays)
    assert tree["v"]["layers"] == {"t": "kit", "name": "cnnlib.exercises.nb07.LayerKit"}
    inside = wire.decode(tree, arrays, tensors=True)["layers"]          # a case's inputs, in the sandbox
    assert isinstance(inside, LayerKit) and callable(inside.conv2d_im2col)
    assert isinstance(wire.decode(tree, arrays)["layers"], wire.Opaque)   # the grader never rebuilds one
    forged = {"t": "kit", "name": "os.system"}
    assert isinstance(wire.decode(forged, {}, tensors=True), wire.Opaque)


def test_an_object_array_written_by_the_learner_is_refused(tmp_path):
    np.save(tmp_path / "v.a0.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "v.json").write_text(json.dumps({"t": "array", "k": "a0"}))
    with pytest.raises(ValueError, match="pickle"):
        wire.load(tmp_path, "v")


def test_exceptions_come_back_as_their_nearest_builtin_class():
    class Oops(ValueError):
        pass

    err = wire.rebuild_error(wire.encode_error(Oops("no fit")))
    assert type(err) is ValueError and str(err) == "no fit"
    assert type(wire.rebuild_error(wire.encode_error(SystemExit(3)))) is Exception


@pytest.mark.parametrize("path, expected", [
    ("subs/alice/02_convolution.ipynb", ("alice", "02_convolution.ipynb")),
    ("subs/bob_02_convolution.ipynb", ("bob", "02_convolution.ipynb")),
    ("subs/carol-smith.02_convolution.ipynb", ("carol-smith", "02_convolution.ipynb")),
    ("subs/dave/notes.ipynb", ("notes", None)),
])
def test_student_ids_come_from_the_folder_or_the_file_name(path, expected):
    assert identify(path, ["01_neural_nets.ipynb", "02_convolution.ipynb"]) == expected


@pytest.fixture
def release(tmp_path):
    return load_release(write(instructor_notebook(), tmp_path / "01_tiny.ipynb"))


def test_only_definitions_imports_assignments_loops_and_blocks_are_extracted(release):
    nb = instructor_notebook()
    nb.cells[4].source = ("%timeit 1\nimport math\nprint('side effect')\nfor i in range(3):\n    scale = i\n"
                          "def relu_forward(x):\n    return np.maximum(x, 0)\nscale = 2")
    answers = extract(nb, release)
    program = answers["relu_forward"].program
    assert "def relu_forward" in program and "import math" in program and "scale = 2" in program
    assert "for i in range(3)" in program             # an answer may be computed in a loop
    assert "print" not in program and "timeit" not in program
    assert program.startswith("import numpy as np")  # the notebook's import that the answer uses
    assert "check_relu" not in program  # imports it does not use are left out


def test_values_a_cell_above_prepared_come_with_the_answer_and_nothing_else(release):
    nb = instructor_notebook()
    nb.cells.insert(1, nbformat.v4.new_code_cell(
        "with open('/dev/null'):\n    base = 3\noffset = base + 1\nexpensive = sum(range(10**9))"))
    nb.cells[5].source = "def relu_forward(x):\n    return np.maximum(x, 0) * 0 + offset * 0 + np.maximum(x, 0)"
    program = extract(nb, release)["relu_forward"].program
    assert "base = 3" in program and "offset = base + 1" in program   # what the answer uses, and what that uses
    assert program.index("offset = base + 1") < program.index("def relu_forward")
    assert "expensive" not in program                                   # nothing it does not use


def test_a_cell_the_learner_inserted_before_the_check_is_part_of_the_answer(release):
    nb = instructor_notebook()
    helper = nbformat.v4.new_code_cell("def helper(x):\n    return x")
    nb.cells.insert(5, helper)
    assert "def helper" in extract(nb, release)["relu_forward"].program


def _judge(release, key, **outputs):
    e = next(e for e in release.exercises if e.id == key)
    return judge(e, Outputs(**outputs))


def test_the_verdict_is_the_released_checkers_on_the_recorded_outputs(release):
    e = next(e for e in release.exercises if e.id == "relu_backward")
    right = {i: {"value": c.inputs["grad_output"] * (c.inputs["x"] > 0), "changed": {}} for i, c in enumerate(e.cases)}
    assert _judge(release, "relu_backward", state="done", cases=right).status == "pass"
    wrong = {i: {"value": c.inputs["grad_output"] * (c.inputs["x"] >= 0), "changed": {}} for i, c in enumerate(e.cases)}
    v = _judge(release, "relu_backward", state="done", cases=wrong)
    assert v.status == "fail" and "at x == 0 the gradient is 0" in v.message
    missing = _judge(release, "relu_backward", state="running", cases={})
    assert missing.status == "error" and "time limit" in missing.message
    assert _judge(release, "fc_parameters", state="done", value=23040100).status == "pass"
    assert _judge(release, "fc_parameters", state="done", value=wire.Opaque("Evil", "<evil>")).status == "fail"
    assert _judge(release, "fc_parameters", state="undefined").status == "not attempted"


def test_a_recorded_in_place_change_is_seen_by_the_checker(release):
    e = next(e for e in release.exercises if e.id == "relu_backward")
    cases = {i: {"value": c.inputs["grad_output"] * (c.inputs["x"] > 0), "changed": {1: np.zeros_like(c.inputs["x"])}}
             for i, c in enumerate(e.cases)}
    v = _judge(release, "relu_backward", state="done", cases=cases)
    assert v.status == "fail" and "changed its input x in place" in v.message


def test_points_on_exercise_default_to_one_and_are_checked():
    assert check_relu_backward.points == 1

    @exercise(points=2.5)
    def check_thing(answer):
        return True

    assert check_thing.points == 2.5 and check_thing.__exercise__ == "thing"
    with pytest.raises(ValueError, match="points must be a positive number"):
        exercise(points=0)(check_thing)


def test_results_keep_whole_lines_and_skip_a_line_cut_short(tmp_path):
    path = tmp_path / "results.jsonl"
    results = Results(path)
    results.add({"submission": "a.ipynb", "sha256": "1", "student": "a"})
    with open(path, "a") as f:
        f.write('{"submission": "b.ipynb", "sha2')  # killed mid-line
    again = Results(path)
    assert again.get("a.ipynb", "1") == {"submission": "a.ipynb", "sha256": "1", "student": "a"}
    assert again.get("a.ipynb", "2") is None  # the file changed: graded again
    again.add({"submission": "c.ipynb", "sha256": "3", "student": "c"})
    assert Results(path).get("c.ipynb", "3")["student"] == "c"


def test_checkers_run_one_at_a_time_so_stdout_comes_back(release):
    """Two workers swapping sys.stdout at once could leave it a StringIO: the class run's table was lost."""
    import sys
    import threading

    from cnnlib.grading.release import CHECKER_LOCK, cases_of

    stdout = sys.stdout
    e = release.exercises[0]
    with CHECKER_LOCK:
        worker = threading.Thread(target=cases_of, args=(e.checker,))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # it waits for the checker that runs now
    worker.join(30)
    assert not worker.is_alive() and sys.stdout is stdout
