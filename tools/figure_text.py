"""Figure descriptions: written once in the notebook source, carried to the notebook, the site and the decks.

    python tools/figure_text.py check [notebooks/src/NN_name.py ...]   # every figure described? (no browser)
    python tools/figure_text.py copy --out DIR [notebooks/src/NN_name.py ...]
        # DIR/NN_name.ipynb: the committed notebook with its source's current descriptions (no re-execution),
        # to build the site or the decks from (tools/book.py --out ... DIR/*.ipynb; E2E_NOTEBOOKS=DIR/*.ipynb)

The convention
--------------
A code cell that draws a figure carries its alt text on its jupytext cell marker, and a complex figure
(feature maps, saliency) also a short caption that everyone sees::

    # %% alt="Sigmoid and tanh on -5..5: both flatten at the ends, so their slope there is near zero."
    # %% alt="..." caption="Each panel is one filter's response; bright where the edge it detects is."

(The values are JSON strings: no double quotes inside, or escape them.) `tools/refresh_notebooks.py`
turns them into the keys that the outputs read, in the notebook's cell metadata:

- ``alt`` -> ``mystnb.image.alt``: myst-nb writes it as the ``alt`` of the figure on the site, and the
  decks' template (tools/slides_template/cnnlib_reveal) writes it as the ``alt`` of the figure's ``<img>``;
- ``caption`` -> ``mystnb.figure.caption``: a caption under the figure on the site and in the decks.

An explorer's cell (an ``ipywidgets`` explorer from ``cnnlib.widgets``) stores a picture of its default
state; its alt says what the picture shows and its caption what to try, and both outputs add a link
that runs the notebook on Binder.

What counts as alt text (``alt_problem``): at least MIN_WORDS words, not a file name or path, not a
placeholder ("No description has been provided for this image", "figure", "image", "plot").
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
MIN_WORDS = 6
SOURCE_KEYS = ("alt", "caption")
BINDER = "https://mybinder.org/v2/gh/cnnlib/cnnlib/main?urlpath=lab/tree/notebooks"
EXPLORER_TEXT = "an interactive explorer"      # what cnnlib.widgets.explorers.Explorer's text form says
# Being rewritten elsewhere (their figures change): their alt text is written with the new figures.
PENDING: tuple[str, ...] = ()  # notebooks whose figures still lack descriptions (none now)
GENERIC = re.compile(r"^(no description|figure|image|plot|graph|chart|picture|output|png)\b", re.I)
PATHLIKE = re.compile(r"(^|[\s/\\])[\w.-]+\.(png|jpe?g|svg|gif)\b|^[\w./\\-]+$|_images/|/tmp/", re.I)


def alt_problem(alt: str | None) -> str | None:
    """Why ``alt`` is not real alt text, or None when it is."""
    text = (alt or "").strip()
    if not text:
        return "no alt text"
    if GENERIC.match(text):
        return f"a placeholder, not a description: {text[:60]!r}"
    if PATHLIKE.search(text):
        return f"a file name or path, not a description: {text[:60]!r}"
    if len(re.findall(r"[A-Za-z]{2,}", text)) < MIN_WORDS:
        return f"fewer than {MIN_WORDS} words: {text!r}"
    return None


def binder_url(notebook: str) -> str:
    return f"{BINDER}/{notebook}.ipynb"


def is_explorer(cell: dict) -> bool:
    return any(EXPLORER_TEXT in "".join(out.get("data", {}).get("text/plain", ""))
               for out in cell.get("outputs", []))


def has_figure(cell: dict) -> bool:
    return any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def to_mystnb(metadata: dict) -> dict:
    """Cell metadata with the source's ``alt`` and ``caption`` moved to the keys the outputs read."""
    metadata = dict(metadata)
    alt, caption = metadata.pop("alt", None), metadata.pop("caption", None)
    if alt is None and caption is None:
        return metadata
    mystnb = json.loads(json.dumps(metadata.get("mystnb", {})))
    if alt is not None:
        mystnb.setdefault("image", {})["alt"] = alt
    if caption is not None:
        mystnb.setdefault("figure", {})["caption"] = caption
    metadata["mystnb"] = mystnb
    return metadata


def alt_of(cell: dict) -> str | None:
    meta = cell.get("metadata", {})
    return meta.get("mystnb", {}).get("image", {}).get("alt", meta.get("alt"))


def problems(nb: dict, name: str) -> list[str]:
    """Every figure of an executed notebook (cells with a PNG output, and explorers, which store a
    picture of their default state) that lacks real alt text."""
    found = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code" and (has_figure(cell) or is_explorer(cell)):
            why = alt_problem(alt_of(cell))
            if why:
                lines = [line for line in "".join(cell.get("source", "")).splitlines()
                         if line.strip() and not line.startswith("#") and line.strip() != "plt.show()"]
                found.append(f"{name} cell {i} ({(lines or [''])[0][:50]!r}): {why}")
    return found


def with_descriptions(source: Path, executed: Path) -> dict:
    """The executed notebook with the cell metadata (descriptions, slide types) of its source as it is now."""
    import jupytext

    nb = jupytext.read(source)
    ran = json.loads(executed.read_text())
    if len(ran["cells"]) != len(nb.cells):
        raise ValueError(f"{source.name}: {len(nb.cells)} cells but {executed.name} has {len(ran['cells'])}: "
                         f"re-execute it (make outputs) first")
    for src, cell in zip(nb.cells, ran["cells"]):
        meta = to_mystnb(json.loads(json.dumps(src.metadata)))
        cell["metadata"] = {k: v for k, v in meta.items() if k in ("tags", "jupyter", "slideshow", "mystnb")}
    return ran


def source_problems(source: Path, executed: Path) -> list[str]:
    """The figures of notebooks/NN.ipynb (its stored outputs say which cells draw) checked against the
    alt text in notebooks/src/NN.py, so a description written in the source counts before re-execution."""
    try:
        return problems(with_descriptions(source, executed), source.stem)
    except ValueError as exc:
        return [str(exc)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="list the figures that lack real alt text")
    c.add_argument("sources", nargs="*", type=Path)
    w = sub.add_parser("copy", help="write the committed notebooks with their sources' descriptions to OUT")
    w.add_argument("sources", nargs="*", type=Path)
    w.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    sources = args.sources or sorted(SOURCES.glob("*.py"))
    if args.command == "copy":
        args.out.mkdir(parents=True, exist_ok=True)
        for source in sources:
            target = args.out / f"{source.stem}.ipynb"
            target.write_text(json.dumps(with_descriptions(source, NOTEBOOKS / f"{source.stem}.ipynb"), indent=1))
            print(target)
        return 0
    found = []
    for source in sources:
        lacking = source_problems(source, NOTEBOOKS / f"{source.stem}.ipynb")
        if lacking and source.stem in PENDING:
            print(f"{source.stem}: {len(lacking)} figures without alt text (PENDING: being rewritten)")
        found += lacking
    print("\n".join(found) or f"every figure of {len(sources)} notebooks has alt text")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
