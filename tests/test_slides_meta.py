"""The slide metadata convention (tools/slides.py), checked without a browser: on every notebook, and
the checker and the `suggest` helper on small sources this test writes itself."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

spec = importlib.util.spec_from_file_location("slides_tool", ROOT / "tools" / "slides.py")
slides = importlib.util.module_from_spec(spec)
spec.loader.exec_module(slides)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_follows_the_slide_convention(path):
    found = slides.problems(json.loads(path.read_text()), path.name)
    assert not found, (f"{len(found)} problems; `python tools/slides.py suggest notebooks/src/{path.stem}.py` "
                       "writes the default metadata:\n" + "\n".join(found[:20]))


SOURCE = '''# %% [markdown]
# # 09 · A tiny notebook
#
# What you will learn: nothing much.

# %%
import numpy as np

# %%
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. A section
#
# Some prose with $x^2$.

# %%
x = rng.normal(size=3)

# %% [markdown]
# ### A sub-section

# %%
{long}

# %% [markdown] slideshow={{"slide_type": "notes"}}
# Say this aloud.

# %% tags=["solution"] jupyter={{"source_hidden": true}}
answer = 42
'''
LONG = "\n".join(f"y{i} = {i}" for i in range(20))


def notebook_of(text: str) -> dict:
    return json.loads(nbformat.writes(jupytext.reads(text, fmt="py:percent")))


def test_suggest_writes_the_default_convention_and_keeps_given_types(tmp_path):
    src = tmp_path / "09_tiny.py"
    src.write_text(SOURCE.format(long=LONG))
    assert slides.problems(notebook_of(src.read_text()))       # no metadata yet: the checker objects
    changed = slides.suggest(src)
    assert changed == 7                                           # every cell but "-" ones and the notes
    nb = notebook_of(src.read_text())
    kinds = [slides.slide_type(c) for c in nb["cells"]]
    assert kinds == ["slide", "skip", "skip", "slide", "-", "subslide", "subslide", "notes", "skip"]
    assert slides.problems(nb) == []
    assert nb["cells"][-1]["metadata"]["jupyter"] == {"source_hidden": True}   # other options survive
    assert slides.suggest(src) == 0                             # a second run changes nothing


def test_suggest_splits_a_slide_that_would_be_too_tall(tmp_path):
    prose = "\n".join(f"# {'word ' * 20}\n#" for _ in range(12))
    src = tmp_path / "09_tall.py"
    src.write_text(f"# %% [markdown]\n# # Title\n\n# %% [markdown]\n# ## Section\n\n# %% [markdown]\n{prose}\n")
    slides.suggest(src)
    kinds = [slides.slide_type(c) for c in notebook_of(src.read_text())["cells"]]
    assert kinds == ["slide", "slide", "subslide"]


def cells(*specs):
    """Cells from (cell_type, slide_type, source[, tags]) tuples."""
    out = []
    for cell_type, kind, source, *tags in specs:
        meta = {"slideshow": {"slide_type": kind}} if kind else {}
        if tags:
            meta["tags"] = tags[0]
        out.append({"cell_type": cell_type, "metadata": meta, "source": source})
    return {"cells": out}


@pytest.mark.parametrize("nb, words", [
    (cells(("markdown", None, "# Title")), "title slide"),
    (cells(("markdown", "slide", "Title without a heading")), "title slide"),
    (cells(("code", "slide", "# Title")), "title slide"),
    (cells(("markdown", "slide", "# T"), ("markdown", "fragmnt", "x")), "'fragmnt' is not one of"),
    (cells(("markdown", "slide", "# T"), ("markdown", "subslide", "## Section")), "must be a 'slide'"),
    (cells(("markdown", "slide", "# T"), ("markdown", "fragment", "### Sub")), "'subslide' or 'slide'"),
    (cells(("markdown", "slide", "# T"), ("code", "-", LONG)), "20 lines of code on a main slide"),
    (cells(("markdown", "slide", "# T"), ("code", "fragment", LONG)), "on a main slide"),
    (cells(("markdown", "slide", "# T"), ("code", "-", "x = 1", ["solution"])), "solution must be 'skip'"),
])
def test_checker_names_each_broken_rule(nb, words):
    found = slides.problems(nb)
    assert len(found) == 1 and words in found[0], found


@pytest.mark.parametrize("kind_before, kind", [
    ("subslide", "-"), ("subslide", "fragment"), ("slide", "skip"), ("slide", "notes"), ("slide", "subslide")])
def test_long_code_is_fine_off_the_main_slides(kind_before, kind):
    nb = cells(("markdown", "slide", "# T"), ("markdown", kind_before, "prose"), ("code", kind, LONG))
    assert slides.problems(nb) == []


def test_fifteen_lines_is_not_long():
    nb = cells(("markdown", "slide", "# T"), ("code", "-", "\n".join(["x = 1", ""] * 15)))
    assert slides.problems(nb) == []
