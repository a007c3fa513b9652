"""Fixtures for the lab's tests: a `backprop lab --port 0` server and headless Chromium pages.

Registered for the whole suite in conftest.py (``pytest_plugins``). Browser tests
use ``lab_page("regression")``: a fresh Chromium tab on that page, connected, whose
console must stay free of errors and which must report no Content-Security-Policy
violation (both checked when the test ends). Without /usr/bin/chromium or Playwright
the browser tests skip, saying why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Run in every tab before the page's own scripts: keeps each CSP violation the page reports.
CSP_WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""
#: Where browser tests save screenshots (git-ignored).
ARTIFACTS = ROOT / "tests" / "artifacts"
URL_PREFIX = "backprop lab: serving on "


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class LabServer:
    """A running `backprop lab` subprocess and the URL it printed."""

    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def origin(self) -> str:
        """The origin of the lab's own pages (what a browser sends in ``Origin``)."""
        return self.url.split("?")[0].rstrip("/")

    def ws_url(self, page: str) -> str:
        return self.origin.replace("http://", "ws://") + f"/ws/{page}"

    def stop(self) -> int:
        """Ctrl-C, as a user would; the exit status. Once it returns, ``output`` holds
        everything the server printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=15)
        return self.process.returncode


def start_lab(*options: str, timeout: float = 30.0, cwd: Path = ROOT) -> LabServer:
    """Start `backprop lab --port 0 OPTIONS` on 127.0.0.1 in the folder ``cwd``; returns once
    it prints its URL."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop", "lab", "--host", "127.0.0.1", "--port", "0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd,
    )
    assert process.stdout is not None
    lines: list[str] = []
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith(URL_PREFIX) and not found:
                found.append(line[len(URL_PREFIX):].strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    waited = 0.0
    while not found and process.poll() is None and waited < timeout:
        threading.Event().wait(0.05)
        waited += 0.05
    if not found:
        process.kill()
        raise RuntimeError(f"backprop lab printed no URL: {''.join(lines)!r}")
    return LabServer(process, found[0], lines, reader)


@pytest.fixture
def client() -> Any:
    """A Starlette TestClient of the lab app (the test module skips first without the extra)."""
    from lab_client import new_client

    return new_client()


@pytest.fixture(scope="session")
def lab_server() -> Iterator[LabServer]:
    """One `backprop lab` for the whole test session, stopped with Ctrl-C at the end."""
    pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
    server = start_lab()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (skips, saying why, when missing)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need playwright (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    """The folder for screenshots, created on demand."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def lab_page(lab_server: LabServer, chromium: Any) -> Iterator[Callable[[str], Any]]:
    """``lab_page(name)``: a new tab on /name with its first state received.

    Every console error, uncaught page error and CSP violation is collected; the test
    fails at teardown if there was any.
    """
    contexts: list[Any] = []
    pages: list[Any] = []
    problems: list[str] = []

    def open_page(name: str, width: int = 1400, height: int = 950,
                  init_script: str | None = None) -> Any:
        context = chromium.new_context(viewport={"width": width, "height": height})
        if init_script is not None:
            context.add_init_script(init_script)
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(CSP_WATCH)
        pages.append(page)
        page.on("console", lambda m: problems.append(f"console: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.goto(lab_server.url + name)
        if name:
            page.wait_for_function("() => window.backpropLab && window.backpropLab.state().type"
                                   " === 'state'", timeout=10_000)
        return page

    yield open_page
    for page in pages:
        if not page.is_closed():
            problems.extend(f"CSP: {v}" for v in page.evaluate("window.cspViolations || []"))
    for context in contexts:
        context.close()
    assert problems == [], f"the page reported errors: {problems}"
