"""Fixtures for the browser tests: the JupyterLab server (see labsession.py) and headless Chromium."""
from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from labsession import (CHROMIUM, CHROMIUM_FLAGS, LAB_SETTINGS, ROOT, Lab, block_outside, free_port,
                        notebook_paths)


@pytest.fixture(scope="session")
def notebooks() -> list[Path]:
    return notebook_paths()


@pytest.fixture(scope="session")
def lab(notebooks):
    if not notebooks:
        pytest.skip("no notebooks to open: notebooks/*.ipynb (or $E2E_NOTEBOOKS, when set) matched nothing")
    root_dir = Path(os.path.commonpath([ROOT, *notebooks])) if all(ROOT in p.parents for p in notebooks) \
        else Path(os.path.commonpath([p.parent for p in notebooks]))
    port, token = free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="cnnlib-e2e-") as tmp:
        settings = Path(tmp) / "settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(Path(tmp) / "workspaces"),
                   JUPYTER_RUNTIME_DIR=str(Path(tmp) / "runtime"))
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root_dir}"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        log = open(Path(tmp) / "lab.log", "w")
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root_dir)
        lab = Lab(root_dir, port, token)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    lab.api("status")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        pytest.fail("JupyterLab did not start:\n" + (Path(tmp) / "lab.log").read_text()[-3000:])
                    time.sleep(0.5)
            yield lab
        finally:
            try:
                lab.shutdown_kernels()
            except OSError:
                pass
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()
    lab.shutdown_kernels()


def _tool(name: str):
    """tools/NAME.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"cnnlib_tool_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory) -> Path:
    """One temporary folder for the decks and the book the tests build, served by `static_server`."""
    return tmp_path_factory.mktemp("site")


@pytest.fixture(scope="session")
def decks(site_dir, notebooks) -> dict[str, Path]:
    """The static decks of the notebooks under test, built once (`make slides` runs the same build)."""
    if not notebooks:
        pytest.skip("no notebooks: notebooks/*.ipynb (or $E2E_NOTEBOOKS) matched nothing")
    start = time.monotonic()
    built = _tool("slides").build(notebooks, site_dir / "slides")
    print(f"\n{len(built)} decks built in {time.monotonic() - start:.1f} s")
    return {path.name.removesuffix(".slides.html"): path for path in built}


@pytest.fixture(scope="session")
def book_html(site_dir, notebooks) -> Path:
    """The website of the notebooks under test, built once (`make book` runs the same build)."""
    if not notebooks:
        pytest.skip("no notebooks: notebooks/*.ipynb (or $E2E_NOTEBOOKS) matched nothing")
    start = time.monotonic()
    html = _tool("book").build(notebooks, site_dir / "book")
    print(f"\nbook built in {time.monotonic() - start:.1f} s")
    return html


@pytest.fixture(scope="session")
def static_server(site_dir):
    """A plain HTTP server on 127.0.0.1 for site_dir; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def offline(browser):
    """A page on a 1280x720 screen whose requests outside 127.0.0.1 are aborted and counted:
    yields (page, blocked URLs, JavaScript errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    blocked = block_outside(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, blocked, errors
    context.close()
