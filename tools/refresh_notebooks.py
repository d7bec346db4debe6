"""Build notebooks/NN_name.ipynb from notebooks/src/NN_name.py and execute it in place.

The notebooks are written as jupytext "percent" scripts in notebooks/src/ (easy to read in a
diff, easy to review) and committed as executed .ipynb files, because strict nbval compares
every fresh output with the stored one.

    python tools/refresh_notebooks.py                      # every notebook
    python tools/refresh_notebooks.py notebooks/src/02_convolution.py notebooks/03_pooling.ipynb

Metadata noise (execution timings, widget state, kernel versions) is stripped; outputs,
execution counts, cell tags, slide metadata and figure descriptions are kept. A figure's ``alt`` and
``caption`` on its cell marker become ``mystnb.image.alt`` and ``mystnb.figure.caption``, the keys the
site and the decks read (tools/figure_text.py).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import figure_text  # noqa: E402  (tools/ is not a package)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
KEEP_CELL_METADATA = ("tags", "jupyter", "slideshow", "mystnb")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def merged_streams(outputs):
    """Join consecutive prints to the same stream into one output (how they arrive is timing-dependent)."""
    merged = []
    for out in outputs:
        if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                and merged[-1].name == out.name):
            merged[-1].text += out.text
        else:
            merged.append(out)
    return merged


def source_for(path: Path) -> Path:
    path = path.resolve()
    if path.suffix == ".ipynb":
        return SOURCES / (path.stem + ".py")
    return path


def build(source: Path) -> nbformat.NotebookNode:
    """The unexecuted notebook for one source script, with clean metadata."""
    nb = jupytext.read(source)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(nb.cells):
        metadata = figure_text.to_mystnb(dict(cell.metadata))
        cell.metadata = nbformat.from_dict({k: v for k, v in metadata.items() if k in KEEP_CELL_METADATA})
        cell.id = f"cell-{i:03d}"  # stable ids keep diffs small
    return nb


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
        for out in cell.get("outputs", []):
            out.get("metadata", {}).pop("execution", None)
            # A widget view points at a model that only exists in a live kernel (and gets a new
            # random id each run); the stored text/plain says what to do instead.
            out.get("data", {}).pop(WIDGET_VIEW, None)
    nbformat.validate(nb)
    return nb


def refresh(source: Path) -> float:
    nb = build(source)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    target = NOTEBOOKS / (source.stem + ".ipynb")
    nbformat.write(clean(nb), target)
    return seconds


def main(argv: list[str]) -> int:
    sources = [source_for(Path(a)) for a in argv] or sorted(SOURCES.glob("*.py"))
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        print(f"no such notebook source: {', '.join(missing)}", file=sys.stderr)
        return 2
    for source in sources:
        seconds = refresh(source)
        print(f"{source.stem}.ipynb executed in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
