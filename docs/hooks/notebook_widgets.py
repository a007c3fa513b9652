"""Executed notebooks show each lab widget as its still frame (an MkDocs hook, named in
mkdocs.yml).

A widget in a notebook page cannot run without a kernel, and Jupyter's static widget
renderer would be fetched from another host. So the notebooks are executed without
keeping the widgets' state (mkdocs-jupyter keeps it by default): each widget's output
then falls back to what it puts beside the live view, a PNG of its last frame and a
line saying how to run the notebook (``backprop.lab.notebook.widget``), and the page
loads no widget script at all.
"""

from __future__ import annotations

from typing import Any

from mkdocs_jupyter import nbconvert2  # type: ignore[import-untyped]

_make_app = nbconvert2.get_nbconvert_app


def app_without_widget_state(*args: Any, **kwargs: Any) -> Any:
    """mkdocs-jupyter's nbconvert app, executing without storing the widgets' state."""
    app = _make_app(*args, **kwargs)
    app.config["ExecutePreprocessor"]["store_widget_state"] = False
    return app


def on_config(config: Any) -> Any:
    nbconvert2.get_nbconvert_app = app_without_widget_state
    return config
