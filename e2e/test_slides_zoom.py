"""Browser zoom enlarges the decks' text (WCAG 1.4.4, resize text to 200%), in headless Chromium.

Zooming a browser to 200% halves the window's size in CSS pixels: a 1280x720 window becomes 640x360 CSS px,
each drawn with 2x2 screen pixels. So a 640x360 viewport stands for 200% zoom here (a deviceScaleFactor of 2
would not: it changes the screen pixels per CSS pixel without narrowing the layout, as zoom does). Reveal.js
alone shrinks the slide to fit the narrower window, so the text keeps its size on screen whatever the zoom;
the deck template (tools/slides_template/cnnlib_reveal) switches to a reading layout there instead. Tested:

- the prose is as many CSS pixels at 640x360 as at 1280x720, so twice the size on screen at 200% zoom, and
  the deck goes back to fitting the slide to the screen when the window is 1280x720 again;
- at 640x360 no slide is wider than the window (nothing cut off at the side, no sideways scrolling of the
  slide; a table wider than the window scrolls sideways by itself and takes keyboard focus), and a slide
  taller than the window can scroll to its end;
- on such a slide, the Down key scrolls it before it moves on.
"""
from __future__ import annotations

import pytest

from labsession import SCREENSHOTS, block_outside, notebook_paths
from test_slides import open_deck, wait_for_math

PATHS = notebook_paths()
IDS = [p.stem for p in PATHS]
DECK = (1280, 720)
ZOOM_200 = (640, 360)
TOLERANCE_PX = 2

# The rendered size of the first prose paragraph on the present slide, in CSS px of the window: its font
# size times the scale the slide is drawn at (its box on screen over its own layout height).
PROSE_PX = """() => {
  const p = document.querySelector('.reveal .slides section.present .jp-RenderedMarkdown p');
  const box = p.getBoundingClientRect();
  return parseFloat(getComputedStyle(p).fontSize) * box.height / p.offsetHeight;
}"""

# Every slide at the window's size: its box, its content's size against its own, and whether it scrolls;
# plus any element in it that hides content sideways (overflow-x hidden or clip, content wider than it), and
# any that scrolls sideways but cannot take keyboard focus (so Left and Right could not scroll it).
MEASURE = """async () => {
  const out = [];
  for (const slide of Reveal.getSlides()) {
    const at = Reveal.getIndices(slide);
    Reveal.slide(at.h, at.v);
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const box = slide.getBoundingClientRect();
    const name = e => e.tagName.toLowerCase() + '.' + String(e.className).split(' ')[0];
    const wider = Array.from(slide.querySelectorAll('*:not(.MJX_Assistive_MathML)'))   // MathJax's copy for
      .filter(e => e.scrollWidth > e.clientWidth + 2);                                    // screen readers
    const clipped = wider.filter(e => ['hidden', 'clip'].includes(getComputedStyle(e).overflowX)).map(name);
    const noKeys = wider.filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)
                                     && e.getAttribute('tabindex') !== '0').map(name);
    out.push({h: at.h, v: at.v, left: Math.round(box.left), right: Math.round(box.right),
              scrollWidth: slide.scrollWidth, clientWidth: slide.clientWidth,
              scrollHeight: slide.scrollHeight, clientHeight: slide.clientHeight,
              overflowY: getComputedStyle(slide).overflowY, clipped: clipped.slice(0, 3), noKeys: noKeys.slice(0, 3),
              text: (slide.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 50)});
  }
  return out;
}"""


@pytest.fixture
def at_size(browser):
    contexts = []

    def make(size):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        contexts.append(context)
        blocked = block_outside(context)
        return context.new_page(), blocked

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_prose_doubles_on_screen_at_200_percent_zoom(path, decks, static_server, at_size):
    url = f"{static_server}/slides/{decks[path.stem].name}"
    page, blocked = at_size(DECK)
    open_deck(page, url)
    wait_for_math(page)
    at_100 = page.evaluate(PROSE_PX)
    page, blocked_zoomed = at_size(ZOOM_200)
    open_deck(page, url)
    wait_for_math(page)
    at_200 = page.evaluate(PROSE_PX)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"slides-{path.stem}-zoom200.png"))
    # On screen, a CSS pixel at 200% zoom is 2 screen pixels: the text doubles if its CSS size holds.
    assert 2 * at_200 >= 2 * at_100 - TOLERANCE_PX, (
        f"{path.name}: prose is {at_100:.1f} screen px at 100% zoom but {2 * at_200:.1f} at 200% "
        f"({2 * at_200 / at_100:.2f}x, not 2x)")
    page.set_viewport_size({"width": DECK[0], "height": DECK[1]})      # zoomed back out
    page.wait_for_function("() => !document.documentElement.classList.contains('cnnlib-reading')", timeout=5_000)
    assert page.evaluate(PROSE_PX) == pytest.approx(at_100, abs=0.5), "back at 100%, the slide is fitted as before"
    assert blocked == [] and blocked_zoomed == []
    print(f"\n{path.name}: prose {at_100:.1f} screen px at 100% zoom, {2 * at_200:.1f} at 200%")


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_at_200_percent_zoom_nothing_is_cut_off(path, decks, static_server, at_size):
    page, blocked = at_size(ZOOM_200)
    open_deck(page, f"{static_server}/slides/{decks[path.stem].name}")
    wait_for_math(page)
    slides = page.evaluate(MEASURE)
    width = ZOOM_200[0]
    wide = [s for s in slides if s["scrollWidth"] > s["clientWidth"] + TOLERANCE_PX
            or s["left"] < -TOLERANCE_PX or s["right"] > width + TOLERANCE_PX or s["clipped"] or s["noKeys"]]
    stuck = [s for s in slides if s["scrollHeight"] > s["clientHeight"] + TOLERANCE_PX
             and s["overflowY"] not in ("auto", "scroll")]
    assert not wide, (f"{path.name}: {len(wide)} slides cut off or scroll sideways at 200% zoom:\n"
                      + "\n".join(f"  slide {s['h']}/{s['v']}: content {s['scrollWidth']} px in {s['clientWidth']}, "
                                  f"box {s['left']}..{s['right']}, clipped {s['clipped']}, scrolls without a Tab stop "
                                  f"{s['noKeys']}, {s['text']!r}"
                                  for s in wide[:10]))
    assert not stuck, (f"{path.name}: {len(stuck)} slides taller than the window do not scroll:\n"
                       + "\n".join(f"  slide {s['h']}/{s['v']}: {s['scrollHeight']} px, {s['text']!r}"
                                   for s in stuck[:10]))
    assert blocked == []
    tall = sum(s["scrollHeight"] > s["clientHeight"] + TOLERANCE_PX for s in slides)
    print(f"\n{path.name}: {len(slides)} slides at 200% zoom, none cut off; {tall} scroll down")


def test_down_scrolls_a_tall_slide_before_moving_on(decks, static_server, at_size):
    page, _ = at_size(ZOOM_200)
    open_deck(page, f"{static_server}/slides/{next(iter(decks.values())).name}")
    wait_for_math(page)
    page.locator(".reveal").focus()
    assert page.evaluate("() => { const s = Reveal.getCurrentSlide(); return s.scrollHeight > s.clientHeight; }"), \
        "the title slide fits 640x360; the test needs one that does not"
    page.keyboard.press("ArrowDown")
    state = page.evaluate("() => [Reveal.getIndices().h, Reveal.getIndices().v, Reveal.getCurrentSlide().scrollTop]")
    assert state[:2] == [0, 0] and state[2] > 0, f"Down moved on instead of scrolling: {state}"
    for _ in range(40):                                          # to the slide's end, then on to the next one
        page.keyboard.press("ArrowDown")
        if page.evaluate("() => Reveal.getIndices().h + Reveal.getIndices().v") > 0:
            break
    assert page.evaluate("() => Reveal.getIndices().h + Reveal.getIndices().v") > 0, "Down never left the slide"
