"""notebooks/my_layers/ is the instructor edition's library: the worked solutions' layers, kept by their checks.

Running the instructor notebooks in notebooks/ rewrites these files from the solution cells; they are
committed so that 07 (which trains LeNet-5 with them) prints the same table in every run, whatever ran
before it. This test fails when a solution changed and its kept file was not refreshed.
"""
import ast
from pathlib import Path

import nbformat
import pytest

from cnnlib.exercises.my_layers import LAYERS
from cnnlib.models.lenet_layers import LAYERS_USED

ROOT = Path(__file__).resolve().parents[1]
KEPT = ROOT / "notebooks" / "my_layers"


def solutions(notebook_id: str) -> str:
    (path,) = (ROOT / "notebooks").glob(f"{notebook_id}_*.ipynb")
    cells = nbformat.read(path, as_version=4).cells
    return "\n".join(c.source for c in cells if "solution" in c.metadata.get("tags", []))


def test_every_layer_07_trains_with_is_kept():
    kept = {p.stem for p in KEPT.glob("*.py")}
    assert kept >= set(LAYERS_USED), sorted(set(LAYERS_USED) - kept)
    assert kept <= set(LAYERS), sorted(kept - set(LAYERS))


@pytest.mark.parametrize("path", sorted(KEPT.glob("*.py")), ids=lambda p: p.stem)
def test_each_kept_layer_is_its_notebooks_worked_solution(path):
    text = path.read_text()
    tree = ast.parse(text)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert functions, f"{path.name} defines no function"
    where = solutions(LAYERS[path.stem].notebook)
    for fn in functions:
        source = ast.get_source_segment(text, fn)
        assert source in where, f"{path.name}: {fn.name} is not the worked solution of notebook {LAYERS[path.stem].notebook}"
