"""Grade notebooks: run each in a fresh kernel and collect every exercise checker's verdict.

    python -m cnnlib.grade [--json FILE] [--timeout S] NOTEBOOK.ipynb ...

Each notebook runs top to bottom in its own kernel (nbclient), in its own folder, with a time
limit for the whole notebook; a cell that raises does not stop the cells after it. Before the
first cell the grader asks ``cnnlib.exercises.core`` to append every verdict to a file, so the
verdicts reached before a timeout or a dying kernel still count.

The expected exercises are read from the notebook's "check" cells (the ``check_<id>(...)`` call
in each, see ``cnnlib.exercises``), so an exercise whose check cell raised or never ran still
gets a row, with status "error" and the reason. Every row has a notebook, an exercise id, a
status (pass, fail, not attempted, error) and a message; a notebook that cannot be read, times
out or whose kernel dies gets a row of its own (exercise "-"). Then a total per notebook.

The exit status is 0 once every notebook has its rows, whatever the marks.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from cnnlib.exercises.core import ERROR, FAIL, NOT_ATTEMPTED, PASS, exercise_id

NOTEBOOK_ROW = "-"  # the exercise of a row about the whole notebook
CHECK_TAG = "check"


@dataclass(frozen=True)
class Row:
    notebook: str
    exercise: str
    status: str
    message: str


def _checker_names(source: str) -> list[str]:
    """Names of the ``check_*`` functions a cell calls, in order (``check_x(...)`` or ``nb02.check_x(...)``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return re.findall(r"\b(check_\w+)\s*\(", source)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name.startswith("check_"):
                names.append((node.lineno, node.col_offset, name))
    return [name for *_, name in sorted(names)]


def expected_exercises(nb) -> list[tuple[str, int]]:
    """(exercise id, cell index) of every check cell's checker, in notebook order, each id once."""
    found, seen = [], set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", []):
            for name in _checker_names(cell.source):
                key = exercise_id(name)
                if key not in seen:
                    seen.add(key)
                    found.append((key, index))
    return found


def _setup_source(log: Path) -> str:
    return f"import cnnlib.exercises.core as _grade_core\n_grade_core.record_to({str(log)!r})\ndel _grade_core"


async def _run(nb, folder: Path, timeout: float, kernel_name: str) -> tuple[str | None, int | None]:
    """Execute ``nb`` in place; return (why it stopped early, the cell it stopped in) or (None, None)."""
    deadline = time.monotonic() + timeout
    client = NotebookClient(nb, timeout=max(1, math.ceil(timeout)), startup_timeout=max(1, min(60, math.ceil(timeout))),
                            kernel_name=kernel_name, allow_errors=True, shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(folder)}})
    client.reset_execution_trackers()
    index = None
    try:
        # The kernel's own stderr (ipykernel's start-up warnings) is noise here; cell output still arrives.
        async with client.async_setup_kernel(stderr=subprocess.DEVNULL):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CellTimeoutError("no time left")
                client.timeout = max(1, math.ceil(remaining))
                await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
    except CellTimeoutError:
        return f"the notebook timed out (limit {timeout:g} s)", index
    except DeadKernelError:
        return "the kernel died", index
    except Exception as err:  # noqa: BLE001 - a kernel that cannot start, a broken connection, ...
        last = str(err).strip().splitlines()[-1] if str(err).strip() else ""
        return f"the notebook could not be run ({type(err).__name__}: {last})", index
    return None, None


def _read_log(log: Path) -> dict[str, dict]:
    latest = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                v = json.loads(line)
                latest[v["exercise"]] = v
            except (ValueError, KeyError, TypeError):
                continue
    return latest


def _cell_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
    return None


def grade_notebook(path, timeout: float = 600, kernel_name: str = "python3", label: str | None = None) -> list[Row]:
    """Run one notebook and return its rows (never raises for a bad notebook, timeout or dead kernel).

    ``label`` names the notebook in the rows (default: its file name).
    """
    path = Path(path)
    name = label or path.name
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - JSON errors, missing files, invalid notebooks, ...
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        return [Row(name, NOTEBOOK_ROW, ERROR, f"not a notebook that can be graded ({type(err).__name__}: {reason})")]
    expected = expected_exercises(nb)
    with tempfile.TemporaryDirectory(prefix="cnnlib-grade-") as tmp:
        log = Path(tmp) / "verdicts.jsonl"
        nb.cells.insert(0, nbformat.v4.new_code_cell(_setup_source(log)))
        stopped, at = run_sync(_run)(nb, path.resolve().parent, timeout, kernel_name)  # works inside Jupyter too
        recorded = _read_log(log)
    rows = []
    if stopped:
        where = f" in cell {at}" if at else ""  # at counts the grader's setup cell: the notebook's own number
        rows.append(Row(name, NOTEBOOK_ROW, ERROR, f"{stopped}{where}"))
    for key, index in expected:
        if key in recorded:
            v = recorded.pop(key)
            rows.append(Row(name, key, v["status"], v["message"]))
            continue
        cell = nb.cells[index + 1]
        error = _cell_error(cell)
        if error:
            message = f"its check cell (cell {index + 1}) raised {error}"
        elif stopped and (at is None or index + 1 >= at):
            message = f"not graded: {stopped} before its check cell (cell {index + 1}) finished"
        else:
            message = f"its check cell (cell {index + 1}) ran but recorded no verdict"
        rows.append(Row(name, key, ERROR, message))
    rows += [Row(name, key, v["status"], v["message"]) for key, v in recorded.items()]  # checked outside check cells
    return rows


def totals(rows: list[Row]) -> dict[str, dict[str, int]]:
    """Per notebook: how many exercise rows have each status."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        counts = out.setdefault(r.notebook, {s: 0 for s in (PASS, FAIL, NOT_ATTEMPTED, ERROR)})
        if r.exercise != NOTEBOOK_ROW:
            counts[r.status] = counts.get(r.status, 0) + 1
    return out


def format_table(rows: list[Row], width: int = 100) -> str:
    """The rows as an aligned text table (first line of each message), then a total per notebook."""
    header = ("notebook", "exercise", "status", "hint")
    body = [(r.notebook, r.exercise, r.status, (r.message.splitlines() or [""])[0]) for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(3)]
    lines = []
    for cols in [header, *body]:
        hint = cols[3] if len(cols[3]) <= width else cols[3][: width - 3] + "..."
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(cols[:3], widths)) + "  " + hint)
    lines.insert(1, "-" * min(len(lines[0]), sum(widths) + 6 + width))
    lines.append("")
    for notebook, counts in totals(rows).items():
        total = sum(counts.values())
        if total == 0:
            lines.append(f"{notebook}: no exercise graded")
            continue
        rest = ", ".join(f"{n} {s}" for s, n in counts.items() if s != PASS and n)
        lines.append(f"{notebook}: {counts[PASS]} of {total} exercises pass" + (f" ({rest})" if rest else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlib.grade", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK.ipynb")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="also write the rows as a JSON list of {notebook, exercise, status, message}")
    parser.add_argument("--timeout", type=float, default=600, metavar="S",
                        help="time limit per notebook in seconds, kernel start included (default 600)")
    parser.add_argument("--kernel", default="python3", help="the Jupyter kernel to run them in (default python3)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    names = [p.name for p in args.notebooks]
    rows = []
    for path in args.notebooks:
        label = path.name if names.count(path.name) == 1 else str(path)  # two editions of one notebook
        rows += grade_notebook(path, timeout=args.timeout, kernel_name=args.kernel, label=label)
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
