"""make nbgrader: the course that tools/export_nbgrader.py writes, graded by nbgrader itself.

On notebooks 02 and 04: ``nbgrader generate_assignment`` makes the release, ``nbgrader autograde``
grades four submissions and ``nbgrader export`` writes grades.csv. The instructor edition gets full
marks, the student edition (the release as it is) 0, one wrong numeric answer exactly that exercise's
points less, and (02) an ``output_size`` that calls cnnlib's ``conv_output_size`` loses that
exercise's points to the hidden own-code test. nbgrader runs in subprocesses: its SQLAlchemy warnings
go to their stderr, not through this process's filterwarnings = error.
"""
import csv
import sys

import nbformat
import pytest

from export_tools import BORROWED, NOTEBOOKS, ROOT, WRONG, answered, load_tool, run, with_function, with_wrong_answer

export = load_tool("export_nbgrader")


def grade_cells(nb) -> dict[str, float]:
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbgrader_grades_the_instructor_student_and_wrong_editions(name, tmp_path):
    course = tmp_path / "course"
    run([sys.executable, str(ROOT / "tools" / "export_nbgrader.py"), "--out", str(course),
         str(ROOT / "notebooks" / f"{name}.ipynb")], cwd=ROOT)
    run(["nbgrader", "generate_assignment", name, "--create"], cwd=course)
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    assert "BEGIN HIDDEN TESTS" not in nbformat.writes(release) and "assert_own_code" not in nbformat.writes(release)

    def answer_id(cell):
        meta = cell.metadata.get("nbgrader", {})
        return meta["grade_id"] if meta.get("solution") else None

    solutions = {answer_id(c): c.source for c in source.cells if answer_id(c)}
    instructor = answered(release, solutions, answer_id)
    variable, value, wrong_id = WRONG[name]
    submissions = {"instructor": instructor, "student": release,
                   "wrong": with_wrong_answer(instructor, variable, value)}
    if name == "02_convolution":
        submissions["borrowed"] = with_function(instructor, *BORROWED)
    for student, nb in submissions.items():
        (course / "submitted" / student / name).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / name / f"{name}.ipynb")

    run(["nbgrader", "autograde", name, "--create"], cwd=course)
    run(["nbgrader", "export"], cwd=course)
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").read_text().splitlines())}
    points = grade_cells(source)
    total = sum(points.values())
    assert {float(r["max_score"]) for r in rows.values()} == {total}
    scores = {student: float(r["score"]) for student, r in rows.items()}
    expected = {"instructor": total, "student": 0.0, "wrong": total - points[wrong_id]}
    if name == "02_convolution":
        expected["borrowed"] = total - points[BORROWED[0]]
    assert scores == expected
