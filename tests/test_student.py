"""tools/student.py: the student edition has no solution and no stored answer, keeps the stubs, and runs
top to bottom with every checker saying "not attempted yet"."""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from exercise_notebooks import ANSWERS, EXERCISES, SOLUTIONS, execute, instructor_notebook, load_student_tool, write

ROOT = Path(__file__).resolve().parents[1]
student = load_student_tool()


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("editions")
    instructor = execute(instructor_notebook(), folder)
    return folder, instructor, student.student_edition(instructor)


def test_the_instructor_edition_shows_solutions_and_answers(editions):
    _, instructor, _ = editions
    text = nbformat.writes(instructor)
    assert all(s in text for s in SOLUTIONS)           # so the next test has something to remove
    assert any(a in text for a in ANSWERS)                # the worked answer, in a solution
    assert text.count("correct") == 3


def test_the_student_edition_has_no_solution_and_no_answer(editions):
    _, instructor, edition = editions
    text = nbformat.writes(edition)
    for secret in SOLUTIONS + ANSWERS:
        assert secret not in text, secret
    assert not any("solution" in c.metadata.get("tags", []) for c in edition.cells)
    assert all(c.outputs == [] and c.execution_count is None for c in edition.cells if c.cell_type == "code")
    stubs = [c.source for c in instructor.cells if "exercise" in c.metadata.get("tags", [])]
    assert [c.source for c in edition.cells if "exercise" in c.metadata.get("tags", [])] == stubs
    assert len(edition.cells) == len(instructor.cells) - 3
    assert "NotImplementedError" in stubs[0]
    assert instructor.cells[0].source == edition.cells[0].source  # the instructor notebook is not changed
    assert any(c.get("outputs") for c in instructor.cells)


def test_the_student_edition_runs_and_says_not_attempted(editions, tmp_path):
    _, _, edition = editions
    ran = execute(nbformat.from_dict(edition), tmp_path)  # raises on any error in any cell
    checks = [c for c in ran.cells if "check" in c.metadata.get("tags", [])]
    assert len(checks) == len(EXERCISES)
    for cell in checks:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "not attempted yet" in text, text
    assert "Using cnnlib's relu" in "".join(o.get("text", "") for o in ran.cells[-1].outputs)


def test_the_command_writes_the_edition(editions, tmp_path):
    folder, instructor, _ = editions
    path = write(instructor, folder / "01_tiny.ipynb")
    out = tmp_path / "student"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "student.py"), str(path), "--out", str(out)],
                            capture_output=True, text=True, check=True)
    written = out / "notebooks" / "01_tiny.ipynb"
    assert str(written) in result.stdout
    assert nbformat.writes(nbformat.read(written, as_version=4)) == nbformat.writes(student.student_edition(instructor))


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_every_real_notebook_loses_its_solutions_and_outputs(path):
    nb = nbformat.read(path, as_version=4)
    edition = student.student_edition(nb)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert len(edition.cells) == len(nb.cells) - len(solutions)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in edition.cells if c.cell_type == "code")
    text = nbformat.writes(edition)
    for cell in solutions:
        assert cell.source not in text
