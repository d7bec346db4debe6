"""The grader and the student edition on the real series (notebooks/*.ipynb), not on test notebooks.

The instructor edition scores full marks; its student edition runs top to bottom with every
exercise "not attempted" and nothing "error"; one exercise solved wrongly costs exactly one mark;
and no answer that the instructor edition's checkers print appears in an exercise's question or stub.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from cnnlib.exercises.core import ERROR, FAIL, NOT_ATTEMPTED, PASS
from cnnlib.grade import NOTEBOOK_ROW, grade_notebook
from cnnlib.grading.release import load_release
from exercise_notebooks import load_student_tool

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LECTURE = [nb for nb in NOTEBOOKS if "appendix" not in nb.stem]
student = load_student_tool()


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _in_folder(nb, folder: Path, name: str) -> Path:
    """Write ``nb`` where the real notebook lives (its folder is its working directory when run)."""
    path = folder / name
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("path", LECTURE, ids=lambda p: p.stem)
def test_instructor_edition_scores_full_marks(path):
    rows = grade_notebook(path, timeout=300)
    expected = [e.id for e in load_release(path).exercises]
    assert len(expected) >= 2, f"{path.name}: fewer than two graded exercises"
    assert set(expected) <= {r.exercise for r in rows}, (expected, rows)  # every check cell graded
    assert all(r.status == PASS for r in rows), [r for r in rows if r.status != PASS]


@pytest.mark.parametrize("path", LECTURE, ids=lambda p: p.stem)
def test_student_edition_runs_and_scores_zero_with_no_error(path, tmp_path):
    edition = student.student_edition(nbformat.read(path, as_version=4))
    assert not any("solution" in _tags(c) for c in edition.cells)
    rows = grade_notebook(_student_copy(edition, path, tmp_path), timeout=300)
    assert rows and all(r.exercise != NOTEBOOK_ROW for r in rows), rows
    assert all(r.status == NOT_ATTEMPTED for r in rows), [r for r in rows if r.status != NOT_ATTEMPTED]
    assert not any(r.status == ERROR for r in rows)


def _student_copy(edition, path: Path, tmp_path: Path) -> Path:
    """The student edition in a folder of its own, beside a copy of what the notebooks read."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    student.copy_resources(path.parent, folder)
    return _in_folder(edition, folder, path.name)


def _wrong(source: str) -> str:
    """A plausible wrong solution: a function that returns zeros, or a numeric answer that is off."""
    match = re.match(r"\s*def (\w+)\((.*?)\)\s*:", source, re.S)
    if match:
        return f"import numpy as np\n\ndef {match.group(1)}({match.group(2)}):\n    return np.zeros(1)\n"
    return "answer = 123456.789\n"


def test_one_exercise_solved_wrongly_costs_exactly_one_mark(tmp_path):
    path = next(nb for nb in LECTURE if nb.stem.startswith("02"))
    nb = nbformat.read(path, as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if "solution" in _tags(c))
    nb.cells[first].source = _wrong(nb.cells[first].source)
    rows = grade_notebook(_student_copy(nb, path, tmp_path), timeout=300)
    statuses = [r.status for r in rows]
    assert statuses.count(FAIL) == 1 and statuses.count(PASS) == len(rows) - 1, rows


def _numbers(text: str) -> set[str]:
    """Numbers of at least three significant digits, as printed (commas dropped)."""
    found = re.findall(r"\d[\d,]*\.?\d*", text)
    return {n.replace(",", "").rstrip(".") for n in found if len(re.sub(r"\D", "", n).lstrip("0")) >= 3}


@pytest.mark.parametrize("path", LECTURE, ids=lambda p: p.stem)
def test_no_printed_answer_appears_in_a_question_or_a_stub_of_the_student_edition(path):
    instructor = nbformat.read(path, as_version=4)
    printed = set()
    for cell in instructor.cells:
        if "check" in _tags(cell):
            printed |= _numbers(json.dumps([o.get("text", "") for o in cell.get("outputs", [])]))
    edition = student.student_edition(instructor)
    for i, cell in enumerate(edition.cells):
        if "exercise" in _tags(cell):
            asked = cell.source + (edition.cells[i - 1].source if edition.cells[i - 1].cell_type == "markdown" else "")
            leaked = printed & _numbers(asked)
            assert not leaked, f"{path.name}: the exercise before cell {i} shows {sorted(leaked)}, an answer its checker prints"
