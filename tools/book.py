"""Build the course website: Jupyter Book 1 over the executed notebooks, with no outside requests.

    python tools/book.py                  # what `make book` runs: build/book/html/index.html
    python tools/book.py --out DIR NOTEBOOK.ipynb ...   # other notebooks (the browser tests use copies)

Jupyter Book wants its pages under one folder, so this copies book/ (_config.yml, _toc.yml, intro.md)
and the notebooks (every notebooks/*.ipynb unless told otherwise, into notebooks/ as in the repository,
so the launch-on-Binder links point at the right files) into OUT/src, puts MathJax 3 from
build/vendor/node_modules (npm, installed by the Makefile) into its _vendor/mathjax (not _static: Jupyter
Book would add a script tag for every .js file found there), builds with
`jupyter-book build` (no notebook is executed) and leaves the site in OUT/html.

MathJax comes whole, its speech rule engine (sre/) included: the accessibility menu reads formulas
aloud with it. Jupyter Book's index.html only redirects to the intro; it is rewritten as a page with
a language and a title that redirects the same way. An explorer's stored picture gets a caption that
links to Binder, where it runs. book/_a11y/cnnlib-a11y.{css,js} fix the theme's
focus outlines, control names and dark-mode captions (issue 27).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from html import escape as html_escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # tools/ is not a package
import figure_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
MATHJAX3 = ROOT / "build" / "vendor" / "node_modules" / "mathjax3" / "es5"


def with_binder_links(nb: dict, name: str) -> dict:
    """An explorer's picture (its stored PNG) gets a caption that ends with the link that runs it."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and figure_text.is_explorer(cell):
            figure = cell["metadata"].setdefault("mystnb", {}).setdefault("figure", {})
            link = f"[Run this explorer on Binder]({figure_text.binder_url(name)})"
            figure["caption"] = f"{figure.get('caption', '')} {link}".strip()
    return nb


def stage(notebooks: list[Path], src: Path) -> None:
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(BOOK, src)
    (src / "notebooks").mkdir()
    for nb in notebooks:
        (src / "notebooks" / nb.name).write_text(json.dumps(with_binder_links(json.loads(nb.read_text()), nb.stem)))
    if not (MATHJAX3 / "tex-chtml.js").exists():
        raise SystemExit(f"{MATHJAX3} is missing: run `make book` (it installs MathJax 3 with npm)")
    shutil.copytree(MATHJAX3, src / "_vendor" / "mathjax")


INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="Refresh" content="0; url=intro.html">
<link rel="canonical" href="intro.html">
</head>
<body>
<p><a href="intro.html">{title}: go to the course's first page</a></p>
</body>
</html>
"""


def book_title() -> str:
    for line in (BOOK / "_config.yml").read_text().splitlines():
        if line.startswith("title:"):
            return line.split(":", 1)[1].strip().strip('"')
    return "cnnlib"


def build(notebooks: list[Path], out: Path) -> Path:
    src = out / "src"
    stage(notebooks, src)
    subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "build", str(src), "--path-output", str(out),
                    "--warningiserror", "--quiet"], check=True)
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.copytree(out / "_build" / "html", html)
    (html / "index.html").write_text(INDEX.format(title=html_escape(book_title())))
    return html


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(build(notebooks, args.out) / "index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
