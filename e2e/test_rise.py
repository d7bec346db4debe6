"""Live slides in JupyterLab: jupyterlab-rise opens a notebook as a reveal.js slideshow and steps forward.

Requests outside 127.0.0.1 are aborted and counted; RISE's theme asks Google for a web font, which is
cosmetic (the slides use a local font instead): that is the only outside request allowed here.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from labsession import SCREENSHOTS, block_outside, notebook_paths

COSMETIC = ("fonts.googleapis.com", "fonts.gstatic.com")


def test_rise_slideshow_opens_and_steps_forward(browser, lab):
    path = notebook_paths()[0]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    blocked = block_outside(context)
    page = context.new_page()
    try:
        page.goto(f"{lab.base}/rise/{path.relative_to(lab.root_dir).as_posix()}?token={lab.token}")
        page.wait_for_selector(".reveal .slides section.present", timeout=90_000)
        page.wait_for_timeout(1000)
        where = ("() => { const all = [...document.querySelectorAll('.reveal .slides section')];"
                 " return all.indexOf(all.filter(s => s.classList.contains('present')).pop()); }")
        first = page.evaluate(where)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "rise-first.png"))
        page.locator(".reveal").click()
        page.keyboard.press("Space")
        page.wait_for_function(f"() => ({where})() > {first}", timeout=15_000)   # a later slide is shown
        page.wait_for_timeout(1000)                                  # the slide transition
        page.screenshot(path=str(SCREENSHOTS / "rise-next.png"))
    finally:
        context.close()
        lab.shutdown_kernels()
    other = [u for u in blocked if urlsplit(u).hostname not in COSMETIC]
    assert other == [], f"outside requests besides web fonts: {other[:5]}"
    print(f"\nRISE on {path.name}: stepped forward; {len(blocked)} outside requests blocked (web fonts)")
