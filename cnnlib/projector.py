"""How large a figure's text is once the figure is on a projected slide (issue 27: at least 14 pt).

A deck (tools/slides.py) shows each figure at its own size in CSS pixels, the PNG's pixels, unless that
is wider or taller than the room on a 1280x720 slide: then it is scaled down to fit (the deck's CSS: at
most SLIDE_FIGURE_WIDTH x SLIDE_FIGURE_HEIGHT). The notebooks draw at NOTEBOOK_DPI and save the figure's
tight bounding box (matplotlib-inline's default), so a text of ``s`` points shows at

    s / 72 * dpi * min(1, SLIDE_FIGURE_WIDTH / png_width, SLIDE_FIGURE_HEIGHT / png_height)   CSS px,

and 14 pt on the 1280x720 slide is 14 / 72 * 96 = 18.7 CSS px. ``small_text(fig)`` lists every visible
text of a figure that shows smaller than that; the tests run it on the figure functions of ``cnnlib.viz``
and ``cnnlib.plots``. A wide or tall figure is scaled down more, so it needs larger fonts (or a smaller
figure size) than a narrow one.

    >>> small_text(plot_history(history))
    []
"""
from __future__ import annotations

import io
import struct

NOTEBOOK_DPI = 150                      # plt.rcParams["figure.dpi"] in every notebook's first cell
SLIDE_FIGURE_WIDTH = 1262               # px: the widest a figure shows on a 1280x720 slide (measured in Chromium)
SLIDE_FIGURE_HEIGHT = 440               # px: the tallest (tools/slides_template/cnnlib_reveal: max-height)
MIN_PT = 14                             # the minimum, in points on the 1280x720 slide
CSS_PX_PER_PT = 96 / 72


def png_size(fig, dpi: float = NOTEBOOK_DPI) -> tuple[int, int]:
    """Width and height in pixels of the PNG a notebook stores for ``fig`` (tight bounding box)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    head = buf.getvalue()[:24]
    return struct.unpack(">II", head[16:24])


def slide_px_per_pt(fig, dpi: float = NOTEBOOK_DPI) -> float:
    """CSS pixels per point of text when ``fig`` is shown on a 1280x720 slide."""
    width, height = png_size(fig, dpi)
    scale = min(1.0, SLIDE_FIGURE_WIDTH / width, SLIDE_FIGURE_HEIGHT / height)
    return dpi / 72 * scale


def visible_texts(fig) -> list:
    """Every Text artist of ``fig`` that is drawn and says something (tick labels, titles, legends,
    annotations, bar labels, colour bars)."""
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()
            and (t.axes is None or t.axes.get_visible())]


def small_text(fig, dpi: float = NOTEBOOK_DPI, min_pt: float = MIN_PT) -> list[str]:
    """The texts of ``fig`` that show smaller than ``min_pt`` points on a 1280x720 slide (empty: none).
    Each entry names the text, its font size and what it shows at."""
    px_per_pt = slide_px_per_pt(fig, dpi)
    need = min_pt * CSS_PX_PER_PT
    found = []
    for text in visible_texts(fig):
        shown = text.get_fontsize() * px_per_pt
        if shown < need - 1e-9:
            found.append(f"{text.get_text().strip()[:40]!r}: {text.get_fontsize():g} pt shows at {shown:.1f} px "
                         f"on a 1280x720 slide; {min_pt:g} pt is {need:.1f} px (needs {need / px_per_pt:.1f} pt "
                         f"at this figure's size)")
    return found
