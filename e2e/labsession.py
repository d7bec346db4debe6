"""A private JupyterLab server for the browser tests, and where the notebooks and Chromium are.

    make e2e                                   # every notebooks/*.ipynb
    E2E_NOTEBOOKS="/tmp/x/a.ipynb" make e2e    # other notebooks (space-separated paths or globs)

The server runs from this Python environment on 127.0.0.1 with a random token and a free port.
Its user settings live in a temporary folder: autosave is off (the committed notebooks are never
written), every cell is kept in the page (no windowing, so the test can see all outputs) and the
news pop-up is off. Playwright drives /usr/bin/chromium (never a downloaded browser).
"""
from __future__ import annotations

import glob
import json
import os
import socket
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "e2e-screenshots"

LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def notebook_paths() -> list[Path]:
    """The notebooks to open: $E2E_NOTEBOOKS if set, else notebooks/*.ipynb."""
    patterns = os.environ.get("E2E_NOTEBOOKS", "").split() or [str(ROOT / "notebooks" / "*.ipynb")]
    return sorted({Path(p).resolve() for pattern in patterns for p in glob.glob(pattern)})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab server: its base URL, token and root folder."""

    def __init__(self, root_dir: Path, port: int, token: str):
        self.root_dir, self.port, self.token = root_dir, port, token
        self.base = f"http://127.0.0.1:{port}"

    def url_for(self, notebook: Path) -> str:
        """The notebook alone in JupyterLab's single-document mode (/doc: no file browser)."""
        return f"{self.base}/doc/tree/{notebook.relative_to(self.root_dir).as_posix()}?token={self.token}"

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every session's kernel, so each notebook starts from a fresh kernel and memory is freed."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")


LOCAL_SCHEMES = ("file", "data", "blob", "about", "chrome-extension")
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def block_outside(context) -> list[str]:
    """Abort every request of this browser context that would leave the machine (anything but
    127.0.0.1, file:, data:, blob:) and record its URL in the list returned: a test asserts it is empty."""
    from urllib.parse import urlsplit

    blocked: list[str] = []

    def handle(route):
        url = urlsplit(route.request.url)
        if url.scheme in LOCAL_SCHEMES or url.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", handle)
    return blocked
