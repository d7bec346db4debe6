"""What the nbgrader and otter-grader exports share: reading the exercises of an instructor notebook.

Used by ``tools/export_nbgrader.py`` and ``tools/export_otter.py`` (imported from tools/, beside them).

Every exercise of ``notebooks/NN_name.ipynb`` is three cells (see ``cnnlib.exercises``): the stub
(tag "exercise"), the worked solution (tag "solution") and the check (tag "check", exactly
``_ = check_<id>(<name>)``). :func:`read_exercises` turns them into :class:`Exercise` records that
the two exporters write out in their tools' own formats:

- the answer cell: the stub, then the solution between the tool's solution markers (for a function
  whose solution is one ``def`` with the stub's signature, the markers go inside its body, so the
  released stub keeps its ``def`` line);
- the test: imports the checker inside the cell (a test runs on its own in both tools) and asserts
  that it passed. A checker prints its verdict and never raises, so a test that only called it would
  give full marks to any answer; the assert is what makes it a test;
- a numeric answer's variable is renamed from ``answer`` to ``answer_<id>``: otter runs every test on
  the notebook's final state, where a shared ``answer`` holds only the last exercise's value;
- a function exercise gets a hidden test that it is the learner's own code
  (:func:`cnnlib.exercises.own_code.assert_own_code`), allowing only the cnnlib and torch names that
  the worked solution itself uses;
- points come from the checker: ``getattr(checker, "points", 1)`` (``@exercise`` may set them).
"""
from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from student import GOOD_BELOW  # the learner's threshold, left to them as in the student edition

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHECK = re.compile(r"^_ = (check_\w+)\((\w+)\)\s*$")


def own_checks(cells, i: int) -> list[str]:
    """The sources of the learner's own gradient checks ("selfcheck" cells) between exercise ``i``'s
    solution and its check, with ``good_below`` left to the learner as in the student edition."""
    return [GOOD_BELOW.sub("good_below=None", cells[k].source) for k in range(i + 2, check_index(cells, i))]


LIBRARIES = ("cnnlib", "torch")  # what a function exercise may use only where the solution does


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id, its checker (``module.checker``), the variable or function it checks,
    the stub, the solution and the check, with ``answer`` already renamed for a numeric exercise."""

    id: str
    module: str
    checker: str
    name: str            # the function's name, or the answer's variable (answer_<id>)
    kind: str            # "function" or "value"
    stub: str
    solution: str
    points: float
    allowed: tuple[str, ...]  # dotted cnnlib/torch names the solution uses (function exercises)
    prompt: str          # the markdown cell before the stub (the question), or ""

    def answer_source(self, begin: str, end: str) -> str:
        """The stub, then the solution between ``begin`` and ``end`` marker lines."""
        inside = _solution_in_body(self.stub, self.solution, begin, end) if self.kind == "function" else None
        return inside or f"{self.stub.rstrip()}\n{begin}\n{self.solution.rstrip()}\n{end}"

    def test_lines(self) -> list[str]:
        """The visible test: import the checker, call it, assert it passed."""
        return [f"from {self.module} import {self.checker}",
                "# the checker prints its verdict and never raises; the assert makes this a test",
                f"_result = {self.checker}({self.name})",
                f'assert getattr(_result, "passed", _result) is True, "{self.id}: not passed (see the verdict above)"']

    def own_code_lines(self, function: str, namespace: str) -> list[str]:
        """The hidden test of a function exercise: ``function`` is an expression for the learner's
        function, ``namespace`` one for the notebook's globals."""
        return ["from cnnlib.exercises.own_code import assert_own_code",
                f"assert_own_code({function}, allowed={list(self.allowed)!r}, namespace={namespace})"]


def rename(source: str, old: str, new: str) -> str:
    """Rename the Python name ``old`` to ``new``: names only (f-string fields too), not comments or strings."""
    lines = [line.encode() for line in source.splitlines(keepends=True)]  # ast's columns count UTF-8 bytes
    hits = sorted((n.lineno, n.col_offset) for n in ast.walk(ast.parse(source))
                  if isinstance(n, ast.Name) and n.id == old)
    for row, col in reversed(hits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new.encode() + line[col + len(old.encode()):]
    return b"".join(lines).decode()


def _solution_in_body(stub: str, solution: str, begin: str, end: str) -> str | None:
    """``def f(...):`` of the solution, then its body between the markers; None if that shape does not fit."""
    tree, stub_tree = ast.parse(solution), ast.parse(stub)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef) or len(stub_tree.body) != 1:
        return None
    fn, stub_fn = tree.body[0], stub_tree.body[0]
    if not isinstance(stub_fn, ast.FunctionDef) or ast.dump(fn.args) != ast.dump(stub_fn.args) \
            or fn.name != stub_fn.name or fn.decorator_list or fn.body[0].lineno == fn.lineno:
        return None
    lines = solution.rstrip().splitlines()
    first = fn.body[0].lineno - 1
    indent = re.match(r"\s*", lines[first]).group(0)
    return "\n".join(lines[:first] + [indent + begin] + lines[first:] + [indent + end])


def imported_names(nb) -> dict[str, str]:
    """name -> dotted path for every import in the notebook's code cells outside the exercises."""
    names = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or {"exercise", "solution", "check"} & set(tags(cell)):
            continue
        # IPython's %magics and !commands are not Python: read them as comments
        tree = ast.parse(re.sub(r"(?m)^(\s*)([%!])", r"\1#\2", cell.source))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
            elif isinstance(node, ast.Import):
                names.update({a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                              for a in node.names})
    return names


def _used_library_names(solution: str, imports: dict[str, str]) -> tuple[str, ...]:
    loaded = {n.id for n in ast.walk(ast.parse(solution)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return tuple(sorted(imports[n] for n in loaded if n in imports and imports[n].split(".")[0] in LIBRARIES))


def points_of(checker) -> float:
    """The checker's points: ``@exercise(points=...)`` where it is set, else 1."""
    return getattr(checker, "points", 1)


def check_index(cells, i: int) -> int:
    """The index of the check cell of the exercise whose stub is ``cells[i]``: after its solution and the
    learner's own gradient checks ("selfcheck" cells), which stay where they are in every export."""
    at = i + 2
    while at < len(cells) and "selfcheck" in tags(cells[at]):
        at += 1
    return at


def read_exercises(nb) -> dict[int, Exercise]:
    """Index of the stub cell -> its Exercise, for every exercise of the instructor notebook ``nb``."""
    imports = imported_names(nb)
    found: dict[int, Exercise] = {}
    cells = nb.cells
    for i, cell in enumerate(cells):
        if "exercise" not in tags(cell):
            continue
        at = check_index(cells, i)
        if at >= len(cells) or "solution" not in tags(cells[i + 1]) or "check" not in tags(cells[at]):
            raise ValueError(f"cell {i}: an exercise cell must be followed by its solution and check cells")
        match = CHECK.match(cells[at].source.strip())
        if not match:
            raise ValueError(f"cell {at}: a check cell must be `_ = check_<id>(<name>)`, got {cells[at].source!r}")
        checker, name = match.groups()
        module = imports.get(checker, "").rpartition(".")[0]
        if not module:
            raise ValueError(f"{checker} is not imported in the notebook's import cells")
        stub, solution = cells[i].source, cells[i + 1].source
        stub_tree = ast.parse(stub)
        kind = "function" if any(isinstance(n, ast.FunctionDef) and n.name == name for n in stub_tree.body) else "value"
        if kind == "value" and name == "answer":
            name = f"answer_{checker[len('check_'):]}"
            stub, solution = rename(stub, "answer", name), rename(solution, "answer", name)
        prompt = cells[i - 1].source if i and cells[i - 1].cell_type == "markdown" else ""
        found[i] = Exercise(
            id=checker[len("check_"):], module=module, checker=checker, name=name, kind=kind, stub=stub,
            solution=solution, points=points_of(getattr(importlib.import_module(module), checker)),
            allowed=_used_library_names(solution, imports) if kind == "function" else (), prompt=prompt)
    names = [e.name for e in found.values()]
    if len(set(names)) != len(names):
        raise ValueError(f"two exercises check the same name: {names}")
    return found


def read(path: Path):
    """An instructor notebook without outputs (the exports are sources, not results)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    return nb


def notebook_paths(given: list[Path]) -> list[Path]:
    return given or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
