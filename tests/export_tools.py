"""Helpers for the tests of tools/export_nbgrader.py and tools/export_otter.py.

The two real notebooks they export (cheap to run), the submissions they grade, and how to run the
tools' commands: nbgrader and otter are console scripts of the same environment as this Python, and
nbgrader needs that environment's bin/ on PATH (it runs ``alembic`` from there).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
NOTEBOOKS = ("02_convolution", "04_losses")
BIN = Path(sys.executable).parent

# One wrong numeric answer per notebook: (the answer's variable, a wrong value, its exercise id).
WRONG = {"02_convolution": ("answer_conv_parameters", "64 * 3 * 3 * 16  # the weights only", "conv_parameters"),
         "04_losses": ("answer_cross_entropy", "99.0", "cross_entropy")}
# A function exercise answered with cnnlib's own function: it passes the visible check, not the hidden one.
BORROWED = ("output_size", "def output_size(n, f, stride, padding):\n"
            "    return conv_output_size(n, f, stride=stride, padding=padding)")


def load_tool(name: str):
    """tools/<name>.py as a module (tools/ is not a package; its modules import each other by name)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return __import__(name)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def answered(template, answers: dict[str, str], is_answer) -> nbformat.NotebookNode:
    """A copy of ``template`` whose answer cells (``is_answer(cell) -> key or None``) get ``answers[key]``."""
    nb = nbformat.from_dict(template)
    for cell in nb.cells:
        key = is_answer(cell)
        if key is not None and key in answers:
            cell.source = answers[key]
    return nb


def with_wrong_answer(nb, variable: str, value: str) -> nbformat.NotebookNode:
    """``nb`` with the cell that assigns ``variable`` replaced by ``variable = value``."""
    nb = nbformat.from_dict(nb)
    cells = [c for c in nb.cells if c.cell_type == "code" and f"{variable} = None" in c.source]
    assert len(cells) == 1, variable
    cells[0].source = f"{variable} = {value}"
    return nb


def with_function(nb, name: str, source: str) -> nbformat.NotebookNode:
    """``nb`` with the answer cell that defines ``name`` replaced by ``source``."""
    nb = nbformat.from_dict(nb)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(f"def {name}(")]
    assert len(cells) == 1, name
    cells[0].source = source
    return nb
