"""A notebook with a widget, executed and rendered as the docs site renders the course
(mkdocs-jupyter, with the site's hook): the widget shows as the PNG of its last frame and
the line that says how to run it, and the page loads no widget script from anywhere."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

pytest.importorskip("anywidget", reason="the widgets need the extra backprop-mlp[notebook]")
pytest.importorskip("mkdocs_jupyter", reason="the docs site needs the extra backprop-mlp[docs]")

import nbformat
from mkdocs_jupyter import nbconvert2  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
CELL = """\
import numpy as np
import backprop as bp

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 10)
y = np.array([0, 1, 1, 0] * 10)
widget = bp.lab.Playground(data=(X, y), layers=[4], lr=0.5, link="04-neuron.ipynb")
widget.step(100)
widget"""


def test_an_executed_notebook_shows_the_widgets_still_frame_and_no_widget_script(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("notebook_widgets",
                                                  ROOT / "docs" / "hooks" / "notebook_widgets.py")
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    monkeypatch.setattr(nbconvert2, "get_nbconvert_app", nbconvert2.get_nbconvert_app)
    hook.on_config({})
    assert nbconvert2.get_nbconvert_app is hook.app_without_widget_state
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(CELL)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = tmp_path / "widget.ipynb"
    nbformat.write(notebook, path)
    html = nbconvert2.nb2html(str(path), execute=True, kernel_name="python3",
                              allow_errors=False)
    image = re.search(r'<img [^>]*alt="the widget\'s last frame: Network playground"[^>]*>', html)
    assert image is not None
    frame = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', image[0])
    assert frame is not None and len(frame[1]) > 1000
    assert 'Run the notebook.</a>' in html and 'href="04-neuron.ipynb"' in html
    assert "widget-view+json" not in html and "widget-state+json" not in html
    assert "html-manager" not in html and "embed-amd" not in html
