"""Write an nbgrader source course from the instructor notebooks (``make nbgrader``).

    python tools/export_nbgrader.py                       # every notebooks/NN_name.ipynb -> build/nbgrader
    python tools/export_nbgrader.py notebooks/02_convolution.ipynb --out DIR

The course folder (OUT) holds ``nbgrader_config.py`` and ``source/NN_name/NN_name.ipynb``: one
assignment per notebook, named after it. From there nbgrader's own commands take over (run them in OUT):

    nbgrader generate_assignment 02_convolution      # release/: solutions and hidden tests removed
    nbgrader autograde 02_convolution                # submitted/<student>/02_convolution/ -> autograded/
    nbgrader export                                  # grades.csv

Each notebook is converted cell by cell (see tools/export_common.py for the exercises):

- an exercise's stub and solution become one answer cell (nbgrader "solution", the solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``);
- its check becomes a locked, graded test cell worth the checker's points, which imports the checker,
  asserts that it passed and, for a function exercise, holds a hidden test that the function is the
  learner's own code (between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``);
- every other code cell is locked ("read-only"): autograde restores it from the release, so a
  submission cannot change the imports or the cells between the exercises;
- markdown cells are copied; outputs are dropped.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from export_common import ROOT, Exercise, notebook_paths, own_checks, read, read_exercises

CONFIG = '''\
# nbgrader's course configuration, written by tools/export_nbgrader.py (make nbgrader).
c = get_config()  # noqa: F821 - defined by nbgrader when it reads this file
c.CourseDirectory.course_id = "cnnlib"
# A cell that hangs is stopped after this many seconds; autograde goes on with the next one.
c.ExecutePreprocessor.timeout = 300
'''


def _meta(cell, grade_id: str, *, solution=False, grade=False, locked=False, points=None):
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                                 "schema_version": 3, "solution": solution, "task": False}
    if grade:
        cell.metadata["nbgrader"]["points"] = points
    return cell


def test_source(ex: Exercise) -> str:
    lines = ex.test_lines()
    if ex.kind == "function":
        lines += ["### BEGIN HIDDEN TESTS", *ex.own_code_lines(ex.name, "globals()"), "### END HIDDEN TESTS"]
    return "\n".join(lines)


def nbgrader_notebook(nb) -> nbformat.NotebookNode:
    """The nbgrader source of one instructor notebook (outputs already dropped by export_common.read)."""
    found = read_exercises(nb)
    cells, skip = [], set()
    for i, cell in enumerate(nb.cells):
        if i in skip:
            continue
        if i in found:
            ex = found[i]
            checks = own_checks(nb.cells, i)                  # the learner's gradient checks, kept between
            skip.update(range(i + 1, i + 3 + len(checks)))    # the answer and the test
            answer = nbformat.v4.new_code_cell(ex.answer_source("### BEGIN SOLUTION", "### END SOLUTION"))
            test = nbformat.v4.new_code_cell(test_source(ex))
            cells += [_meta(answer, f"{ex.id}_answer", solution=True),
                      *(_meta(nbformat.v4.new_code_cell(c), f"{ex.id}_selfcheck_{k}", locked=True)
                        for k, c in enumerate(checks)),
                      _meta(test, ex.id, grade=True, locked=True, points=ex.points)]
        elif cell.cell_type == "code":
            cells.append(_meta(nbformat.from_dict(cell), f"locked-{cell.get('id', i)}", locked=True))
        else:
            cells.append(nbformat.from_dict(cell))
    out = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    for cell in out.cells:
        cell.pop("id", None)
    out.nbformat_minor = 4  # format 4.4 has no cell ids, so every run writes the same file
    nbformat.validate(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="instructor notebooks (default: all of notebooks/)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "nbgrader", help="the course folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nbgrader_config.py").write_text(CONFIG)
    for path in notebook_paths(args.notebooks):
        dest = args.out / "source" / path.stem / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbgrader_notebook(read(path)), dest)
        print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
