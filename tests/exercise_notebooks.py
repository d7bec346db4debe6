"""A tiny instructor notebook with three exercises, built with nbformat, for the student-edition and grader tests.

It follows the cell conventions of cnnlib.exercises (exercise / solution / check cells) but does not depend
on the real notebooks, which are rewritten often.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnnlib.exercises.functions import allow_shortcuts

# Solution code that must not reach the student edition, and the expected answers that must not either.
SOLUTIONS = ("np.maximum(x, 0)", "grad_output * (x > 0)", "320 * 240 * 3 * 100 + 100")
ANSWERS = ("23040100", "23,040,100")
EXERCISES = ("relu_forward", "relu_backward", "fc_parameters")


def _cell(source: str, tag: str | None = None):
    cell = new_code_cell(source)
    if tag:
        cell.metadata["tags"] = [tag]
    if tag == "solution":
        cell.metadata["jupyter"] = {"source_hidden": True}
    return cell


def exercise(stub: str, solution: str, check: str) -> list:
    return [_cell(stub, "exercise"), _cell(solution, "solution"), _cell(check, "check")]


def instructor_notebook(backward_solution: str = "grad_output * (x > 0)", extra_after_first: str | None = None):
    """The instructor edition (unexecuted); ``backward_solution`` swaps in a wrong solution of exercise 2,
    ``extra_after_first`` adds a code cell right after exercise 1's check."""
    cells = [new_markdown_cell("# Three small exercises"),
             _cell("import numpy as np\n\nfrom cnnlib.exercises import mine_or_reference\n"
                   "from cnnlib.exercises.examples import check_relu_backward, check_relu_forward\n"
                   "from cnnlib.exercises.nb01 import check_fc_parameters\nfrom cnnlib.numpy_nn.activation import relu"),
             new_markdown_cell("**Exercise 1.** Write ReLU's forward pass."),
             *exercise("def relu_forward(x):\n    raise NotImplementedError  # your code here",
                       "def relu_forward(x):\n    return np.maximum(x, 0)",
                       "_ = check_relu_forward(relu_forward)")]
    if extra_after_first:
        cells.append(_cell(extra_after_first))
    cells += [new_markdown_cell("**Exercise 2.** Write its backward pass."),
              *exercise("def relu_backward(grad_output, x):\n    raise NotImplementedError  # your code here",
                        f"def relu_backward(grad_output, x):\n    return {backward_solution}",
                        "_ = check_relu_backward(relu_backward)"),
              new_markdown_cell("**Exercise 3.** The parameters of a 320x240x3 -> 100 fully connected layer."),
              *exercise("answer = None  # your answer here", "answer = 23040100  # 320 * 240 * 3 * 100 + 100",
                        "_ = check_fc_parameters(answer)"),
              new_markdown_cell("Your ReLU, once it passes, is used below."),
              _cell("relu_used = mine_or_reference('relu_forward', relu_forward, relu)\n"
                    "print(relu_used(np.array([-1.0, 2.0])))")]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"
    return nb


def execute(nb, folder: Path, allow_errors: bool = False):
    """Run ``nb`` in a fresh kernel, as notebooks/ are stored (executed, with outputs)."""
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def write(nb, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


def load_student_tool():
    """tools/student.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("student", Path(__file__).resolve().parents[1] / "tools" / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rejected_for(check, wrong, hint, mutations, capsys) -> str:
    """``check`` rejects ``wrong`` naming ``hint`` and no other mutation's hint; returns what it printed.

    The one assertion every mutation test makes (the reason, not a list of guesses), so each test
    only adds what is particular to its checker. A mutant may be built from cnnlib's reference ("the
    reference, but ..."): it is judged by its results (``allow_shortcuts``), not refused as a shortcut.
    """
    with allow_shortcuts():
        assert check(wrong) is False
    out = capsys.readouterr().out
    assert hint in out, out
    assert sum(h in out for h in {h for _, h in mutations}) == 1, out
    return out
