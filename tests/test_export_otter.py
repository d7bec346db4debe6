"""make otter: the masters that tools/export_otter.py writes, assigned and graded by otter-grader itself.

On notebooks 02 and 04: ``otter assign`` (which also runs the tests on the solutions) and
``otter run -a AUTOGRADER.zip`` (no Docker) on the instructor edition (full marks), the student
edition (0), one wrong numeric answer (exactly that exercise's points less) and (02) an
``output_size`` that calls cnnlib's ``conv_output_size``: all_or_nothing makes the failed hidden
own-code test cost the whole exercise.
"""
import json
import sys

import nbformat
import pytest

from export_tools import BORROWED, NOTEBOOKS, ROOT, WRONG, load_tool, run, with_function, with_wrong_answer

export = load_tool("export_otter")


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_otter_grades_the_instructor_student_and_wrong_editions(name, tmp_path):
    run([sys.executable, str(ROOT / "tools" / "export_otter.py"), "--out", str(tmp_path),
         str(ROOT / "notebooks" / f"{name}.ipynb")], cwd=ROOT)
    folder = tmp_path / name
    run(["otter", "assign", f"{name}.ipynb", "dist"], cwd=folder)
    (autograder,) = (folder / "dist" / "autograder").glob(f"{name}-autograder_*.zip")
    instructor = nbformat.read(folder / "dist" / "autograder" / f"{name}.ipynb", as_version=4)
    student = nbformat.read(folder / "dist" / "student" / f"{name}.ipynb", as_version=4)
    assert "BEGIN SOLUTION" not in nbformat.writes(student) and "assert_own_code" not in nbformat.writes(student)
    variable, value, wrong_id = WRONG[name]
    submissions = {"instructor": instructor, "student": student, "wrong": with_wrong_answer(instructor, variable, value)}
    if name == "02_convolution":
        submissions["borrowed"] = with_function(instructor, *BORROWED)

    points = {ex.id: ex.points for ex in export.read_exercises(export.read(ROOT / "notebooks" / f"{name}.ipynb")).values()}
    total = sum(points.values())
    expected = {"instructor": total, "student": 0, "wrong": total - points[wrong_id]}
    if name == "02_convolution":
        expected["borrowed"] = total - points[BORROWED[0]]
    scores = {}
    for who, nb in submissions.items():
        path = tmp_path / who / f"{name}.ipynb"
        path.parent.mkdir()
        nbformat.write(nb, path)
        run(["otter", "run", "-a", str(autograder), "-o", str(path.parent), str(path)], cwd=path.parent)
        tests = json.loads((path.parent / "results.json").read_text())["tests"]
        graded = {t["name"]: (t["score"], t["max_score"]) for t in tests if "score" in t}
        assert {k: m for k, (_, m) in graded.items()} == points
        scores[who] = sum(s for s, _ in graded.values())
    assert scores == expected
