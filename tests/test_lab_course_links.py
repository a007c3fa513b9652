"""The lab's guided path and the course link both ways: each step names a notebook that
exists, and that notebook links back to the lab page it goes with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")

from backprop.lab.index import PATH, Step

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"


@pytest.mark.parametrize("step", PATH, ids=lambda step: step.page)
def test_each_step_of_the_path_names_a_notebook_that_links_back(step: Step) -> None:
    notebook = COURSE / f"{step.notebook}.ipynb"
    assert notebook.is_file(), notebook
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    assert f"/{step.page}" in text
