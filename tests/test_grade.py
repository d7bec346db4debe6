"""python -m cnnlib.grade: full marks on the instructor edition, none (and no error) on the student edition,
exactly its points less with one wrong solution, a clear row for whatever cannot be graded, and the release,
not the submission, deciding which exercises exist."""
import json
import subprocess
import sys

import nbformat
import pytest

from cnnlib import grade
from cnnlib.grading.sandbox import find_bwrap
from exercise_notebooks import EXERCISES, instructor_notebook, load_student_tool, write

pytestmark = pytest.mark.skipif(find_bwrap() is None, reason="needs bubblewrap (apt-get install bubblewrap)")
student = load_student_tool()
NAME = "01_tiny.ipynb"  # the release's file name: submissions are matched to it by name
WRONG_BACKWARD = "grad_output * (x >= 0)"  # a mutation that tests/test_exercises_examples.py names


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    write(instructor_notebook(), folder / NAME)
    return folder


def _submit(folder, student_id, nb):
    (folder / student_id).mkdir(parents=True, exist_ok=True)
    return write(nb, folder / student_id / NAME)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, release):
    """The command run once over five files (the notebooks run in full too); its JSON rows and output."""
    folder = tmp_path_factory.mktemp("grade")
    paths = [_submit(folder, "instructor", instructor_notebook()),
             _submit(folder, "student", student.student_edition(instructor_notebook())),
             _submit(folder, "mutant", instructor_notebook(backward_solution=WRONG_BACKWARD))]
    (folder / f"notes_{NAME}").write_text("these are my notes, not a notebook")
    out = folder / "grades.json"
    result = subprocess.run([sys.executable, "-m", "cnnlib.grade", "--json", str(out), "--timeout", "120",
                             "--release", str(release), "--out", str(folder / "out"), "-j", "2",
                             *map(str, paths), str(folder / f"notes_{NAME}"), str(folder / "missing.ipynb")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text()), result.stdout, result.stderr, folder / "out"


def _rows(rows, student_id):
    return {r["exercise"]: r for r in rows if r["notebook"].endswith(f"{student_id}/{NAME}")}


def test_json_rows_have_the_four_keys(graded):
    rows = graded[0]
    assert rows and all(set(r) == {"notebook", "exercise", "status", "message"} for r in rows)
    assert all(r["status"] in ("pass", "fail", "not attempted", "error") for r in rows)


def test_instructor_edition_scores_full_marks(graded):
    rows = _rows(graded[0], "instructor")
    assert list(rows) == list(EXERCISES)
    assert {r["status"] for r in rows.values()} == {"pass"}


def test_student_edition_scores_zero_without_errors(graded):
    rows = _rows(graded[0], "student")
    assert list(rows) == list(EXERCISES)
    assert {r["status"] for r in rows.values()} == {"not attempted"}


def test_one_wrong_solution_is_exactly_one_less(graded):
    rows = _rows(graded[0], "mutant")
    assert [r["status"] for r in rows.values()] == ["pass", "fail", "pass"]
    assert "at x == 0 the gradient is 0" in rows["relu_backward"]["message"]


def test_files_that_are_not_notebooks_get_a_row(graded):
    rows = graded[0]
    (notes,) = [r for r in rows if r["notebook"] == f"notes_{NAME}" and r["exercise"] == "-"]
    assert notes["status"] == "error" and notes["message"].startswith("not a notebook that can be graded")
    assert [r["status"] for r in rows if r["notebook"] == f"notes_{NAME}" and r["exercise"] != "-"] == ["error"] * 3
    (missing,) = [r for r in rows if r["notebook"] == "missing.ipynb"]
    assert missing["exercise"] == "-" and missing["message"].startswith("no release notebook matches")


def test_the_table_and_totals_in_points(graded):
    _, table, stderr, _ = graded
    assert table.splitlines()[0].split() == ["notebook", "exercise", "status", "hint"]
    assert "3 of 3 points, 3 of 3 exercises pass [student instructor]" in table
    assert "0 of 3 points, 0 of 3 exercises pass (3 not attempted) [student student]" in table
    assert "2 of 3 points, 2 of 3 exercises pass (1 fail) [student mutant]" in table
    assert "Traceback" not in table + stderr


def test_gradebook_is_in_nbgraders_export_layout_with_a_column_per_exercise(graded):
    lines = (graded[3] / "gradebook.csv").read_text().splitlines()
    assert lines[0] == ("assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
                        "late_submission_penalty,score,max_score,relu_forward,relu_backward,fc_parameters")
    by_student = {line.split(",")[3]: line.split(",") for line in lines[1:]}
    assert by_student["mutant"][0] == "01_tiny" and by_student["mutant"][7:] == ["2", "0", "2", "3", "1", "0", "1"]
    assert by_student["instructor"][7:] == ["3", "0", "3", "3", "1", "1", "1"]


def test_feedback_holds_the_executed_notebook_and_each_verdict(graded):
    page = (graded[3] / "feedback" / "mutant" / "01_tiny.html").read_text()
    assert "2 of 3</b> points" in page
    assert "at x == 0 the gradient is 0" in page  # the grader's verdict
    assert "Using your relu_forward: it passed its check." in page  # the notebook's own output, as it ran


def test_two_notebooks_of_the_same_name_are_told_apart(tmp_path, release, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / NAME).write_text("not json")
    assert grade.main(["--release", str(release), str(tmp_path / "a" / NAME), str(tmp_path / "b" / NAME)]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'a' / NAME}: 0 of 3 points" in out and f"{tmp_path / 'b' / NAME}: 0 of 3 points" in out


def _grade(tmp_path, release, nb, **options):
    rows = grade.grade_notebook(_submit(tmp_path, "someone", nb), release=release, feedback=False, **options)
    return {r.exercise: r for r in rows}


def test_deleting_check_cells_does_not_delete_exercises(tmp_path, release):
    nb = instructor_notebook()
    nb.cells = [c for c in nb.cells if "check" not in c.metadata.get("tags", [])]
    rows = _grade(tmp_path, release, nb)
    assert list(rows) == list(EXERCISES) and {r.status for r in rows.values()} == {"pass"}  # answers still there
    nb.cells = nb.cells[:1]
    rows = _grade(tmp_path, release, nb)
    assert list(rows) == list(EXERCISES) and {r.status for r in rows.values()} == {"not attempted"}


def test_invented_exercises_are_ignored(tmp_path, release):
    nb = student.student_edition(instructor_notebook())
    nb.cells += [nbformat.v4.new_code_cell(f"_ = check_made_up_{i}(1)", metadata={"tags": ["check"]})
                 for i in range(20)]
    rows = _grade(tmp_path, release, nb)
    assert list(rows) == list(EXERCISES)


def test_an_empty_notebook_scores_zero_on_every_exercise(tmp_path, release):
    rows = _grade(tmp_path, release, nbformat.v4.new_notebook())
    assert list(rows) == list(EXERCISES) and {r.status for r in rows.values()} == {"not attempted"}


def test_an_answer_that_hangs_costs_only_its_exercise(tmp_path, release):
    nb = instructor_notebook()
    nb.cells[4].source = "def relu_forward(x):\n    while True:\n        pass"
    rows = _grade(tmp_path, release, nb, cell_timeout=3)
    assert rows["relu_forward"].status == "error" and "time limit" in rows["relu_forward"].message
    assert rows["relu_backward"].status == rows["fc_parameters"].status == "pass"


def _with_extra(source):
    """The instructor notebook with a cell after exercise 1's check; the other cells keep their ids."""
    nb, ids = instructor_notebook(extra_after_first=source), [c.id for c in instructor_notebook().cells]
    nb.cells[6].id = "cell-extra"
    for cell, cell_id in zip(nb.cells[:6] + nb.cells[7:], ids):
        cell.id = cell_id
    return nb


def test_a_cell_that_hangs_in_the_feedback_run_is_interrupted_and_the_next_cells_run(tmp_path, release):
    from cnnlib.grading import pipeline
    from cnnlib.grading.release import Releases
    from cnnlib.grading.sandbox import Sandbox

    nb = _with_extra("import time\ntime.sleep(600)")
    options = pipeline.Options(timeout=120, cell_timeout=5, feedback=True, out=tmp_path / "out")
    (tmp_path / "out" / "work").mkdir(parents=True)
    entry = pipeline.grade_submission(_submit(tmp_path, "sleepy", nb), Releases(release), Sandbox(), options)
    assert entry["score"] == 3 and entry["notebook_error"] is None
    page = (tmp_path / "out" / "feedback" / "sleepy" / "01_tiny.html").read_text()
    assert "CellTimeoutError" in page and "Using your relu_forward" in page  # the last cell still ran


def test_expected_exercises_and_points_come_from_the_release(release):
    from cnnlib.grading.release import Releases

    r = Releases(release).get(NAME)
    assert [e.id for e in r.exercises] == list(EXERCISES)
    assert [e.kind for e in r.exercises] == ["function", "function", "value"]
    assert r.max_points == 3
