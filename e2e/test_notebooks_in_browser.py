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


def move_slider(page, explorer) -> bool:
    """Move the first enabled slider one step (right, or left at its maximum); True if the figure changed."""
    handle = explorer.locator(".noUi-target:not([disabled]) .noUi-handle").first
    handle.scroll_into_view_if_needed()
    for key in ("ArrowRight", "ArrowLeft"):
        before = figure_src(explorer)
        handle.focus()
        handle.press(key)
        if wait_for_new_src(page, explorer, before):
            return True
    return False


def move_a_control(page, explorer) -> str:
    """Move a slider and see the figure change. When every slider is disabled (e.g. the activation
    explorer's parameters until leaky ReLU or ELU is chosen), step through the drop-down's options,
    each of which must redraw, until one enables a slider."""
    enabled = explorer.locator(".noUi-target:not([disabled]) .noUi-handle")
    if enabled.count():
        return "slider" if move_slider(page, explorer) else ""
    select = explorer.locator("select").first
    for index in range(1, select.locator("option").count()):
        before = figure_src(explorer)
        select.select_option(index=index)
        if not wait_for_new_src(page, explorer, before):
            return ""
        if enabled.count():
            return f"drop-down option {index + 1}, then slider" if move_slider(page, explorer) else ""
    return "drop-down only"


def screenshot_whole_notebook(page, path: Path) -> list[Path]:
    """Grow the window to the notebook's height (the notebook scrolls inside its own panel) and shoot;
    a notebook taller than one image allows is shot in parts: NAME-1.jpg, NAME-2.jpg, ..."""
    panel = f"document.querySelector('{PANEL} .jp-WindowedPanel-outer')"
    # the content ends at the last cell (JupyterLab pads the end so the last cell can scroll to the top)
    content_height = f"""() => {{ const p = {panel}; const cells = p.querySelectorAll('.jp-Cell');
        return Math.ceil(cells[cells.length - 1].getBoundingClientRect().bottom
                         - p.getBoundingClientRect().top + p.scrollTop) + 20; }}"""
    height = page.evaluate(content_height)
    page.set_viewport_size({"width": page.viewport_size["width"],
                            "height": min(height + 200, MAX_SCREENSHOT_HEIGHT)})
    page.wait_for_timeout(500)
    visible = page.evaluate(f"() => {panel}.clientHeight")
    count = -(-page.evaluate(content_height) // visible)
    paths = [path] if count == 1 else [path.with_name(f"{path.stem}-{k + 1}{path.suffix}") for k in range(count)]
    for k, part in enumerate(paths):
        page.evaluate(f"() => {{ {panel}.scrollTop = {k * visible}; }}")
        page.wait_for_timeout(300)
        page.screenshot(path=str(part), type="jpeg", quality=85)   # JPEG: a 10,000-pixel PNG is slow to encode
    return paths


def check_explorers(page, name: str, expected: list[str]) -> list[str]:
    """Every explorer the code calls is on the page and redraws when a control moves."""
    explorers = page.locator(f"{PANEL} .cnnlib-explorer")
    if expected:
        page.wait_for_function(
            f"() => document.querySelectorAll('{PANEL} .cnnlib-explorer img.cnnlib-explorer-figure').length "
            f">= {len(expected)}", timeout=30_000)
    assert explorers.count() == len(expected), (
        f"{name}: {explorers.count()} explorers rendered, the code calls {expected}")
    assert not page.get_by_text("Error displaying widget").count(), f"{name}: a widget failed to display"
    moved = []
    for i, title in enumerate(expected):
        explorer = explorers.nth(i)
        how = move_a_control(page, explorer)
        assert how, f"{name}: {title} did not redraw when a control moved"
        assert not explorer.locator(".cnnlib-explorer-error").count(), (
            f"{name}: {title} shows an error: {explorer.inner_text()[:500]}")
        explorer.screenshot(path=str(SCREENSHOTS / f"{Path(name).stem}-{i}-{title}.png"))
        moved.append(f"{title} ({how})")
    return moved


def check_figures(page, name: str, figure_cells: int) -> int:
    """At least one figure per cell that calls plt.show(), and every figure's image loaded."""
    figures = page.locator(f"{PANEL} .jp-RenderedImage img")
    loaded = page.evaluate(f"""() => [...document.querySelectorAll('{PANEL} .jp-RenderedImage img')]
        .filter(img => img.complete && img.naturalWidth > 0).length""")
    assert figures.count() >= figure_cells and loaded == figures.count(), (
        f"{name}: {loaded} of {figures.count()} figures loaded; {figure_cells} cells call plt.show()")
    return loaded


@pytest.mark.parametrize("path", notebook_paths() or [None], ids=lambda p: p.stem if p else "no-notebooks")
def test_notebook_runs_in_jupyterlab(path, request):
    if path is None:
        pytest.skip("no notebooks to open: notebooks/*.ipynb (or $E2E_NOTEBOOKS, when set) matched nothing")
    page = request.getfixturevalue("page")        # the browser first: it skips at once without Chromium
    lab = request.getfixturevalue("lab")
    explorers_expected, figure_cells = expected_from_source(path)
    before = path.read_bytes()
    page_errors = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    SCREENSHOTS.mkdir(exist_ok=True)
    clock = [time.monotonic()]

    def lap() -> float:
        clock.append(time.monotonic())
        return clock[-1] - clock[-2]

    page.goto(lab.url_for(path))
    page.wait_for_selector(f"{PANEL} .jp-CodeCell", timeout=90_000)
    wait_for_idle_kernel(page, 90)
    load_s = lap()
    run_all_cells(page)
    run_s = lap()
    errors = page.locator(f'{PANEL} [data-mime-type="application/vnd.jupyter.error"]')
    if errors.count():
        screenshot_whole_notebook(page, SCREENSHOTS / f"{path.stem}.jpg")
        pytest.fail(f"{path.name}: error output in the browser:\n" + "\n---\n".join(errors.all_inner_texts())[:4000])
    moved = check_explorers(page, path.name, explorers_expected)
    explore_s = lap()
    figures = check_figures(page, path.name, figure_cells)
    screenshot_whole_notebook(page, SCREENSHOTS / f"{path.stem}.jpg")
    shot_s = lap()
    assert path.read_bytes() == before, f"{path.name} was modified on disk by the browser session"
    print(f"\n{path.name}: load {load_s:.0f} s, run all {run_s:.0f} s, explorers {explore_s:.0f} s, "
          f"screenshot {shot_s:.0f} s; {figures} figures; explorers moved: {', '.join(moved) or 'none'}; "
          f"page errors: {page_errors[:3] or 'none'}")
