"""Slide decks from the notebooks: the metadata convention, a checker, a helper that suggests it, the build.

    python tools/slides.py build [NOTEBOOK.ipynb ...] [--out build/slides]   # what `make slides` runs
    python tools/slides.py check [NOTEBOOK.ipynb ...]                        # the convention, no browser
    python tools/slides.py suggest notebooks/src/NN_name.py [...]            # write default metadata

The slide metadata convention
-----------------------------
Every cell of a notebook may carry ``metadata.slideshow.slide_type``, one of ``slide``, ``subslide``,
``fragment``, ``skip``, ``notes`` or ``-`` (the default: continue the current slide). In a jupytext
percent source it sits on the cell marker::

    # %% [markdown] slideshow={"slide_type": "slide"}

A lecture walks along the main slides (right arrow) and may go down into sub-slides (down arrow, or
the space bar, which visits every slide). So:

1. The first cell is Markdown, starts with a ``# `` title and "what you will learn", and is a ``slide``:
   the title slide.
2. A Markdown cell that starts with a ``## `` section heading is a ``slide``; one that starts with a
   ``### `` heading is a ``subslide`` (or a ``slide``).
3. A code cell longer than 15 lines (blank lines not counted) is never shown on a main slide: it is
   ``skip``, ``notes`` or ``subslide``, or it continues a sub-slide. Long code belongs to the
   notebook, not the projector; whoever wants it goes down one slide.
4. Setup cells (the imports, the seeded generator) are ``skip``; so are exercise solutions (cells
   tagged ``solution``): a deck must not give them away.
5. Speaker notes are Markdown cells with ``notes`` (reveal.js shows them in its speaker view, key S).
6. Every slide fits a 1280x720 screen (the browser tests measure it). Split a slide that does not fit:
   make the next prose cell a ``subslide``, or move a large figure to its own sub-slide.

Rules 1-4 are checked without a browser (``check``, tests/test_slides_meta.py); rule 6 in
e2e/test_slides.py. ``suggest`` writes rules 1, 2 and 4 into a source, and starts a new sub-slide
wherever the estimated height of a slide would pass the screen (using the executed notebook's outputs
when notebooks/NN_name.ipynb exists), so the authors start from a deck that mostly fits and adjust
by hand. It keeps any slide_type a cell already has.

The build
---------
``jupyter nbconvert --to slides`` with reveal.js 4 (the major version nbconvert's reveal template is
written for), require.js, jQuery and MathJax 2 from local copies (npm, installed by the Makefile into
build/vendor/node_modules) copied into OUT/vendor/, so a deck opens from file:// or any local web
server with no network. The template tools/slides_template/cnnlib_reveal extends nbconvert's reveal
template: it drops the Mermaid and widget scripts (CDN only; an explorer shows its stored picture,
with its alt text, what to try and a Binder link) and scales figures to the slide.

Accessibility (issue 27): each notebook first goes through tools/deck_prep.py (a copy; the committed
notebook is untouched): the notebook's H1 becomes the deck's title, setup cells are skipped, and a
slide too tall at the decks' 28px prose / 24px code is split into sub-slides automatically. The
template writes each figure's alt text and caption from the cell metadata (tools/figure_text.py),
shows no prompts, wraps code instead of scrolling, sets colours at 4.5:1 or more, a focus outline on
everything, no forced capitals, makes the slides that are not showing inert and takes
role="application" off the deck; the build then drops nbconvert's tabindex on cells (nothing scrolls).

Browser zoom (WCAG 1.4.4): zooming in narrows the window in CSS pixels, and reveal.js alone would shrink
the slide to fit, so the text would keep its size on screen. When the window is narrower than the deck's
1280 px, the template lays each slide out at the window's width at its own font sizes instead: text grows
with the zoom (twice as large on screen at 200%), lines wrap, a slide taller than the window scrolls (Space,
Down and Page Down scroll it before moving on), and a table wider than the window scrolls sideways by itself
(it takes keyboard focus; Left and Right scroll it). At 1280 px and wider nothing changes. A window narrower
than 1280 px that is not zoomed (a 1024x768 projector) gets the same reading layout: present full screen
at 1280x720 or more. e2e/test_slides_zoom.py checks it at 640x360, which is 200% of 1280x720.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # tools/ is not a package
import deck_prep  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
VENDOR = ROOT / "build" / "vendor" / "node_modules"
TEMPLATES = ROOT / "tools" / "slides_template"
SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
HIDDEN = ("skip", "notes")
LONG_CODE_LINES = 15
WIDTH, HEIGHT = 1280, 720

# What the decks load, relative to the deck: (copied folder in build/vendor/node_modules, file in it).
REVEAL = "vendor/reveal.js"
REQUIRE = "vendor/requirejs/require.js"
JQUERY = "vendor/jquery/dist/jquery.min.js"
MATHJAX = "vendor/mathjax2/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
VENDOR_COPIES = {   # package -> the parts a deck needs (the rest of mathjax2 is 50 MB of other fonts)
    "reveal.js": ["dist", "plugin/notes", "LICENSE"],
    "requirejs": ["require.js"],
    "jquery": ["dist/jquery.min.js", "LICENSE.txt"],
    "mathjax2": ["MathJax.js", "LICENSE", "config", "extensions", "jax/element", "jax/input/TeX",
                 "jax/output/CommonHTML", "localization/en", "fonts/HTML-CSS/TeX/woff"],
}


# ---------------------------------------------------------------- the convention, checked


def slide_type(cell: dict) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip())


def source_of(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def problems(nb: dict, name: str = "notebook") -> list[str]:
    """Every way the notebook breaks rules 1-4 of the convention (empty: it follows them)."""
    cells = nb.get("cells", [])
    found = []
    if not cells:
        return [f"{name}: no cells"]
    first = cells[0]
    if not (first["cell_type"] == "markdown" and slide_type(first) == "slide"
            and source_of(first).lstrip().startswith("# ")):
        found.append(f"{name} cell 0: the title slide must be the first cell, Markdown starting with '# ', "
                     f"slide_type 'slide' (it is {first['cell_type']}, {slide_type(first)!r})")
    current = "slide"   # what the cells that continue ('-', 'fragment') belong to
    for i, cell in enumerate(cells):
        kind, src = slide_type(cell), source_of(cell)
        if kind not in SLIDE_TYPES:
            found.append(f"{name} cell {i}: slide_type {kind!r} is not one of {', '.join(SLIDE_TYPES)}")
            continue
        if kind in ("slide", "subslide"):
            current = kind
        head = src.lstrip().split("\n", 1)[0]
        if cell["cell_type"] == "markdown":
            if head.startswith("## ") and kind != "slide":
                found.append(f"{name} cell {i}: the section heading {head[:50]!r} must be a 'slide' (it is {kind!r})")
            if head.startswith("### ") and kind not in ("slide", "subslide"):
                found.append(f"{name} cell {i}: the heading {head[:50]!r} must be a 'subslide' or 'slide' "
                             f"(it is {kind!r})")
            continue
        if cell["cell_type"] != "code":
            continue
        if "solution" in cell.get("metadata", {}).get("tags", []) and kind != "skip":
            found.append(f"{name} cell {i}: an exercise solution must be 'skip' (it is {kind!r})")
        n = code_lines(src)
        on_main_slide = kind not in HIDDEN and kind != "subslide" and current == "slide"
        if n > LONG_CODE_LINES and on_main_slide:
            found.append(f"{name} cell {i}: {n} lines of code on a main slide; make it 'subslide', 'skip' "
                         f"or 'notes', or put it on a sub-slide")
    return found


# ---------------------------------------------------------------- suggest: write the default metadata

MARKER = re.compile(r"^# %%(?P<rest>.*)$")
SLIDESHOW_OPTION = re.compile(r'\s*slideshow=\{[^{}]*\}')
IMPORTS = re.compile(r"^(\s*(import |from \S+ import |%|#)|\s*$)")
# Rough heights in pixels at the notebook's own font sizes, for `suggest` (the build re-splits each slide
# at the decks' 28px prose / 24px code by itself: tools/deck_prep.py).
PROSE_LINE, CODE_LINE, TEXT_OUT_LINE, CELL_GAP, PROSE_CHARS = 31, 27, 25, 24, 105
BUDGET = 600   # of the 720: reveal's margins and the controls
FIGURE_MAX = 440   # the template scales a figure down to at most this height (custom.css)


def _png_height(b64: str) -> int:
    import base64
    import struct
    head = base64.b64decode(b64[:64])
    return struct.unpack(">I", head[20:24])[0] if head[:8] == b"\x89PNG\r\n\x1a\n" else 0


def estimated_height(cell: dict, outputs: list | None) -> int:
    src = source_of(cell)
    if cell["cell_type"] == "markdown":
        lines = []
        for para in src.split("\n\n"):
            text = " ".join(para.split("\n"))
            lines.append(max(1, -(-len(text) // PROSE_CHARS)))
        heading = 20 if src.lstrip().startswith("#") else 0
        return sum(lines) * PROSE_LINE + (len(lines) - 1) * 16 + heading + CELL_GAP
    height = code_lines(src) * CODE_LINE + CELL_GAP
    for out in outputs or []:
        data = out.get("data", {})
        if "image/png" in data:
            png = data["image/png"]
            png = "".join(png) if isinstance(png, list) else png
            height += min(_png_height(png), FIGURE_MAX)
        elif out.get("output_type") == "stream":
            text = out.get("text", "")
            height += (("".join(text) if isinstance(text, list) else text).count("\n") + 1) * TEXT_OUT_LINE
        elif "text/plain" in data:
            text = data["text/plain"]
            height += (("".join(text) if isinstance(text, list) else text).count("\n") + 1) * TEXT_OUT_LINE
    return height


def suggested_types(cells: list[dict], outputs: list[list] | None = None) -> list[str]:
    """The default convention for cells that have no slide_type yet (cells that have one keep it)."""
    types, height, code_seen = [], 0, 0
    for i, cell in enumerate(cells):
        given = slide_type(cell) if "slideshow" in cell.get("metadata", {}) else None
        src = source_of(cell)
        head = src.lstrip().split("\n", 1)[0]
        h = estimated_height(cell, outputs[i] if outputs and i < len(outputs) else None)
        if cell["cell_type"] == "code":
            code_seen += 1
        if given is not None:
            kind = given
        elif i == 0 or (cell["cell_type"] == "markdown" and head.startswith("## ")):
            kind = "slide"
        elif cell["cell_type"] == "markdown" and head.startswith("### "):
            kind = "subslide"
        elif cell["cell_type"] == "code" and (
                "solution" in cell.get("metadata", {}).get("tags", [])
                or (code_seen == 1 and all(IMPORTS.match(line) for line in src.splitlines()))
                or (code_seen == 2 and code_lines(src) <= 4 and "rng" in src and "print(" not in src)):
            kind = "skip"
        elif cell["cell_type"] == "code" and code_lines(src) > LONG_CODE_LINES:
            kind = "subslide"
        elif height + h > BUDGET and height > 0:
            kind = "subslide"
        else:
            kind = "-"
        if kind in ("slide", "subslide"):
            height = h
        elif kind not in HIDDEN:
            height += h
        types.append(kind)
    return types


def suggest(source: Path, executed: Path | None = None) -> int:
    """Write the default slide metadata onto the `# %%` markers of a jupytext percent source, in place.
    Returns how many markers changed. Cells that already have a slide_type keep it."""
    import jupytext

    text = source.read_text()
    nb = jupytext.reads(text, fmt="py:percent")
    outputs = None
    if executed is not None and executed.exists():
        ran = json.loads(executed.read_text())
        if len(ran["cells"]) == len(nb.cells):
            outputs = [c.get("outputs", []) for c in ran["cells"]]
    kinds = suggested_types([dict(c) for c in nb.cells], outputs)
    lines = text.split("\n")
    markers = [k for k, line in enumerate(lines) if MARKER.match(line)]
    # jupytext writes a marker for every cell except possibly a first cell without one
    if len(markers) != len(nb.cells):
        raise ValueError(f"{source}: {len(markers)} '# %%' markers but {len(nb.cells)} cells; "
                         f"give every cell a '# %%' marker first")
    changed = 0
    for k, kind in zip(markers, kinds):
        if "slideshow=" in lines[k] or kind == "-":
            continue
        lines[k] = f'{lines[k].rstrip()} slideshow={{"slide_type": "{kind}"}}'
        changed += 1
    source.write_text("\n".join(lines))
    return changed


# ---------------------------------------------------------------- the build


def copy_vendor(out: Path) -> None:
    """The parts of build/vendor/node_modules that the decks load, into OUT/vendor/."""
    missing = [p for p in VENDOR_COPIES if not (VENDOR / p).is_dir()]
    if missing:
        raise SystemExit(f"{VENDOR} lacks {', '.join(missing)}: run `make slides` (it installs them with npm)")
    for package, parts in VENDOR_COPIES.items():
        for part in parts:
            src, dst = VENDOR / package / part, out / "vendor" / package / part
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)


def nbconvert_command(notebooks: list[Path], out: Path) -> list[str]:
    return [sys.executable, "-m", "jupyter", "nbconvert", "--to", "slides",
            f"--TemplateExporter.extra_template_basedirs={TEMPLATES}", "--template", "cnnlib_reveal",
            f"--SlidesExporter.reveal_url_prefix={REVEAL}",
            f"--SlidesExporter.require_js_url={REQUIRE}",
            f"--SlidesExporter.jquery_url={JQUERY}",
            f"--SlidesExporter.mathjax_url={MATHJAX}",
            f"--SlidesExporter.reveal_width={WIDTH}", f"--SlidesExporter.reveal_height={HEIGHT}",
            "--SlidesExporter.reveal_number=c/t", "--SlidesExporter.reveal_theme=white",
            "--SlidesExporter.exclude_input_prompt=True", "--SlidesExporter.exclude_output_prompt=True",
            "--TagRemovePreprocessor.enabled=True", "--TagRemovePreprocessor.remove_cell_tags=solution",
            f"--output-dir={out}", *map(str, notebooks)]


def build(notebooks: list[Path], out: Path) -> list[Path]:
    """OUT/NN_name.slides.html for each notebook: a prepared copy (tools/deck_prep.py) through nbconvert,
    then its HTML without nbconvert's tabindex on cells that do not scroll."""
    out.mkdir(parents=True, exist_ok=True)
    copy_vendor(out)
    prepared = out / ".prepared"
    prepared.mkdir(exist_ok=True)
    copies = []
    for nb in notebooks:
        copy = prepared / nb.name
        copy.write_text(json.dumps(deck_prep.prepare(json.loads(nb.read_text()), nb.stem)))
        copies.append(copy)
    subprocess.run(nbconvert_command(copies, out), check=True)
    decks = [out / f"{nb.stem}.slides.html" for nb in notebooks]
    for deck in decks:
        deck.write_text(deck_prep.without_tabindex(deck.read_text()))
    return decks


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write OUT/NN_name.slides.html for each notebook")
    b.add_argument("notebooks", nargs="*", type=Path)
    b.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    c = sub.add_parser("check", help="list where the notebooks break the convention")
    c.add_argument("notebooks", nargs="*", type=Path)
    s = sub.add_parser("suggest", help="add the default slide metadata to jupytext sources, in place")
    s.add_argument("sources", nargs="+", type=Path)
    s.add_argument("--executed", type=Path, help="the executed notebook (default: ../NAME.ipynb)")
    args = parser.parse_args(argv)
    if args.command == "build":
        notebooks = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
        for deck in build(notebooks, args.out):
            print(deck)
        return 0
    if args.command == "check":
        notebooks = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
        found = [p for nb in notebooks for p in problems(json.loads(nb.read_text()), nb.name)]
        print("\n".join(found) or f"{len(notebooks)} notebooks follow the slide convention")
        return 1 if found else 0
    for source in args.sources:
        executed = args.executed or source.resolve().parent.parent / f"{source.stem}.ipynb"
        print(f"{source}: {suggest(source, executed)} cell markers given a slide_type")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
