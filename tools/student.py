"""Write the student edition of the notebooks: build/student/notebooks/NN_name.ipynb (``make student``).

    python tools/student.py                                # every notebooks/NN_name.ipynb
    python tools/student.py notebooks/02_convolution.ipynb --out build/student

Made from the instructor edition in notebooks/ with nbconvert's own preprocessors, so there is
no hand-kept copy to drift:

- ``TagRemovePreprocessor`` removes every cell tagged "solution" (code or markdown);
- in a cell tagged "selfcheck" (the learner's own gradient check), ``good_below=<number>`` becomes
  ``good_below=None``: what relative error to accept is the learner's to say;
- ``ClearOutputPreprocessor`` clears the outputs and execution counts of every code cell: a
  stored output anywhere (a check's "correct!", a printed value, a plot of the learner's
  function) could give an answer away, and each one comes back when the learner runs the cell.

The exercise cells stay as they are: stubs (``raise NotImplementedError``, ``answer = None``).
Run for the whole series, everything else in notebooks/ except the sources in notebooks/src/
is copied beside them; the notebooks import cnnlib from the installed package.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOLUTION_TAG = "solution"
SELFCHECK_TAG = "selfcheck"
GOOD_BELOW = re.compile(r"good_below\s*=\s*[^,)\s]+")


def student_edition(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student edition of one notebook (a new object; ``nb`` is not changed)."""
    nb = nbformat.from_dict(nb)  # a deep copy
    resources: dict = {}
    remove = TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True)
    nb, resources = remove.preprocess(nb, resources)
    for cell in nb.cells:
        if SELFCHECK_TAG in cell.metadata.get("tags", []):
            cell.source = GOOD_BELOW.sub("good_below=None", cell.source)
    nb, resources = ClearOutputPreprocessor().preprocess(nb, resources)
    nb.metadata.pop("widgets", None)  # widget state belongs to outputs that are gone
    nbformat.validate(nb)
    return nb


def copy_resources(src: Path, dest: Path) -> None:
    """Copy what sits beside the notebooks (data, figures), but not the notebooks, their sources or the
    instructor's my_layers/ (the solutions' layers: a learner's library starts empty)."""
    for item in src.iterdir():
        if item.name in ("src", "my_layers") or item.suffix == ".ipynb" or item.name.startswith("."):
            continue
        target = dest / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="instructor notebooks (default: every notebooks/NN_name.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "student",
                        help="the edition's root; notebooks go to OUT/notebooks (default build/student)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        parser.error(f"no notebooks found in {NOTEBOOKS}")
    dest = args.out / "notebooks"
    dest.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = student_edition(nbformat.read(path, as_version=4))
        nbformat.write(nb, dest / path.name)
        print(f"{dest / path.name}")
    if not args.notebooks:  # the whole series: bring what sits beside it too
        copy_resources(NOTEBOOKS, dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
