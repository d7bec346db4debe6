"""Generate a class of submissions of one notebook, to try the grader on: honest, partial, empty, hanging, cheating.

    python tools/make_class.py --out build/class --students 50        # notebook 02 by default
    python -m cnnlib.grade -j 2 --out build/class-grades build/class/submissions

Writes ``OUT/submissions/<student id>/<notebook>.ipynb`` (the grader's per-student folder layout)
and ``OUT/expected.json``: each student's kind and the points the grader must give. Every
submission starts from the student edition (``tools/student.py``); an "answer" is written into
the exercise cell, as a learner does. The kinds, in turn:

- ``honest``: the release's solutions; full marks.
- ``partial``: the function exercises solved, every numeric answer wrong.
- ``empty``: the student edition as it is; 0.
- ``hanging``: the first function exercise loops forever, the rest solved: all but its points.
- cheats, which must all score what their real answers earn (0, their answers are the stubs):
  ``deleted-checks`` (no check cells: "0 of 0" would be full marks), ``invented-ids`` (20 made-up
  check cells), ``record-pass`` (``record()`` a pass for every exercise, in an answer cell and in
  a last cell), ``patched-checker`` (every ``check_<id>`` replaced by one that records a pass, and
  ``check_function`` / ``verdict`` replaced),
  ``shipped-cnnlib`` (a ``cnnlib/`` folder beside the notebook whose checkers always pass),
  ``read-solutions`` (execs the instructor edition's solution cells, found through
  ``cnnlib.__file__``), ``blank-notebook`` (no cells at all).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("honest", "partial", "empty", "hanging", "deleted-checks", "invented-ids", "record-pass",
         "patched-checker", "shipped-cnnlib", "read-solutions", "blank-notebook")
CHEATS = KINDS[4:]

RECORD_PASS = """from cnnlib.exercises.core import Verdict, record
_ = [record(Verdict(_id, "pass", "correct!")) for _id in {ids!r}]
"""
PATCH = """import cnnlib.exercises.core as _core, cnnlib.exercises.functions as _functions
from cnnlib.exercises.core import Verdict, record
_core.verdict = lambda *a, **k: True
_functions.check_function = lambda *a, **k: True
{lines}
"""
READ_SOLUTIONS = """def {function}(*args):
    import json, pathlib, cnnlib
    release = pathlib.Path(cnnlib.__file__).resolve().parents[1] / "notebooks" / {name!r}
    solutions = {{}}
    for cell in json.loads(release.read_text())["cells"]:
        if "solution" in cell["metadata"].get("tags", []):
            exec("".join(cell["source"]), solutions)
    return solutions[{function!r}](*args)
"""
FAKE_CHECKERS = "def __getattr__(name):\n    return lambda *a, **k: print('correct!') or True\n"


def _student_tool():
    spec = importlib.util.spec_from_file_location("student", ROOT / "tools" / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _release(path: Path):
    """(instructor notebook, per exercise (id, kind, stub cell id, solution source, check cell id, points, target))."""
    sys.path.insert(0, str(ROOT))
    from cnnlib.grading.release import load_release

    nb = nbformat.read(path, as_version=4)
    release = load_release(path)
    cells = {c.get("id"): c for c in nb.cells}
    exercises = []
    for e in release.exercises:
        stub, solution = e.answer_cells[0], e.answer_cells[-1]
        exercises.append((e.id, e.kind, stub, cells[solution].source, e.check_cell, e.points, e.target))
    return nb, exercises


def _set(nb, cell_id: str, source: str) -> None:
    for cell in nb.cells:
        if cell.get("id") == cell_id:
            cell.source = source


def submission(kind: str, instructor, exercises, name: str):
    """One submission of ``kind``; returns (notebook, expected points, extra files {relative path: text})."""
    nb = _student_tool().student_edition(instructor)
    files, expected = {}, 0.0
    ids = [e[0] for e in exercises]
    first_function = next((e for e in exercises if e[1] == "function"), None)
    for key, kind_of, stub, solution, check, points, _ in exercises:
        if kind in ("honest", "hanging") or kind == "partial" and kind_of == "function":
            if kind == "hanging" and first_function and key == first_function[0]:
                head = solution.split(":", 1)[0]  # def name(args)
                _set(nb, stub, f"{head}:\n    while True:\n        pass\n")
                continue
            _set(nb, stub, solution)
            expected += points
        elif kind == "partial":
            _set(nb, stub, "answer = 123456\n")
    if kind == "deleted-checks":
        nb.cells = [c for c in nb.cells if "check" not in c.metadata.get("tags", [])]
    elif kind == "invented-ids":
        nb.cells += [nbformat.v4.new_code_cell(f"_ = check_made_up_{i}(None)", metadata={"tags": ["check"]})
                     for i in range(20)]
    elif kind == "record-pass":  # in an answer cell, and in a last cell, after every check has run
        _set(nb, exercises[0][2], RECORD_PASS.format(ids=ids) + _stub_of(instructor, exercises[0][2]))
        nb.cells.append(nbformat.v4.new_code_cell(RECORD_PASS.format(ids=ids)))
    elif kind == "patched-checker":
        lines = "\n".join(f"check_{i} = lambda *a, **k: record(Verdict({i!r}, 'pass', 'correct!')).passed"
                          for i in ids)
        _set(nb, exercises[0][2], PATCH.format(lines=lines) + _stub_of(instructor, exercises[0][2]))
    elif kind == "shipped-cnnlib":
        files = {"cnnlib/__init__.py": "", "cnnlib/exercises/__init__.py": "mine_or_reference = None\n",
                 "cnnlib/exercises/core.py": FAKE_CHECKERS, "cnnlib/exercises/nb02.py": FAKE_CHECKERS}
    elif kind == "read-solutions":
        for key, kind_of, stub, *_, target in exercises:
            if kind_of == "function":
                _set(nb, stub, READ_SOLUTIONS.format(function=target, name=name))
    elif kind == "blank-notebook":
        nb.cells = []
    return nb, expected, files


def _stub_of(instructor, cell_id: str) -> str:
    return "\n" + next(c.source for c in instructor.cells if c.get("id") == cell_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, default=ROOT / "notebooks" / "02_convolution.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "class")
    parser.add_argument("--students", type=int, default=50)
    args = parser.parse_args(argv)
    instructor, exercises = _release(args.notebook)
    expected = {}
    for n in range(args.students):
        kind = KINDS[n % len(KINDS)]
        student = f"s{n + 1:03d}-{kind}"
        nb, points, files = submission(kind, instructor, exercises, args.notebook.name)
        folder = args.out / "submissions" / student
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / args.notebook.name)
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        expected[student] = {"kind": kind, "points": points}
    (args.out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"{args.students} submissions of {args.notebook.name} in {args.out / 'submissions'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
