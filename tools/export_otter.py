"""Write otter-grader master notebooks from the instructor notebooks (``make otter``).

    python tools/export_otter.py                          # every notebooks/NN_name.ipynb -> build/otter
    python tools/export_otter.py notebooks/04_losses.ipynb --out DIR

Each master is OUT/NN_name/NN_name.ipynb in otter-grader's assignment format; otter's own commands
take over from there (no Docker needed for one notebook at a time):

    otter assign build/otter/04_losses/04_losses.ipynb build/otter/04_losses/dist
    otter run -a build/otter/04_losses/dist/autograder/autograder.zip SUBMISSION.ipynb   # results.json

The first cell configures the assignment: exception-based tests (a test is a Python function that
raises when the answer is wrong), otter's ``grader = otter.Notebook()`` cell at the top so a student
can run ``grader.check("<id>")``, and ``run_tests`` so ``otter assign`` checks that the solutions
pass. Each exercise (see tools/export_common.py) becomes one question named after its id:

- ``points`` from the checker and ``all_or_nothing: true``, so the hidden test below is not worth
  a share of the points on its own: either every test passes or the question scores 0;
- the answer cell: the stub and the solution between ``# BEGIN SOLUTION`` and ``# END SOLUTION``;
- a public test that imports the checker and asserts that it passed, and, for a function exercise,
  a hidden test that the function is the learner's own code. Otter runs the tests on the notebook's
  final state, which is why every numeric answer has its own variable.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_raw_cell

from export_common import ROOT, Exercise, notebook_paths, own_checks, read, read_exercises

CONFIG = """\
# ASSIGNMENT CONFIG
name: {name}
init_cell: true
check_all_cell: false
export_cell: false
run_tests: true
tests:
  ok_format: false"""


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def question_cells(ex: Exercise) -> list:
    """The question block of one exercise in otter's format."""
    public = [f"def test_{ex.id}({ex.name}):", *_indent(ex.test_lines()), "", "", f"test_{ex.id}({ex.name})"]
    cells = [new_raw_cell(f"# BEGIN QUESTION\nname: {ex.id}\npoints: {ex.points}\nall_or_nothing: true"),
             new_raw_cell("# BEGIN SOLUTION"),
             new_code_cell(ex.answer_source("# BEGIN SOLUTION", "# END SOLUTION")),
             new_raw_cell("# END SOLUTION"),
             new_raw_cell("# BEGIN TESTS"),
             new_code_cell("\n".join(public))]
    if ex.kind == "function":
        hidden = ['""" # BEGIN TEST CONFIG', "hidden: true", '""" # END TEST CONFIG',
                  f"def test_{ex.id}_own_code(env):",  # otter passes the notebook's globals as env
                  *_indent(ex.own_code_lines(f'env["{ex.name}"]', "env")), "", "", f"test_{ex.id}_own_code(globals())"]
        cells.append(new_code_cell("\n".join(hidden)))
    return cells + [new_raw_cell("# END TESTS"), new_raw_cell("# END QUESTION")]


def otter_notebook(nb, name: str) -> nbformat.NotebookNode:
    """The otter master of one instructor notebook (outputs already dropped by export_common.read)."""
    found = read_exercises(nb)
    cells, skip = [new_raw_cell(CONFIG.format(name=name))], set()
    for i, cell in enumerate(nb.cells):
        if i in skip:
            continue
        if i in found:
            checks = own_checks(nb.cells, i)                  # the learner's gradient checks: after the
            skip.update(range(i + 1, i + 3 + len(checks)))    # question block, outside what is graded
            cells += question_cells(found[i]) + [new_code_cell(c) for c in checks]
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
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "otter", help="where the masters go")
    args = parser.parse_args(argv)
    for path in notebook_paths(args.notebooks):
        dest = args.out / path.stem / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(otter_notebook(read(path), path.stem), dest)
        print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
