"""House rules for the notebooks, checked without running them (nbval runs them).

Each notebook is written as notebooks/src/NAME.py (jupytext) and committed executed as
notebooks/NAME.ipynb; these tests keep the two in step and the stored outputs checkable.
"""
from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = sorted((ROOT / "notebooks" / "src").glob("*.py"))
# The lecture notebooks carry exercises; the appendix (engineering beyond the lecture) does not.
LECTURE_NOTEBOOKS = [nb for nb in NOTEBOOKS if "appendix" not in nb.stem]
IGNORE_MARK = "# NBVAL_IGNORE_OUTPUT"


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def text(cell) -> str:
    return "".join(cell["source"])


def test_every_source_has_its_notebook_and_back():
    assert {p.stem for p in NOTEBOOKS} == {p.stem for p in SOURCES}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_matches_its_source(nb):
    stored = [(c["cell_type"], text(c).strip()) for c in json.loads(nb.read_text())["cells"]]
    built = [(c.cell_type, c.source.strip()) for c in jupytext.read(ROOT / "notebooks/src" / (nb.stem + ".py")).cells]
    assert stored == built, f"{nb.name} is out of date with notebooks/src/{nb.stem}.py: run `make outputs`"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_checkable(nb):
    cells = code_cells(nb)
    counts = [c["execution_count"] for c in cells if text(c).strip()]
    assert all(counts), f"{nb.name}: a code cell has no stored execution count (run `make outputs`)"
    assert counts == sorted(counts), f"{nb.name}: cells were executed out of order (run `make outputs`)"
    for c in cells:
        for out in c["outputs"]:
            assert "image/svg+xml" not in out.get("data", {}), f"{nb.name}: SVG output (use PNG)"
            assert out.get("output_type") != "error", f"{nb.name}: a stored error output"
            blob = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r"0x[0-9a-f]{6,}", blob), f"{nb.name}: an output shows a memory address"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_house_style(nb):
    cells = code_cells(nb)
    first = text(cells[0])
    assert all(line.startswith(("import ", "from ", "%", "#")) or not line.strip()
               for line in first.splitlines()), f"{nb.name}: the first code cell should hold imports only"
    assert "default_rng(" in text(cells[1]), f"{nb.name}: the second code cell should create the seeded generator"
    sources = "\n".join(text(c) for c in cells)
    assert "sys.path" not in sources and "import *" not in sources
    lengths = [len(text(c).strip().splitlines()) for c in cells]
    assert statistics.median(lengths) <= 6, f"{nb.name}: code cells are long (median {statistics.median(lengths)})"
    longest = max(lengths[1:])  # the imports cell may be as long as it needs
    assert longest <= 20, f"{nb.name}: a code cell has {longest} lines; split it or move code into cnnlib"
    for c in cells:
        if any("image/png" in o.get("data", {}) for o in c["outputs"]):
            assert "plt.show()" in text(c) or IGNORE_MARK in text(c) or "explorer(" in text(c), \
                f"{nb.name}: a figure cell should end with plt.show()"
    ignored = [text(c) for c in cells if IGNORE_MARK in text(c)]
    for src in ignored:
        assert re.search(r"explorer\(|time|bench|conv_table\(", src), \
            f"{nb.name}: outputs may only be ignored for explorers and timings, not:\n{src}"


def test_series_order_and_numbering():
    names = [nb.stem for nb in NOTEBOOKS]
    assert [int(n[:2]) for n in names] == list(range(1, len(names) + 1)), names
    assert names[-1].startswith(f"{len(names):02d}_appendix"), "the appendix comes last"
    for nb in NOTEBOOKS:
        title = json.loads(nb.read_text())["cells"][0]["source"]
        assert "".join(title).startswith(f"# {nb.stem[:2]} ·"), f"{nb.name}: the title should start '# {nb.stem[:2]} ·'"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_markdown_heading_inside_a_code_cell(nb):
    """A missing `# %% [markdown]` marker turns a section title into a Python comment."""
    for cell in code_cells(nb):
        heading = re.search(r"^# #{1,4} \S.*$", text(cell), re.M)
        assert heading is None, f"{nb.name}: a code cell holds the Markdown heading {heading.group(0)!r}"


@pytest.mark.parametrize("nb", LECTURE_NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_with_collapsed_worked_solutions(nb):
    cells = json.loads(nb.read_text())["cells"]
    solutions = [k for k, c in enumerate(cells) if "solution" in c["metadata"].get("tags", [])]
    assert 2 <= len(solutions) <= 10, f"{nb.name}: wants 2-10 exercises with worked solutions, has {len(solutions)}"
    for k in solutions:
        c = cells[k]
        assert c["metadata"].get("jupyter", {}).get("source_hidden"), f"{nb.name}: a solution is not collapsed"
        if "exercise" in cells[k - 1]["metadata"].get("tags", []):  # exercise, solution, check: the check cell checks
            after = k + 1                          # the learner's own gradient checks ("selfcheck") may come between
            while after < len(cells) and "selfcheck" in cells[after]["metadata"].get("tags", []):
                after += 1
            assert after < len(cells) and "check" in cells[after]["metadata"].get("tags", []), \
                f"{nb.name}: a solution without its check cell"
            assert "check_" in text(cells[after]), f"{nb.name}: a check cell that calls no checker"
        else:
            assert "assert " in text(c), f"{nb.name}: a worked solution should assert its checker's verdict"


def test_every_notebook_named_in_the_library_exists():
    """Docstrings say which notebook teaches a function; after a renumbering they must follow."""
    stems = {nb.stem for nb in NOTEBOOKS}
    named = {}
    for path in sorted((ROOT / "cnnlib").rglob("*.py")):
        for name in re.findall(r"\b(0\d_[a-z][a-z0-9_]*[a-z0-9])\b", path.read_text()):
            named.setdefault(name, str(path.relative_to(ROOT)))
    missing = {name: path for name, path in named.items() if name not in stems}
    assert not missing, f"docstrings name notebooks that do not exist: {missing}"
