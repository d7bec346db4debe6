"""Every notebook, opened in JupyterLab in headless Chromium and run from top to bottom.

For each notebook: Run All Cells, wait until every code cell has run, then check that
- no cell shows an error;
- every explorer the notebook calls (``..._explorer(``) rendered, with its figure loaded;
- moving a control of each explorer (a slider; a drop-down when every slider is disabled) makes
  it draw a new figure (the PNG's blob URL changes), and no explorer shows an error message;
- the figures of the cells that call ``plt.show()`` appear.
A screenshot of the whole notebook and one of each explorer go to e2e-screenshots/ (git-ignored): look at them.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from labsession import SCREENSHOTS, notebook_paths

RUN_TIMEOUT_S = 240          # one notebook, all cells (each must run in < 2 min under nbval)
REDRAW_TIMEOUT_S = 20        # one explorer, one control change
EXPLORER_CALL = re.compile(r"^[^#\n]*?\b(\w+_explorer)\(", re.MULTILINE)
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
MAX_SCREENSHOT_HEIGHT = 16_000  # Chromium's limit for one image is about 16,384 pixels

ALL_CELLS_RAN = """() => {
  const cells = [...document.querySelectorAll('%(panel)s .jp-CodeCell')]
      .filter(c => (c.querySelector('.jp-InputArea-editor')?.textContent || '').trim() !== '');
  const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt')?.textContent || '').trim());
  if (cells.length === 0 || prompts.some(p => p.includes('*'))) return false;
  const failed = document.querySelector('%(panel)s [data-mime-type="application/vnd.jupyter.error"]');
  return failed !== null || prompts.every(p => /\\[\\d+\\]/.test(p));
}""" % {"panel": PANEL}


def expected_from_source(path: Path) -> tuple[list[str], int]:
    """The explorer calls in the notebook's code cells, and how many code cells call plt.show()."""
    nb = json.loads(path.read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    explorers = [name for src in code for name in EXPLORER_CALL.findall(src)]
    return explorers, sum("plt.show()" in src for src in code)


STARTED = """() => [...document.querySelectorAll('%(panel)s .jp-CodeCell .jp-InputPrompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))""" % {"panel": PANEL}


def wait_for_idle_kernel(page, timeout_s: float) -> None:
    """Wait until the status bar says the kernel is idle; accept a "Select Kernel" dialog if one shows.

    (The toolbar's execution indicator says "idle" before the kernel is connected; the status
    bar says "Initializing" / "Connecting" until it is.)
    """
    deadline = time.monotonic() + timeout_s
    status = page.locator(".jp-StatusBar-Widget")
    while not re.search(r"\| Idle\b", " ".join(status.all_inner_texts())):
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel was not idle within {timeout_s} s: {status.all_inner_texts()}")
        page.wait_for_timeout(250)


def menu(page, top: str, command: str) -> None:
    page.locator(f"{PANEL} .jp-Cell").first.click()          # focus the notebook, or the command is lost
    page.locator(".lm-MenuBar-item", has_text=top).first.click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def run_all_cells(page) -> None:
    """Clear the stored outputs, then Run All Cells (retried if no cell starts: a command sent too early
    can be dropped). The committed notebooks are executed, so without clearing, their stored prompts
    and figures would pass for fresh ones; the cleared notebook is never saved (autosave is off)."""
    wait_for_idle_kernel(page, 90)
    menu(page, "Edit", "editmenu:clear-all")
    page.wait_for_function(f"() => !document.querySelector('{PANEL} .jp-OutputArea-output')", timeout=10_000)
    for _attempt in range(3):
        menu(page, "Run", "runmenu:run-all")
        try:
            page.wait_for_function(STARTED, timeout=10_000, polling=250)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_function(ALL_CELLS_RAN, timeout=RUN_TIMEOUT_S * 1000, polling=500)
    wait_for_idle_kernel(page, 30)


def figure_src(explorer) -> str:
    img = explorer.locator("img.cnnlib-explorer-figure")
    img.wait_for(state="visible", timeout=REDRAW_TIMEOUT_S * 1000)
    return img.get_attribute("src") or ""


def wait_for_new_src(page, explorer, before: str) -> bool:
    deadline = time.monotonic() + REDRAW_TIMEOUT_S
    while time.monotonic() < deadline:
        if figure_src(explorer) != before:
            return True
        page.wait_for_timeout(200)
    return False


def move_a_control(page, explorer) -> str:
    """Move the first enabled slider one step (right, or left at its maximum); else pick another option."""
    before = figure_src(explorer)
    handles = explorer.locator(".noUi-target:not([disabled]) .noUi-handle")
    if handles.count():
        handle = handles.first
        handle.scroll_into_view_if_needed()
        for key in ("ArrowRight", "ArrowLeft"):
            handle.focus()
            handle.press(key)
            if wait_for_new_src(page, explorer, before):
                return "slider"
        return ""
    select = explorer.locator("select").first
    select.select_option(index=1)
    return "drop-down" if wait_for_new_src(page, explorer, before) else ""


def screenshot_whole_notebook(page, path: Path) -> None:
    """Grow the window to the notebook's height (the notebook scrolls inside its own panel), then shoot."""
    height = page.evaluate(f"""() => {{
        const panel = document.querySelector('{PANEL} .jp-WindowedPanel-outer');
        panel.scrollTop = 0;
        return panel.scrollHeight; }}""")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(height + 200, MAX_SCREENSHOT_HEIGHT)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))


@pytest.mark.parametrize("path", notebook_paths() or [None], ids=lambda p: p.stem if p else "no-notebooks")
def test_notebook_runs_in_jupyterlab(path, request):
    if path is None:
        pytest.skip("no notebooks to open: notebooks/*.ipynb is empty and E2E_NOTEBOOKS is unset")
    lab, page = request.getfixturevalue("lab"), request.getfixturevalue("page")
    explorers_expected, figure_cells = expected_from_source(path)
    before = path.read_bytes()
    console = []
    page.on("pageerror", lambda exc: console.append(f"page error: {exc}"))
    SCREENSHOTS.mkdir(exist_ok=True)
    start = time.monotonic()

    page.goto(lab.url_for(path))
    page.wait_for_selector(f"{PANEL} .jp-CodeCell", timeout=90_000)
    run_all_cells(page)
    ran_s = time.monotonic() - start

    errors = page.locator(f'{PANEL} [data-mime-type="application/vnd.jupyter.error"]')
    if errors.count():
        page.screenshot(path=str(SCREENSHOTS / f"{path.stem}.png"))
        pytest.fail(f"{path.name}: error output in the browser:\n" + "\n---\n".join(errors.all_inner_texts())[:4000])

    explorers = page.locator(f"{PANEL} .cnnlib-explorer")
    if explorers_expected:
        page.wait_for_function(
            f"() => document.querySelectorAll('{PANEL} .cnnlib-explorer img.cnnlib-explorer-figure').length "
            f">= {len(explorers_expected)}", timeout=30_000)
    assert explorers.count() == len(explorers_expected), (
        f"{path.name}: {explorers.count()} explorers rendered, the code calls {explorers_expected}")
    assert not page.get_by_text("Error displaying widget").count(), f"{path.name}: a widget failed to display"

    moved = []
    for i in range(explorers.count()):
        explorer = explorers.nth(i)
        how = move_a_control(page, explorer)
        assert how, f"{path.name}: {explorers_expected[i]} did not redraw when a control moved"
        assert not explorer.locator(".cnnlib-explorer-error").count(), (
            f"{path.name}: {explorers_expected[i]} shows an error: {explorer.inner_text()[:500]}")
        explorer.screenshot(path=str(SCREENSHOTS / f"{path.stem}-{i}-{explorers_expected[i]}.png"))
        moved.append(f"{explorers_expected[i]} ({how})")

    figures = page.locator(f"{PANEL} .jp-RenderedImage img")
    loaded = page.evaluate(f"""() => [...document.querySelectorAll('{PANEL} .jp-RenderedImage img')]
        .filter(img => img.complete && img.naturalWidth > 0).length""")
    assert figures.count() >= figure_cells and loaded == figures.count(), (
        f"{path.name}: {loaded} of {figures.count()} figures loaded; {figure_cells} cells call plt.show()")

    screenshot_whole_notebook(page, SCREENSHOTS / f"{path.stem}.png")
    assert path.read_bytes() == before, f"{path.name} was modified on disk by the browser session"
    print(f"{path.name}: ran in {ran_s:.0f} s; {figures.count()} figures; explorers moved: {moved or 'none'}; "
          f"{len(console)} page errors {console[:3]}")
