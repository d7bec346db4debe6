"""The static slide decks (tools/slides.py, `make slides`) in headless Chromium, with no network.

Every request that would leave 127.0.0.1 is aborted and counted. For each notebook's deck:
- it starts reveal.js on its title slide (the notebook's `# ` title), steps to the next slide and
  renders math with the local MathJax, from a local web server, with zero outside requests;
- every slide fits a 1280x720 screen: each slide is shown in turn and its content measured.
One deck is also opened from file://. Screenshots go to e2e-screenshots/slides-*.png.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from labsession import SCREENSHOTS, notebook_paths

WIDTH, HEIGHT = 1280, 720
TOLERANCE_PX = 2
PATHS = notebook_paths()
IDS = [p.stem for p in PATHS]


def expected(path: Path) -> tuple[str, bool]:
    """The notebook's title (its first `# ` line) and whether its Markdown has math ($...$)."""
    nb = json.loads(path.read_text())
    first = "".join(nb["cells"][0]["source"]) if nb["cells"] else ""
    title = next((line[2:].strip() for line in first.splitlines() if line.startswith("# ")), "")
    prose = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return title, bool(re.search(r"\$[^$\n]+\$", prose))


def open_deck(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.Reveal && window.Reveal.isReady && Reveal.isReady()", timeout=30_000)
    page.evaluate("() => Reveal.configure({transition: 'none'})")


def wait_for_math(page) -> int:
    """MathJax 2 has typeset the deck: the number of its rendered formulas (CommonHTML output)."""
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                           "&& !MathJax.Hub.queue.running", timeout=30_000)
    return page.locator(".MathJax_CHTML").count()


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_deck_starts_offline_on_its_title_and_steps_forward(path, decks, static_server, offline):
    page, blocked, errors = offline
    title, has_math = expected(path)
    SCREENSHOTS.mkdir(exist_ok=True)
    open_deck(page, f"{static_server}/slides/{decks[path.stem].name}")
    assert page.evaluate("() => [Reveal.getIndices().h, Reveal.getIndices().v]") == [0, 0]
    heading = page.locator(".reveal .slides section.present h1").first
    assert heading.inner_text().strip().rstrip("¶").strip().lower() == title.lower(), (
        f"{path.name}: the first slide is not the title slide")
    formulas = wait_for_math(page)
    if has_math:
        assert formulas > 0, f"{path.name}: the notebook has $...$ math but MathJax rendered none"
    assert not page.locator(".MathJax_Error, .reveal .merror").count(), f"{path.name}: a formula failed"
    page.screenshot(path=str(SCREENSHOTS / f"slides-{path.stem}-title.png"))
    total = page.evaluate("() => Reveal.getTotalSlides()")
    assert total >= 2, f"{path.name}: a deck of {total} slide(s); the sections must be slides"
    page.keyboard.press("Space")              # the key that walks every slide, sub-slides included
    page.wait_for_function("() => Reveal.getIndices().h + Reveal.getIndices().v > 0", timeout=5_000)
    assert page.locator(".reveal .slides section.present").last.inner_text().strip(), "the next slide is empty"
    page.screenshot(path=str(SCREENSHOTS / f"slides-{path.stem}-next.png"))
    assert blocked == [], f"{path.name}: {len(blocked)} outside requests: {blocked[:5]}"
    assert errors == [], f"{path.name}: JavaScript errors: {errors[:3]}"
    print(f"\n{path.name}: {total} slides, {formulas} formulas, {len(blocked)} outside requests")


MEASURE = """async ([width, height]) => {
  const out = [];
  for (const slide of Reveal.getSlides()) {
    const at = Reveal.getIndices(slide);
    Reveal.slide(at.h, at.v);
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const box = slide.getBoundingClientRect();
    out.push({h: at.h, v: at.v, height: slide.scrollHeight, width: slide.scrollWidth,
              right: Math.round(box.right), bottom: Math.round(box.bottom),
              text: (slide.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 60)});
  }
  return out;
}"""


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_slide_fits_a_1280x720_screen(path, decks, static_server, offline):
    """Each slide's content (its scroll size, in the deck's 1280x720 coordinates) and its box on the
    screen stay within 1280x720."""
    page, blocked, _ = offline
    open_deck(page, f"{static_server}/slides/{decks[path.stem].name}")
    wait_for_math(page)
    slides = page.evaluate(MEASURE, [WIDTH, HEIGHT])
    too_big = [s for s in slides if s["height"] > HEIGHT + TOLERANCE_PX or s["width"] > WIDTH + TOLERANCE_PX
               or s["bottom"] > HEIGHT + TOLERANCE_PX or s["right"] > WIDTH + TOLERANCE_PX]
    for k, s in enumerate(too_big[:3]):
        page.evaluate(f"() => Reveal.slide({s['h']}, {s['v']})")
        page.screenshot(path=str(SCREENSHOTS / f"slides-{path.stem}-too-big-{k}.png"))
    assert not too_big, (f"{path.name}: {len(too_big)} of {len(slides)} slides do not fit {WIDTH}x{HEIGHT} "
                         "(split them: see tools/slides.py):\n"
                         + "\n".join(f"  slide {s['h']}/{s['v']}: {s['width']}x{s['height']} px, "
                                     f"{s['text']!r}" for s in too_big[:15]))
    assert blocked == []
    print(f"\n{path.name}: {len(slides)} slides fit {WIDTH}x{HEIGHT}")


def test_a_deck_opens_from_file_url(decks, offline):
    page, blocked, errors = offline
    deck = next(iter(decks.values()))
    open_deck(page, deck.as_uri())
    wait_for_math(page)
    page.keyboard.press("Space")
    page.wait_for_function("() => Reveal.getIndices().h + Reveal.getIndices().v > 0", timeout=5_000)
    assert blocked == [] and errors == [], (blocked[:5], errors[:3])
