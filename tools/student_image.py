"""Turn a checkout into the student edition's Binder image (binder/postBuild, when binder/edition says "student").

    python tools/student_image.py ROOT

The student badge in the README opens the branch ``binder-student``, which a workflow
(.github/workflows/binder-student.yml) makes from main with ``binder/edition`` set to "student".
Binder builds that branch, and its postBuild calls this script, which leaves in ROOT only what a
learner needs, and no solution:

- notebooks/NN_name.ipynb are replaced by their student editions (tools/student.py: solution cells
  removed, outputs cleared), so the badge's ``lab/tree/notebooks/...`` links open them;
- notebooks/src (the jupytext sources, solutions included), notebooks/my_layers (the layers the
  worked solutions kept: cnnlib.exercises.my_layers), tests/ and e2e/ (which hold worked
  answers to check the checkers), book/, build/, .github/ and .git (the history holds main's
  solutions) are removed;
- then every file left is read, and the script fails if any still holds a solution cell, so a new
  place for solutions breaks the image build instead of reaching learners.

cnnlib itself stays (it is installed from ROOT in editable mode): the learner's notebooks import it.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat

from student import SOLUTION_TAG, student_edition

REMOVED = ("notebooks/src", "notebooks/my_layers", "tests", "e2e", "book", "build", ".github", ".git")
# A jupytext cell marker at the start of a line, tagged "solution" (an indented one is a docstring's example).
JUPYTEXT_SOLUTION = re.compile(rf'^# %%.*\btags=\[[^\]]*"{SOLUTION_TAG}"', re.MULTILINE)


def holds_solution(path: Path) -> bool:
    """Whether ``path`` is a notebook with a cell tagged "solution", a jupytext source with one, or a layer
    kept in a my_layers/ folder (a passing exercise's function)."""
    if path.parent.name == "my_layers" and path.suffix == ".py":
        return True
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return any(SOLUTION_TAG in c.metadata.get("tags", []) for c in nb.cells)
    if path.suffix in (".py", ".md"):
        return bool(JUPYTEXT_SOLUTION.search(path.read_text(errors="replace")))
    return False


def make_student_image(root: Path) -> list[Path]:
    """Rewrite ``root`` as described above; returns the student notebooks written."""
    written = []
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nbformat.write(student_edition(nbformat.read(path, as_version=4)), path)
        written.append(path)
    for name in REMOVED:
        target = root / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    left = [p for p in root.rglob("*") if p.is_file() and holds_solution(p)]
    if left:
        raise SystemExit("the student image still holds solutions: " + ", ".join(str(p) for p in left))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the checkout to rewrite (Binder's build folder)")
    args = parser.parse_args(argv)
    for path in make_student_image(args.root.resolve()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
