"""What a notebook becomes before it is a deck (tools/deck_prep.py): its title, no setup slides, explorers'
Binder links, slides split to fit at 28px prose / 24px code, and no tabindex. The browser measures the
result in e2e/test_slides.py and e2e/test_a11y.py."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))          # deck_prep imports figure_text, its neighbour in tools/
_spec = importlib.util.spec_from_file_location("cnnlib_tool_deck_prep", ROOT / "tools" / "deck_prep.py")
deck_prep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(deck_prep)


def md(source, kind=None):
    return {"cell_type": "markdown", "source": source, "metadata": {"slideshow": {"slide_type": kind}} if kind else {}}


def code(source, outputs=(), kind=None):
    return {"cell_type": "code", "source": source, "outputs": list(outputs), "execution_count": 1,
            "metadata": {"slideshow": {"slide_type": kind}} if kind else {}}


TITLE = md("# 04 · Loss functions\n\nWhat you will learn.", "slide")
IMPORTS = code("import numpy as np\n\nfrom cnnlib.device import env_report\n# %config InlineBackend.figure_formats = ['png']")
SETUP = code("rng = np.random.default_rng(0)\ntorch.manual_seed(0)\nprint(env_report())", kind="subslide",
             outputs=[{"output_type": "stream", "name": "stdout", "text": "Environment: ... device cpu\n"}])


def kinds(nb):
    return [deck_prep.slide_type(c) for c in nb["cells"]]


def test_title_is_the_notebooks_h1_and_setup_cells_are_skipped():
    nb = deck_prep.prepare({"metadata": {}, "cells": [TITLE, IMPORTS, SETUP, code("x = 1")]}, "04_losses")
    assert nb["metadata"]["title"] == "04 · Loss functions"
    assert kinds(nb) == ["slide", "skip", "skip", "-"]


def test_the_committed_notebook_is_not_changed():
    cells = [TITLE, IMPORTS, SETUP]
    deck_prep.prepare({"metadata": {}, "cells": cells}, "04_losses")
    assert deck_prep.slide_type(SETUP) == "subslide" and "title" not in TITLE["metadata"]


def test_an_explorer_gets_the_link_that_runs_its_notebook():
    explorer = code("pooling_explorer()", outputs=[{"output_type": "execute_result", "data": {
        "text/plain": "pooling_explorer: an interactive explorer (run this cell in Jupyter to use it)"}}])
    nb = deck_prep.prepare({"metadata": {}, "cells": [TITLE, explorer]}, "03_pooling")
    assert nb["cells"][1]["metadata"]["cnnlib_binder"].endswith("urlpath=lab/tree/notebooks/03_pooling.ipynb")


def test_a_markdown_cell_taller_than_a_slide_is_split_at_paragraphs_and_keeps_every_word():
    paragraphs = [f"Paragraph {k}: " + "word " * 60 for k in range(8)] + ["```python\nx = 1\n\ny = 2\n```"]
    nb = deck_prep.prepare({"metadata": {}, "cells": [md("\n\n".join(paragraphs), "slide")]}, "x")
    parts = nb["cells"]
    assert len(parts) >= 3 and kinds(nb)[0] == "slide" and set(kinds(nb)[1:]) == {"subslide"}
    assert all(deck_prep.cell_height(c) <= deck_prep.BUDGET for c in parts)
    assert "\n\n".join(c["source"] for c in parts) == "\n\n".join(paragraphs)   # nothing lost, fence kept whole


def test_a_paragraph_ending_with_a_colon_stays_with_its_list_and_nbval_markers_go():
    intro = "In this notebook you will:"
    items = "\n".join(f"- item {k}: " + "word " * 12 for k in range(6))
    nb = deck_prep.prepare({"metadata": {}, "cells": [md("# T\n\n" + ("Prose " * 60) + "\n\n" + intro + "\n\n" + items,
                                                         "slide"), code("# NBVAL_IGNORE_OUTPUT\npooling_explorer()")]}, "x")
    holder = next(c for c in nb["cells"] if intro in c["source"])
    assert "- item 0" in holder["source"]
    assert nb["cells"][-1]["source"] == "pooling_explorer()"


def test_a_code_cell_too_tall_with_its_output_shows_the_output_on_the_next_slide():
    long_output = {"output_type": "stream", "name": "stdout", "text": "line\n" * 14}
    tall = code("\n".join(f"x{k} = {k}" for k in range(10)), outputs=[long_output])
    nb = deck_prep.prepare({"metadata": {}, "cells": [TITLE, tall]}, "x")
    code_only, output_only = nb["cells"][1:]
    assert code_only["outputs"] == [] and output_only["outputs"] == [long_output]
    assert deck_prep.OUTPUT_ONLY_TAG in output_only["metadata"]["tags"] and kinds(nb)[2] == "subslide"


def test_a_long_table_is_cut_into_pieces_that_each_keep_caption_and_header():
    rows = "".join(f"<tr><td>conv{k}</td><td>{k}</td></tr>" for k in range(40))
    html = f"<table><caption>VGG16</caption><thead><tr><th>layer</th></tr></thead><tbody>{rows}</tbody></table>"
    table = code("compare_vgg16(s)", outputs=[{"output_type": "execute_result", "data": {"text/html": html,
                                                                                         "text/plain": "t"}}])
    nb = deck_prep.prepare({"metadata": {}, "cells": [TITLE, table]}, "x")
    pieces = [c["outputs"][0]["data"]["text/html"] for c in nb["cells"][2:]]
    assert len(pieces) >= 3 and nb["cells"][1]["outputs"] == []
    assert all(p.startswith("<table><caption>VGG16</caption><thead>") and p.endswith("</tbody></table>") for p in pieces)
    assert "".join(re.findall(r"<tr><td>.*?</tr>", "".join(pieces))) == rows
    assert all(deck_prep.cell_height(c) <= deck_prep.BUDGET for c in nb["cells"][1:])


def test_a_long_printout_is_cut_by_lines():
    text = "".join(f"row {k}: {k * k}\n" for k in range(60))
    printout = code("print(report)", outputs=[{"output_type": "stream", "name": "stdout", "text": text}])
    nb = deck_prep.prepare({"metadata": {}, "cells": [TITLE, printout]}, "x")
    assert "".join(c["outputs"][0]["text"] for c in nb["cells"][2:]) == text and len(nb["cells"]) >= 4
    assert all(deck_prep.cell_height(c) <= deck_prep.BUDGET for c in nb["cells"][1:])


def test_a_list_taller_than_a_slide_is_split_between_items():
    items = "\n".join(f"- item {k}: " + "word " * 25 + "\n  continued" for k in range(8))
    nb = deck_prep.prepare({"metadata": {}, "cells": [md("## Section\n\n" + items, "slide")]}, "x")
    assert len(nb["cells"]) >= 2 and all(deck_prep.cell_height(c) <= deck_prep.BUDGET for c in nb["cells"])
    assert all(line.startswith(("- item", "  continued", "## Section")) for c in nb["cells"]
               for line in c["source"].splitlines() if line)


def test_a_rich_report_is_cut_at_its_paragraphs_and_tables():
    rows = "".join(f"<tr><td>layer {k}</td><td>{k}.0 ms</td></tr>" for k in range(30))
    html = ("<p>Machine: 2 CPUs</p><p>Threads: 2</p><table><thead><tr><th>layer</th><th>ms</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><br><small>* naive loops: scaled up</small>")
    report = code("conv_table()", outputs=[{"output_type": "execute_result", "data": {"text/html": html}}])
    nb = deck_prep.prepare({"metadata": {}, "cells": [TITLE, report]}, "x")
    pieces = [o["data"]["text/html"] for c in nb["cells"][2:] for o in c["outputs"]]
    assert "".join(pieces).replace("</tbody></table><table><thead><tr><th>layer</th><th>ms</th></tr></thead><tbody>",
                                   "") == html
    assert all(deck_prep.cell_height(c) <= deck_prep.BUDGET for c in nb["cells"][1:])


def test_cells_that_pass_the_screen_together_start_a_sub_slide():
    cells = [TITLE] + [md("Some words " * 30) for _ in range(4)]
    assert kinds(deck_prep.prepare({"metadata": {}, "cells": cells}, "x")) == ["slide", "-", "subslide", "-", "subslide"]


def test_no_tabindex_on_cells():
    html = ('<div class="jp-Cell-inputWrapper" tabindex="0"><div class="jp-OutputArea-output" tabindex="0">'
            '<a href="#" tabindex="0">x</a></div></div>')
    assert deck_prep.without_tabindex(html) == ('<div class="jp-Cell-inputWrapper"><div class="jp-OutputArea-output">'
                                                '<a href="#" tabindex="0">x</a></div></div>')


def test_an_exercise_check_shows_no_verdict_the_hidden_solution_earned():
    stub = dict(code("def answer():\n    raise NotImplementedError"), metadata={"tags": ["exercise"]})
    solution = dict(code("def answer():\n    return 614_656"), metadata={"tags": ["solution"]})
    check = dict(code("_ = check_alexnet_conv2(answer)", outputs=[
        {"output_type": "stream", "name": "stdout", "text": "Exercise 1: correct! 614,656 parameters\n"}]),
        metadata={"tags": ["check"]})
    cells = deck_prep.prepare({"cells": [TITLE, stub, solution, check], "metadata": {}}, "08_x")["cells"]
    assert cells[3]["source"] == "_ = check_alexnet_conv2(answer)" and cells[3]["outputs"] == []
    assert "614" not in str([c.get("outputs") for c in cells if "solution" not in c["metadata"].get("tags", [])])


def test_a_printed_table_too_wide_for_24px_gets_the_size_where_its_lines_fit():
    row = "  ".join(f"{k}.{k}00 ± 0.012" for k in range(6))                # 88 characters
    table = code("print(table)", outputs=[{"output_type": "stream", "name": "stdout", "text": f"{row}\n{row}\n"}])
    prose = code("print(s)", outputs=[{"output_type": "stream", "name": "stdout", "text": "word " * 30 + "\n"}])
    wide = code("print(t)", outputs=[{"output_type": "stream", "name": "stdout", "text": ("x" * 130 + "\n") * 2}])
    assert len(row) == 88 and deck_prep.narrow_text_size(table) == 21                   # 88 * 21 <= 78 * 24
    assert deck_prep.narrow_text_size(prose) is None                                     # one line: it wraps at spaces
    assert deck_prep.narrow_text_size(wide) == 19                                        # never below 14 pt
    cells = deck_prep.prepare({"cells": [TITLE, table], "metadata": {}}, "06_x")["cells"]
    assert "cnnlib-output-21px" in cells[1]["metadata"]["tags"]
