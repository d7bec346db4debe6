"""Stage 2, extract: the learner's answer to each exercise, as a program the sandbox can run.

For each exercise of the release, the learner's answer cells are

- the cells that carry the release's exercise or solution cell id (nbformat 4.5 ids survive the
  student edition and JupyterLab's editing), and
- any untagged code cell the learner inserted between that exercise cell and its check cell.

If no cell carries the ids (a notebook rebuilt by another tool), the cells tagged "exercise"
are matched to the release's exercises in order, when there are as many of them.

From these cells only definitions, imports, assignments, loops and blocks are kept (``def``,
``class``, ``import``, ``x = ...``, ``for``, ``with``, ...), by the AST: a top-level call that
prints, plots or checks is dropped. Values that an exercise works on and that a cell above it
prepared (``W1, W2 = exercise_weights()``) come along: the statements binding them are added. An
exercise's program is the imports of the learner's other code cells that its answers use, then
the kept statements of its own answer cells and of every exercise before it (a later exercise
may use an earlier answer; a shared ``answer`` variable takes each exercise's own value, since
its cells come last). Line magics (``%timeit``) and shell lines (``!ls``) are dropped first.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from cnnlib.grading.release import CHECK, EXERCISE, SOLUTION, Release

KEPT = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom,
        ast.Assign, ast.AnnAssign, ast.AugAssign,
        ast.For, ast.While, ast.If, ast.With, ast.Try)   # an answer may be computed in a loop or a block


@dataclass(frozen=True)
class Answer:
    exercise: str
    cells: tuple[int, ...]     # the learner's cell numbers (0-based) holding the answer
    program: str               # what the sandbox runs before it reads the exercise's target
    problem: str = ""          # why the answer could not be read (a syntax error), if it could not


def _python(source: str) -> str:
    """The cell without IPython's line magics and shell escapes (kept as blank lines: line numbers stay)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def kept_statements(source: str) -> list[ast.stmt]:
    """The definitions, imports, assignments, loops and blocks at the top level of a cell; raises SyntaxError."""
    return [node for node in ast.parse(_python(source)).body if isinstance(node, KEPT)]


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def answer_cells(nb, release: Release) -> dict[str, list[int]]:
    """Per exercise id, the learner's answer cells (numbers in ``nb.cells``), in notebook order."""
    index = {cell.get("id"): i for i, cell in enumerate(nb.cells) if cell.get("id")}
    found: dict[str, list[int]] = {}
    for e in release.exercises:
        cells = [index[c] for c in e.answer_cells if c in index and nb.cells[index[c]].cell_type == "code"]
        check = index.get(e.check_cell)
        if cells and check is not None and check > cells[0]:
            cells += [i for i in range(cells[0] + 1, check)
                      if nb.cells[i].cell_type == "code" and not _tags(nb.cells[i])]
        found[e.id] = sorted(set(cells))
    if not any(found.values()):
        tagged = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and EXERCISE in _tags(c)]
        if len(tagged) == len(release.exercises):
            found = {e.id: [i] for e, i in zip(release.exercises, tagged)}
    return found


def _names_used(statements: list[ast.stmt]) -> set[str]:
    return {n.id for s in statements for n in ast.walk(s) if isinstance(n, ast.Name)}


def _bound(node: ast.stmt) -> set[str]:
    return {(a.asname or a.name).split(".")[0] for a in node.names}


def _assigned(node: ast.stmt) -> set[str]:
    """The names a statement binds: assignment targets (in loops and blocks too) and definitions."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(node.name)
    return names


def _loaded(statements) -> set[str]:
    return {n.id for s in statements for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _free_names(statements: list[ast.stmt]) -> set[str]:
    """The names ``statements`` read from outside: a function's own arguments and locals are left out."""
    names: set[str] = set()
    for s in statements:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = s.args
            local = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
            local |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
            local |= {n.id for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            names |= _loaded(s.body) - local
        else:
            inner = {n.id for c in ast.walk(s) if isinstance(c, ast.comprehension)     # [f for f in ...]
                     for n in ast.walk(c.target) if isinstance(n, ast.Name)}
            inner |= {a.arg for lam in ast.walk(s) if isinstance(lam, ast.Lambda) for a in lam.args.args}
            names |= _loaded([s]) - inner
    return names


def _context(nb, taken: set[int], before_cell: int, statements: list[ast.stmt]) -> list[ast.stmt]:
    """The assignments of untagged cells above ``before_cell`` that ``statements`` need, and what they need.

    An exercise may work on values a cell above it prepared (``W1, W2 = exercise_weights()``); its
    answer cannot be run without them. Only assignments whose names the answer uses (directly or
    through another such assignment) are taken, so no expensive cell runs for nothing. They are
    the learner's copy of those cells: changing them changes only the learner's own outputs.
    """
    pool = []
    for i in range(min(before_cell, len(nb.cells))):
        cell = nb.cells[i]
        if cell.cell_type != "code" or i in taken or _tags(cell):
            continue
        try:
            pool += [s for s in kept_statements(cell.source) if not isinstance(s, (ast.Import, ast.ImportFrom))]
        except SyntaxError:
            continue
    chosen: list[ast.stmt] = []
    wanted = _free_names(statements)
    while True:
        new = [s for s in pool if s not in chosen and _assigned(s) & wanted]
        if not new:
            return [s for s in pool if s in chosen]        # in notebook order
        chosen += new
        wanted |= _free_names(new)


def extract(nb, release: Release) -> dict[str, Answer]:
    """Per exercise id of the release, the learner's :class:`Answer` (an empty program if there is none)."""
    cells = answer_cells(nb, release)
    taken = {i for found in cells.values() for i in found}
    imports = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or i in taken or {SOLUTION, CHECK} & set(_tags(cell)):
            continue
        try:
            imports += [s for s in ast.parse(_python(cell.source)).body if isinstance(s, (ast.Import, ast.ImportFrom))]
        except SyntaxError:
            continue
    answers, before = {}, []
    for e in release.exercises:
        own, problem = [], ""
        for i in cells.get(e.id, []):
            try:
                own += kept_statements(nb.cells[i].source)
            except SyntaxError as err:
                problem = f"cell {i} is not valid Python (line {err.lineno}: {err.msg})"
        first = min(cells.get(e.id, []), default=len(nb.cells))
        context = _context(nb, taken, first, own)
        used = _names_used(context + before + own) | _names_used([ast.parse(e.target, mode="eval").body])  # type: ignore[list-item]
        needed = [s for s in imports if _bound(s) & used]
        body = needed + context + before + own
        answers[e.id] = Answer(e.id, tuple(cells.get(e.id, [])), "\n".join(ast.unparse(s) for s in body), problem)
        before += own
    return answers
