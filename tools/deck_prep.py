"""What a notebook becomes before nbconvert makes it a deck, and what the deck's HTML loses afterwards.

tools/slides.py calls ``prepare`` on a copy of each notebook (the committed notebook is never changed):

- the deck's title (``<title>``) is the notebook's first ``# `` heading, not its file name;
- setup cells (the imports, the seeded generator, the environment report) are skipped, and nbval's
  ``# NBVAL_...`` markers are left out of the code shown;
- an exercise's check (the cell tagged ``check``) is shown without its output: the deck leaves out the
  solution (tagged ``solution``), and the verdict it earned ("Exercise 1: correct! CONV2: 27x27x256 and
  614,656 parameters") would give the answer away under the learner's empty stub;
- a printed table whose lines are too long for the slide at 24px gets a smaller size, down to 19px
  (``narrow_text_size``), instead of wrapping in the middle of its numbers;
- an explorer's cell (``cnnlib.widgets``) gets the Binder link that runs its notebook (its picture,
  alt text and caption come from the notebook: tools/figure_text.py);
- a slide whose estimated height passes the screen at the decks' font sizes (28px prose, 24px code)
  is split: the next cell starts a sub-slide, and a code cell too tall with its output shows the code
  on one sub-slide and the output on the next. e2e/test_slides.py measures every slide in Chromium.

``without_tabindex`` then takes off the ``tabindex="0"`` that nbconvert puts on every input and output:
nothing on a slide scrolls, so Tab has nothing to do there but get lost.
"""
from __future__ import annotations

import copy
import re

from figure_text import binder_url, is_explorer

HIDDEN = ("skip", "notes")
# Heights in pixels at 1280x720 (the template's CSS): enough to decide where to split.
PROSE_LINE, PROSE_CHARS = 38, 80          # 28px text, line-height 1.35
CODE_LINE, CODE_CHARS = 32, 78            # 24px monospace, wrapped
OUT_LINE, OUT_CHARS = 32, 78
CELL_GAP, HEADING_EXTRA = 28, 30
TABLE_ROW, ROW_CHARS = 36, 40            # a table row: one 24px line per 40 characters of its text
FIGURE_MAX, CAPTION_LINE, CAPTION_CHARS = 440, 32, 90
SLIDE_WIDTH = 1180                        # the slide's 1280 less its margins
BUDGET = 600                              # of the 720: reveal's margins, the slide number
SETUP = re.compile(r"\benv_report\(|\bdefault_rng\(|\bmanual_seed\(")
IMPORT_LINE = re.compile(r"^(\s*(import |from \S+ import |%|#)|\s*$)")
OUTPUT_ONLY_TAG = "cnnlib-output-only"
# A printed table (two or more lines longer than OUT_CHARS at 24px) would wrap in the middle of its numbers:
# its text gets the size at which the longest line fits, down to 19px (14 pt; longer lines still wrap).
NARROW_SIZES = (22, 21, 20, 19)
NARROW_TAG = "cnnlib-output-{}px"
NBVAL_MARK = re.compile(r"^# NBVAL_\w+[^\n]*\n", re.M)


def source_of(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def slide_type(cell: dict) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def set_type(cell: dict, kind: str) -> None:
    cell.setdefault("metadata", {}).setdefault("slideshow", {})["slide_type"] = kind


def title(nb: dict) -> str | None:
    for cell in nb.get("cells", []):
        if cell["cell_type"] == "markdown":
            for line in source_of(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def is_setup(cell: dict, code_index: int) -> bool:
    """The imports (the first code cell, when it only imports) and the cell that seeds and reports."""
    src = source_of(cell)
    if code_index == 0 and all(IMPORT_LINE.match(line) for line in src.splitlines()):
        return True
    return code_index <= 2 and bool(SETUP.search(src)) and len(src.strip().splitlines()) <= 8


def _wrapped(text: str, chars: int) -> int:
    return sum(max(1, -(-len(line) // chars)) for line in text.splitlines()) if text.strip() else 0


def figure_height(b64: str) -> int:
    """The height a PNG takes on a slide: its own, scaled to the slide's width, at most FIGURE_MAX."""
    import base64
    import struct
    head = base64.b64decode(b64[:64])
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return FIGURE_MAX
    width, height = struct.unpack(">II", head[16:24])
    return min(height, FIGURE_MAX, height * SLIDE_WIDTH // max(width, 1))


def output_height(cell: dict) -> int:
    height = 0
    caption = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption", "")
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            png = data["image/png"]
            height += figure_height("".join(png) if isinstance(png, list) else png)
            height += _wrapped(caption, CAPTION_CHARS) * CAPTION_LINE + (CAPTION_LINE if is_explorer(cell) else 0)
        elif "text/html" in data:
            height += html_height("".join(data["text/html"]))
        elif out.get("output_type") == "stream" or "text/plain" in data:
            text = out.get("text", data.get("text/plain", ""))
            height += _wrapped("".join(text) if isinstance(text, list) else text, OUT_CHARS) * OUT_LINE + 16
    return height


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def html_height(html: str) -> int:
    """A rich output's height: its table rows by the length of their text (cells wrap), the rest by lines."""
    rows = re.findall(r"(?s)<tr.*?</tr>", html)
    height = sum(TABLE_ROW * max(1, -(-len(_text(row)) // ROW_CHARS)) for row in rows)
    rest = re.sub(r"(?s)<tr.*?</tr>", "", html)
    paragraphs = re.findall(r"(?s)<(?:p|h\d|caption|li)\b.*?</(?:p|h\d|caption|li)>", rest)
    return height + sum(OUT_LINE * max(1, _wrapped(_text(p), PROSE_CHARS)) + 12 for p in paragraphs) + 20


HTML_BLOCK = re.compile(r"(?s)<table\b.*?</table>|<p\b.*?</p>|<h\d\b.*?</h\d>|<pre\b.*?</pre>|<ul\b.*?</ul>"
                        r"|(?:<br>)?<small\b.*?</small>")


def _html_pieces(html: str) -> list[str]:
    """Top-level paragraphs and tables, a table cut by rows (caption and header on each piece)."""
    blocks = HTML_BLOCK.findall(html)
    if "".join(blocks) != html.strip():
        blocks = [html]
    pieces = []
    for block in blocks:
        match = re.search(r"(?s)^(<table\b.*?<tbody>)(.*?)(</tbody>.*)$", block)
        if not match or html_height(block) <= BUDGET - CELL_GAP:
            pieces.append(block)
            continue
        head, tail, chunk = match.group(1), match.group(3), []
        for row in re.findall(r"(?s)<tr.*?</tr>", match.group(2)):
            if chunk and html_height(head + "".join([*chunk, row]) + tail) > BUDGET - CELL_GAP:
                pieces.append(head + "".join(chunk) + tail)
                chunk = []
            chunk.append(row)
        pieces.append(head + "".join(chunk) + tail)
    return pieces


def cell_height(cell: dict) -> int:
    src = source_of(cell)
    if cell["cell_type"] == "markdown":
        paragraphs = [p for p in re.split(r"\n\s*\n", src) if p.strip()]
        lines = sum(max(1, _wrapped(" ".join(p.split("\n")), PROSE_CHARS)) if not p.lstrip().startswith(("-", "|", "$$"))
                    else _wrapped(p, PROSE_CHARS) for p in paragraphs)
        heading = HEADING_EXTRA if src.lstrip().startswith("#") else 0
        return lines * PROSE_LINE + len(paragraphs) * 14 + heading + CELL_GAP
    shown = "" if OUTPUT_ONLY_TAG in cell.get("metadata", {}).get("tags", []) else src   # its code is hidden
    return _wrapped(shown, CODE_CHARS) * CODE_LINE + output_height(cell) + CELL_GAP


def blocks(markdown: str) -> list[str]:
    """Markdown split at blank lines, never inside a fenced code block or a $$ formula."""
    out, current, fenced = [], [], False
    for line in markdown.split("\n"):
        if line.strip().startswith("```") or line.strip() == "$$":
            fenced = not fenced
        if not line.strip() and not fenced and current:
            out.append("\n".join(current))
            current = []
        elif line.strip() or current:
            current.append(line)
    if current:
        out.append("\n".join(current))
    out = [item for block in out for item in _list_items(block)]
    merged = []                     # a paragraph that ends with ':' stays with what it introduces, if they fit
    for block in out:
        together = f"{merged[-1]}\n\n{block}" if merged else ""
        if merged and merged[-1].rstrip().endswith(":") and cell_height({"cell_type": "markdown",
                                                                          "source": together}) <= BUDGET:
            merged[-1] = f"{merged[-1]}\n\n{block}"
        else:
            merged.append(block)
    return merged


LIST_ITEM = re.compile(r"^(?:[-*+]|\d+\.) ")


def _list_items(block: str) -> list[str]:
    """A list taller than a slide, item by item (an item's indented lines stay with it)."""
    if not LIST_ITEM.match(block) or cell_height({"cell_type": "markdown", "source": block}) <= BUDGET:
        return [block]
    items: list[list[str]] = []
    for line in block.split("\n"):
        if LIST_ITEM.match(line) or not items:
            items.append([line])
        else:
            items[-1].append(line)
    return ["\n".join(item) for item in items]


def split_tall_markdown(cell: dict) -> list[dict]:
    """A Markdown cell taller than a slide, as several cells that each fit, the later ones sub-slides."""
    parts, chunk = [], []
    for block in blocks(source_of(cell)):
        if chunk and cell_height({"cell_type": "markdown", "source": "\n\n".join([*chunk, block])}) > BUDGET:
            parts.append(chunk)
            chunk = []
        chunk.append(block)
    parts.append(chunk)
    cells = []
    for k, chunk in enumerate(parts):
        part = copy.deepcopy(cell)
        part["source"] = "\n\n".join(chunk)
        part.pop("id", None)
        if k:
            set_type(part, "subslide")
        cells.append(part)
    return cells


def _pieces(out: dict) -> list[dict]:
    """One output as several that each fit a slide: a long text by lines, a long table by rows (its
    caption and header on every piece)."""
    data = out.get("data", {})
    if "text/html" in data and "image/png" not in data:
        return [dict(out, data={"text/html": piece}) for piece in _html_pieces("".join(data["text/html"]))]
    text = out.get("text") if out.get("output_type") == "stream" else data.get("text/plain")
    if text is None or "image/png" in data:
        return [out]
    lines = ("".join(text) if isinstance(text, list) else text).splitlines(keepends=True)
    per = max(1, (BUDGET - 40) // OUT_LINE)
    if _wrapped("".join(lines), OUT_CHARS) <= per:
        return [out]
    chunks, chunk = [], []
    for line in lines:
        if chunk and _wrapped("".join([*chunk, line]), OUT_CHARS) > per:
            chunks.append(chunk)
            chunk = []
        chunk.append(line)
    chunks.append(chunk)
    if out.get("output_type") == "stream":
        return [dict(out, text="".join(c)) for c in chunks]
    return [dict(out, data=dict(data, **{"text/plain": "".join(c)})) for c in chunks]


def narrow_text_size(cell: dict) -> int | None:
    """The font size (px) at which a code cell's printed table keeps its lines whole, or None: its text
    outputs fit at 24px, or only one line is too long (prose, which wraps at a space)."""
    lines = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        text = out.get("text") if out.get("output_type") == "stream" else (
            data.get("text/plain") if not {"text/html", "image/png"} & set(data) else None)
        if text:
            lines += ("".join(text) if isinstance(text, list) else text).splitlines()
    long = [len(line) for line in lines if len(line) > OUT_CHARS]
    if len(long) < 2:
        return None
    fits = [size for size in NARROW_SIZES if max(long) * size <= OUT_CHARS * 24]
    return fits[0] if fits else NARROW_SIZES[-1]


def split_tall_cell(cell: dict) -> list[dict]:
    """A code cell too tall with its output: the code on one slide, then its outputs alone, as many
    sub-slides as they need (a long table or text is cut into pieces that fit)."""
    code_only = copy.deepcopy(cell)
    code_only["outputs"] = []
    groups, pending = [], []
    for piece in (p for out in cell["outputs"] for p in _pieces(out)):
        if pending and cell_height(dict(cell, source="", outputs=[*pending, piece])) > BUDGET:
            groups.append(pending)
            pending = []
        pending.append(piece)
    groups.append(pending)
    result = [code_only]
    for outputs in groups:
        output_only = copy.deepcopy(cell)
        output_only["outputs"] = outputs
        output_only["metadata"]["tags"] = [*cell["metadata"].get("tags", []), OUTPUT_ONLY_TAG]
        set_type(output_only, "subslide")
        result.append(output_only)
    return result


def prepare(nb: dict, name: str) -> dict:
    """A copy of the notebook ready for the deck (see the module's docstring)."""
    nb = copy.deepcopy(nb)
    heading = title(nb)
    if heading:
        nb.setdefault("metadata", {})["title"] = heading
    cells, code_index = [], 0
    for cell in nb["cells"]:
        cell.setdefault("metadata", {})
        if cell["cell_type"] == "markdown" and slide_type(cell) not in HIDDEN and cell_height(cell) > BUDGET:
            cells += split_tall_markdown(cell)
            continue
        if cell["cell_type"] == "code":
            cell["source"] = NBVAL_MARK.sub("", source_of(cell))      # nbval's markers mean nothing on a slide
            if "check" in cell["metadata"].get("tags", []):
                cell["outputs"] = []       # its verdict came from the hidden solution and can name the answer
            size = narrow_text_size(cell)
            if size:
                cell["metadata"]["tags"] = [*cell["metadata"].get("tags", []), NARROW_TAG.format(size)]
            if is_setup(cell, code_index):
                set_type(cell, "skip")
            code_index += 1
            if is_explorer(cell):
                cell["metadata"]["cnnlib_binder"] = binder_url(name)
            if slide_type(cell) not in HIDDEN and cell_height(cell) > BUDGET and cell.get("outputs"):
                cells += split_tall_cell(cell)
                continue
        cells.append(cell)
    height = 0
    for cell in cells:
        kind = slide_type(cell)
        if kind in HIDDEN:
            continue
        h = cell_height(cell)
        if kind in ("slide", "subslide"):
            height = h
        elif height + h > BUDGET and height > 0:
            set_type(cell, "subslide")
            height = h
        else:
            height += h
    nb["cells"] = cells
    return nb


TABINDEX = re.compile(r'(<div\b[^>]*?)\s+tabindex="0"')


def without_tabindex(html: str) -> str:
    """The deck's HTML without nbconvert's tabindex on inputs and outputs (nothing scrolls)."""
    return TABINDEX.sub(r"\1", html)
