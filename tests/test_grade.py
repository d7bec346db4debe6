"""python -m cnnlib.grade: full marks on the instructor edition, none (and no error) on the student edition,
exactly one less with one wrong solution, and a clear row for whatever cannot be graded."""
import json
import subprocess
import sys

import nbformat
import pytest

from cnnlib import grade
from exercise_notebooks import EXERCISES, execute, instructor_notebook, load_student_tool, write

student = load_student_tool()

WRONG_BACKWARD = "grad_output * (x >= 0)"  # a mutation that tests/test_exercises_examples.py names


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The command run once over four files; its JSON rows and its printed table."""
    folder = tmp_path_factory.mktemp("grade")
    instructor = execute(instructor_notebook(), folder)
    paths = [write(instructor, folder / "instructor.ipynb"),
             write(student.student_edition(instructor), folder / "student.ipynb"),
             write(instructor_notebook(backward_solution=WRONG_BACKWARD), folder / "mutant.ipynb")]
    (folder / "notes.ipynb").write_text("these are my notes, not a notebook")
    out = folder / "grades.json"
    result = subprocess.run([sys.executable, "-m", "cnnlib.grade", "--json", str(out), "--timeout", "120",
                             *map(str, paths), str(folder / "notes.ipynb"), str(folder / "missing.ipynb")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text()), result.stdout, result.stderr


def _rows(rows, notebook):
    return {r["exercise"]: r for r in rows if r["notebook"] == notebook}


def test_json_rows_have_the_four_keys(graded):
    rows = graded[0]
    assert rows and all(set(r) == {"notebook", "exercise", "status", "message"} for r in rows)
    assert all(r["status"] in ("pass", "fail", "not attempted", "error") for r in rows)


def test_instructor_edition_scores_full_marks(graded):
    rows = _rows(graded[0], "instructor.ipynb")
    assert list(rows) == list(EXERCISES)
    assert {r["status"] for r in rows.values()} == {"pass"}


def test_student_edition_scores_zero_without_errors(graded):
    rows = _rows(graded[0], "student.ipynb")
    assert list(rows) == list(EXERCISES)
    assert {r["status"] for r in rows.values()} == {"not attempted"}


def test_one_wrong_solution_is_exactly_one_less(graded):
    rows = _rows(graded[0], "mutant.ipynb")
    assert [r["status"] for r in rows.values()] == ["pass", "fail", "pass"]
    assert "at x == 0 the gradient is 0" in rows["relu_backward"]["message"]


def test_files_that_are_not_notebooks_get_a_row(graded):
    for name in ("notes.ipynb", "missing.ipynb"):
        (row,) = _rows(graded[0], name).values()
        assert row["exercise"] == "-" and row["status"] == "error"
        assert row["message"].startswith("not a notebook that can be graded")


def test_the_table_and_totals(graded):
    _, table, stderr = graded
    assert table.splitlines()[0].split() == ["notebook", "exercise", "status", "hint"]
    assert "instructor.ipynb: 3 of 3 exercises pass" in table
    assert "student.ipynb: 0 of 3 exercises pass (3 not attempted)" in table
    assert "mutant.ipynb: 2 of 3 exercises pass (1 fail)" in table
    assert "notes.ipynb: no exercise graded" in table
    assert "Traceback" not in table + stderr and "WARNING" not in stderr  # not even the kernel's start-up noise


def test_two_notebooks_of_the_same_name_are_told_apart(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "02_x.ipynb").write_text("not json")
    assert grade.main([str(tmp_path / "a" / "02_x.ipynb"), str(tmp_path / "b" / "02_x.ipynb")]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'a' / '02_x.ipynb'}: no exercise graded" in out
    assert f"{tmp_path / 'b' / '02_x.ipynb'}: no exercise graded" in out


def _grade(tmp_path, nb, timeout=120):
    return {r.exercise: r for r in grade.grade_notebook(write(nb, tmp_path / "nb.ipynb"), timeout=timeout)}


def test_a_check_cell_that_raises_gets_a_row_and_later_exercises_still_count(tmp_path):
    nb = instructor_notebook()
    del nb.cells[3:5]  # exercise 1's stub and solution: its check cell raises NameError
    rows = _grade(tmp_path, nb)
    assert rows["relu_forward"].status == "error"
    assert "raised NameError: name 'relu_forward' is not defined" in rows["relu_forward"].message
    assert rows["relu_backward"].status == rows["fc_parameters"].status == "pass"


def test_a_dying_kernel_gets_a_row_and_so_does_every_exercise_after_it(tmp_path):
    rows = _grade(tmp_path, instructor_notebook(extra_after_first="import os\nos._exit(1)"))
    assert rows["-"].status == "error" and rows["-"].message.startswith("the kernel died in cell 7")
    assert rows["relu_forward"].status == "pass"  # recorded before the kernel died
    for key in ("relu_backward", "fc_parameters"):
        assert rows[key].status == "error" and "not graded: the kernel died" in rows[key].message


def test_a_notebook_that_runs_too_long_gets_a_row(tmp_path):
    rows = _grade(tmp_path, instructor_notebook(extra_after_first="import time\ntime.sleep(600)"), timeout=15)
    assert rows["-"].status == "error" and rows["-"].message.startswith("the notebook timed out (limit 15 s) in cell 7")
    assert rows["relu_forward"].status == "pass"
    assert "not graded: the notebook timed out" in rows["fc_parameters"].message


def test_expected_exercises_come_from_check_cells():
    nb = instructor_notebook()
    assert [key for key, _ in grade.expected_exercises(nb)] == list(EXERCISES)
    nb.cells[5].source = "_ = nb02.check_output_shape(answer)  # a module prefix works too"
    assert grade.expected_exercises(nb)[0][0] == "output_shape"
    nb.cells[5].source = "_ = check_broken(answer"  # not even Python
    assert grade.expected_exercises(nb)[0][0] == "broken"


def test_a_notebook_without_check_cells_has_no_rows():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert grade.expected_exercises(nb) == []
