"""The widgets where learners are, in headless Chromium: a real JupyterLab 4 (with a token),
Jupyter Notebook 7 (without one) and marimo, each started on 127.0.0.1 with this checkout.

JupyterLab: a notebook builds a Playground on its own 3-class data and its own network;
the page's play button trains it in the kernel (the readouts move, the boundary's pixels
change, and ``widget.history``, read by running a cell, grows); a Sandbox cell's "check
my answer" marks a right and a wrong answer. Notebook 7 and marimo: the playground renders,
steps and plays. The widgets' frames must log no error.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

import numpy as np
import pytest

from lab_fixtures import ARTIFACTS, ROOT

pytest.importorskip("anywidget", reason="the widgets need the extra backprop-mlp[notebook]")
pytest.importorskip("nbformat", reason="writing the notebooks needs nbformat")

import nbformat

import backprop as bp
from backprop.teaching.answers import step_values

PLAYGROUND = "iframe[data-backprop-lab='playground']"
SANDBOX = "iframe[data-backprop-lab='sandbox']"
#: The notebook's own data and network, as a learner would write them.
OWN_DATA = textwrap.dedent("""\
    import numpy as np
    import backprop as bp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(180, 2))
    y = np.digitize(np.arctan2(X[:, 1], X[:, 0]), [-np.pi / 3, np.pi / 3])  # three classes
    net = bp.Network([bp.Dense(2, 8, activation="tanh"), bp.Dense(8, 8, activation="relu"),
                      bp.Dense(8, 3, activation="softmax")],
                     loss="cross_entropy", seed=0, dtype="float64")
    widget = bp.lab.Playground(data=(X, y), network=net, optimizer=bp.SGD(lr=0.2), batch_size=10)
    widget""")
READ_KERNEL = textwrap.dedent("""\
    import json, pathlib

    runs = globals().get("runs", 0) + 1
    pathlib.Path(f"state-{runs}.json").write_text(json.dumps(widget.state))  # for the test
    print(f"run={runs} rows={len(widget.history)} step={widget.state['step']} "
          f"trained_in_place={widget.network is net}")""")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(home: Path) -> dict[str, str]:
    """This checkout first on the path; Jupyter's and IPython's settings in a fresh folder."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    for name, folder in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                         ("HOME", "home")):
        (home / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / folder)
    return env


def wait_for_http(url: str, process: subprocess.Popen[str], log: Path,
                  timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            with urlopen(url, timeout=2):
                return
        except (URLError, OSError):
            time.sleep(0.2)  # the server is starting: poll its port
    raise RuntimeError(f"no answer from {url}: {log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def jupyter(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``jupyter(app, cells, token)``: a notebook of these cells in a fresh folder, served by
    ``python -m <app>`` (jupyterlab or notebook) on 127.0.0.1; the URL that opens it."""
    processes: list[subprocess.Popen[str]] = []

    def start(app: str, cells: list[str], token: str) -> str:
        pytest.importorskip(app, reason=f"this test needs {app} (pip install {app})")
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
        nbformat.write(notebook, tmp_path / "widgets.ipynb")
        port = free_port()
        log = tmp_path / f"{app}.log"
        command = [sys.executable, "-m", app, "--no-browser", "--ip=127.0.0.1",
                   f"--port={port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"]
        if app == "jupyterlab":
            command += ["--LabApp.news_url=None",
                        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                   text=True, env=environment(tmp_path / "settings"),
                                   cwd=tmp_path)
        processes.append(process)
        query = f"?token={token}" if token else ""
        wait_for_http(f"http://127.0.0.1:{port}/api/status{query}", process, log)
        path = "lab/tree" if app == "jupyterlab" else "notebooks"
        return f"http://127.0.0.1:{port}/{path}/widgets.ipynb{query}"

    yield start
    for process in processes:
        stop(process)


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Callable[[], Any]]:
    """A fresh tab; every error the widgets' frames log fails the test at teardown."""
    contexts: list[Any] = []
    problems: list[str] = []

    def open_page() -> Any:
        context = chromium.new_context(viewport={"width": 1500, "height": 1000})
        contexts.append(context)
        page = context.new_page()

        def note(message: Any) -> None:
            where = message.location.get("url", "") if message.location else ""
            if message.type == "error" and where.startswith(("about:srcdoc", "blob:")):
                problems.append(f"{where}: {message.text}")

        page.on("console", note)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}")
                if "backprop" in str(error.stack or "") or "blob:" in str(error.stack or "")
                else None)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems == [], f"the widgets logged errors: {problems}"


#: True once the notebook's kernel is connected and idle (JupyterLab and Notebook 7 alike).
KERNEL_READY = """() => {
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const name = document.querySelector('.jp-Toolbar-kernelName');
  return status && status.dataset.status === 'idle' && name
    && !name.textContent.includes('No Kernel');
}"""


def run_all_cells(page: Any) -> None:
    """Run > Run All Cells once the kernel is idle, choosing the notebook's kernel first where
    the server asks which one to start."""
    page.wait_for_function(f"() => ({KERNEL_READY})() || document.querySelector('.jp-Dialog')",
                           timeout=90_000)
    if page.locator(".jp-Dialog").count():
        page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True).click()
    page.wait_for_function(KERNEL_READY, timeout=90_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def widget_frame(page: Any, selector: str) -> Any:
    """The page inside a widget's iframe, once it has the page's first state."""
    try:
        element = page.wait_for_selector(selector, timeout=120_000, state="attached")
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notebook-no-widget.png"))
        raise
    frame = element.content_frame()
    frame.wait_for_function("() => window.backpropLab && window.backpropLab.state().type "
                            "=== 'state'", timeout=60_000)
    return frame


def readout(frame: Any, testid: str) -> float:
    return float(frame.get_by_test_id(testid).get_attribute("data-value"))


def pixels(frame: Any, testid: str) -> str:
    return str(frame.evaluate(
        f"() => document.querySelector('[data-testid=\"{testid}\"]').toDataURL()"))


def cell_output(page: Any, index: int) -> str:
    return str(page.locator(".jp-Notebook .jp-Cell").nth(index)
               .locator(".jp-OutputArea-output").first.inner_text())


def rerun_cell(page: Any, index: int, expect: str) -> str:
    """Run one cell again (click its editor, Shift+Enter) and wait for ``expect`` in its output."""
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "([index, expect]) => { const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')"
        "[index]; const out = cell && cell.querySelector('.jp-OutputArea-output');"
        " return out && out.innerText.includes(expect); }", arg=[index, expect], timeout=60_000)
    return cell_output(page, index)


def kernel_line(text: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", text))


# -- JupyterLab 4 -------------------------------------------------------------------------------

def test_jupyterlab_trains_the_notebooks_own_network_from_the_page(
        jupyter: Callable[..., str], browser_page: Callable[[], Any], tmp_path: Path) -> None:
    url = jupyter("jupyterlab", [OWN_DATA, 's = bp.lab.Sandbox("mazur-222")\ns', READ_KERNEL],
                  token="widget-test-token")
    page = browser_page()
    page.goto(url)
    run_all_cells(page)
    frame = widget_frame(page, PLAYGROUND)
    frame.wait_for_function("() => window.backpropLab.state().boundary", timeout=30_000)
    assert frame.evaluate("() => window.backpropLab.state().n_classes") == 3
    first = kernel_line(rerun_cell(page, 2, "run=2"))
    assert first["rows"] == "1" and first["step"] == "0" and first["trained_in_place"] == "True"
    loss_before = readout(frame, "pg-loss-train")
    boundary_before = pixels(frame, "pg-boundary-canvas")

    frame.get_by_test_id("pg-play").click()  # the page's own button: the kernel trains
    frame.wait_for_function("() => window.backpropLab.state().step >= 150", timeout=90_000)
    frame.get_by_test_id("pg-pause").click()
    frame.wait_for_function("() => !window.backpropLab.state().playing", timeout=30_000)

    step = int(readout(frame, "pg-step-count"))
    assert step >= 150 and readout(frame, "pg-epoch") >= step // 18
    assert readout(frame, "pg-loss-train") < loss_before / 2
    assert readout(frame, "pg-accuracy-train") > 0.8
    frame.wait_for_function(  # the map redrawn at the last state
        "(before) => document.querySelector('[data-testid=\"pg-boundary-canvas\"]')"
        ".toDataURL() !== before", arg=boundary_before, timeout=10_000)

    now = kernel_line(rerun_cell(page, 2, "run=3"))
    assert int(now["step"]) == step and int(now["rows"]) > 10  # the kernel's history grew
    # widget.state is the page's own state, window.backpropLab.state(), field for field
    assert json.loads((tmp_path / "state-3.json").read_text()) == frame.evaluate(
        "() => window.backpropLab.state()")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(PLAYGROUND).evaluate("(frame) => frame.scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "notebook-jupyterlab-playground.png"))

    sandbox = widget_frame(page, SANDBOX)
    sandbox.get_by_test_id("sb-answer-mode").check()
    sandbox.wait_for_function("() => window.backpropLab.state().answer.on", timeout=30_000)
    state = sandbox.evaluate("() => window.backpropLab.state()")
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 2, activation="sigmoid")],
                     loss="mse", dtype="float64")
    for layer, shown in zip(net.layers, state["layers"], strict=True):
        layer.W, layer.b = np.array(shown["W"]), np.array(shown["b"])  # type: ignore[attr-defined]
    right = step_values(net, np.array(state["X"]), np.array(state["Y"]), state["lr"])
    sandbox.get_by_test_id("sb-answer-d-2-1").fill(f"{right['d-2-1']:.6g}")
    sandbox.get_by_test_id("sb-answer-g-2-1-1").fill(f"{-right['g-2-1-1']:.6g}")
    sandbox.get_by_test_id("sb-answer-submit").click()
    sandbox.wait_for_function("() => window.backpropLab.state().answer.checked", timeout=30_000)
    assert sandbox.get_by_test_id("sb-answer-d-2-1").get_attribute("data-verdict") == "right"
    assert sandbox.get_by_test_id("sb-answer-g-2-1-1").get_attribute("data-verdict") == "wrong"
    assert sandbox.get_by_test_id("sb-answer-status").inner_text() == \
        "1 right, 1 wrong of 2 checked."


# -- Jupyter Notebook 7 (lighter: the widget renders, steps and plays) --------------------------

def test_notebook_7_renders_the_playground_and_steps_it(
        jupyter: Callable[..., str], browser_page: Callable[[], Any]) -> None:
    url = jupyter("notebook", [OWN_DATA, READ_KERNEL], token="")
    page = browser_page()
    page.goto(url)
    run_all_cells(page)
    frame = widget_frame(page, PLAYGROUND)
    frame.get_by_test_id("pg-step").click()
    frame.wait_for_function("() => window.backpropLab.state().step === 1", timeout=30_000)
    frame.get_by_test_id("pg-play").click()
    frame.wait_for_function("() => window.backpropLab.state().step >= 40", timeout=90_000)
    frame.get_by_test_id("pg-pause").click()
    frame.wait_for_function("() => !window.backpropLab.state().playing", timeout=30_000)
    step = frame.evaluate("() => window.backpropLab.state().step")
    assert kernel_line(rerun_cell(page, 1, "run=2"))["step"] == str(step)


# -- marimo (lighter: the widget renders, steps and plays) --------------------------------------

MARIMO_APP = '''\
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
{body}
    shown = mo.ui.anywidget(widget)
    shown
    return


if __name__ == "__main__":
    app.run()
'''


def test_marimo_renders_the_playground_and_steps_it(
        tmp_path: Path, browser_page: Callable[[], Any]) -> None:
    pytest.importorskip("marimo", reason="this test needs marimo (pip install marimo)")
    body = textwrap.indent(OWN_DATA.rsplit("\n", 1)[0], "    ")
    (tmp_path / "app.py").write_text(MARIMO_APP.format(body=body))
    port = free_port()
    log = tmp_path / "marimo.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "marimo", "run", str(tmp_path / "app.py"), "--headless",
         "--host", "127.0.0.1", "--port", str(port), "--no-token"],
        stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
        env=environment(tmp_path / "settings"), cwd=tmp_path)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process, log)
        page = browser_page()
        page.goto(f"http://127.0.0.1:{port}/")
        frame = widget_frame(page, PLAYGROUND)
        frame.get_by_test_id("pg-step").click()
        frame.wait_for_function("() => window.backpropLab.state().step === 1", timeout=30_000)
        loss = readout(frame, "pg-loss-train")
        frame.get_by_test_id("pg-play").click()
        frame.wait_for_function("() => window.backpropLab.state().step >= 40", timeout=90_000)
        frame.get_by_test_id("pg-pause").click()
        frame.wait_for_function("() => !window.backpropLab.state().playing", timeout=30_000)
        assert readout(frame, "pg-loss-train") < loss
    finally:
        stop(process)
