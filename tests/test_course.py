"""The course: six notebooks in docs/course/, each executed here as the site's build runs it.

Each notebook runs top to bottom in a Jupyter kernel (nbclient, as mkdocs-jupyter runs
it), from its own folder, with this checkout's ``backprop``; a failing assert in a
notebook (each one asserts the numbers it teaches) fails its test. Notebook 2's check
cells are then run again with answers filled in programmatically: every number right,
and, for each known mistake of the checker, one answer that mistake gives, which the
check must name. Notebook 1's data and λ_max are the lab's /regression defaults.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="the course needs the docs extra")
nbclient = pytest.importorskip("nbclient", reason="the course needs the docs extra")
pytest.importorskip("matplotlib", reason="the course's notebooks draw with matplotlib")
pytest.importorskip("sklearn", reason="the course's notebooks use the digits of scikit-learn")

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "docs" / "course"
NOTEBOOKS = ("01-gradient-descent", "02-one-step-by-hand", "03-batches", "04-neuron",
             "05-why-training-fails", "06-classic-result")
#: The lab page each notebook sits beside (notebook 6 has none: its twin is the literature table).
LAB_PAGES = {"01-gradient-descent": ["/regression"], "02-one-step-by-hand": ["/sandbox"],
             "03-batches": ["/regression", "/sandbox"], "04-neuron": ["/playground"],
             "05-why-training-fails": ["/playground"]}
#: Longest a cell may run: a guard against a hang, not a measure of speed.
CELL_TIMEOUT = 300


def read(name: str) -> Any:
    return nbformat.read(COURSE / f"{name}.ipynb", as_version=4)


def text_of(cell: Any) -> str:
    """What a cell printed and returned, as text (text/plain of each result)."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback))
    return "".join(parts)


class Running:
    """A notebook executed top to bottom in a kernel that stays up for more cells."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.notebook = read(name)
        self.client = nbclient.NotebookClient(
            self.notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
            resources={"metadata": {"path": str(COURSE)}})
        self.client.km = self.client.create_kernel_manager()
        # this checkout's backprop, one BLAS thread as the site's build gives the kernels
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.pop("MPLBACKEND", None)  # the kernel's own inline backend, as in Jupyter
        self.client.start_new_kernel(env=env)
        self.client.start_new_kernel_client()
        started = time.perf_counter()
        try:
            for index, cell in enumerate(self.notebook.cells):
                self.client.execute_cell(cell, index)  # a cell that raises fails the test
        except BaseException:
            self.close()
            raise
        self.seconds = time.perf_counter() - started

    def run(self, source: str) -> str:
        """Run one more cell in the notebook's kernel; what it printed and returned."""
        cell = nbformat.v4.new_code_cell(source)
        self.notebook.cells.append(cell)
        self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        return text_of(cell)

    def value(self, expression: str) -> Any:
        """A JSON-able expression evaluated in the notebook's kernel."""
        return json.loads(self.run(f"import json as _json\nprint(_json.dumps({expression}))"))

    def close(self) -> None:
        from jupyter_core.utils import run_sync

        self.client.kc.stop_channels()
        run_sync(self.client.km.shutdown_kernel)(now=True)


@pytest.fixture(scope="module")
def executed() -> Iterator[dict[str, Running]]:
    """Each notebook, executed once (on first use), its kernel kept for the module's tests."""
    running: dict[str, Running] = {}
    yield running
    for notebook in running.values():
        notebook.close()


def run_once(executed: dict[str, Running], name: str) -> Running:
    if name not in executed:
        executed[name] = Running(name)
        print(f"\n{name}: executed in {executed[name].seconds:.1f} s")
    return executed[name]


# -- the notebooks as files ------------------------------------------------------------------

def test_the_course_is_six_notebooks_in_the_sites_navigation() -> None:
    assert sorted(p.stem for p in COURSE.glob("*.ipynb")) == list(NOTEBOOKS)
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("  - Course:", 1)[1]
    nav = nav.split("\n  - ", 1)[0]
    assert [re.search(r"course/(\S+)\.ipynb", line)[1]  # type: ignore[index]
            for line in nav.splitlines() if ".ipynb" in line] == list(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_is_stored_without_outputs(name: str) -> None:
    """The outputs on the site are the build's own: none are committed."""
    notebook = read(name)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_asserts_its_numbers_and_links_to_its_lab_page(name: str) -> None:
    notebook = read(name)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert len(re.findall(r"^assert ", code, flags=re.MULTILINE)) >= 3
    for page in LAB_PAGES.get(name, []):
        assert f"http://127.0.0.1:8765{page}" in prose and "backprop lab --open" in prose, page
    if name == "06-classic-result":
        assert "python bench/literature.py --only lecun-300" in prose
    # links to other notebooks and pages name files that exist (the site's build makes them
    # links to pages); the first notebook has a next, the last a back, the others both
    for target in re.findall(r"\]\(((?![a-z]+:)[^)#\s]+\.(?:ipynb|md))(?:#[^)]*)?\)", prose):
        assert (COURSE / target).resolve().is_file(), f"{name} links to a missing {target}"
    assert ("Next:" in prose) == (name != NOTEBOOKS[-1])
    assert ("Back:" in prose) == (name != NOTEBOOKS[0])


# -- the notebooks, executed -----------------------------------------------------------------

@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_runs_top_to_bottom(executed: dict[str, Running], name: str) -> None:
    notebook = run_once(executed, name)
    errors = [text_of(c) for c in notebook.notebook.cells
              if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]
    assert errors == []
    shown = [text_of(c) for c in notebook.notebook.cells if c.cell_type == "code"]
    assert any(shown), f"{name} shows nothing"


def test_the_line_of_notebook_one_is_the_regression_pages_default(
        executed: dict[str, Running]) -> None:
    pytest.importorskip("pydantic", reason="the lab's pages need the lab extra")
    from backprop.lab.regression import math as rm
    from backprop.lab.regression.protocol import Generate

    notebook = run_once(executed, NOTEBOOKS[0])
    ours = notebook.value("{'x': x.tolist(), 'y': y.tolist(), 'lambda_max': lambda_max, "
                          "'bound': bound, 'momentum_bound': momentum_bound, 'beta': beta}")
    g = Generate(type="generate")
    points = rm.generate(g.w_true, g.b_true, g.noise, g.n, g.x_min, g.x_max, g.seed)
    assert ours["x"] == points[:, 0].tolist() and ours["y"] == points[:, 1].tolist()
    lab = rm.stability(points[:, 0], momentum=ours["beta"])
    assert ours["lambda_max"] == pytest.approx(lab.lambda_max, rel=1e-12)
    assert ours["momentum_bound"] == pytest.approx(lab.bound, rel=1e-12)
    assert ours["bound"] == pytest.approx(rm.stability(points[:, 0]).bound, rel=1e-12)


# -- notebook 2's check cells, with answers filled in ------------------------------------------

#: One answer per known mistake: the mistake, the exercise (its variable in the notebook),
#: the number it changes, the name the check gives it.
KNOWN = [
    ("drop-sigma-prime", "step", "d-1-1", "σ′ dropped"),
    ("output-sigma-prime", "step", "d-2-1", "σ′ dropped"),
    ("stale-weights", "step", "d-1-2", "the updated weights used in the backward pass"),
    ("update-sign", "step", "w-2-1-1", "the sign of the update"),
    ("transpose-W", "mazur", "d-1-2", "W instead of Wᵀ"),
    ("forget-1/m", "batch", "g-2-1-1", "1/m forgotten"),
    ("sum-not-mean", "batch", "gb-2-1", "1/m forgotten"),
    ("twice-1/m", "batch", "g-2-1-2", "1/m applied twice"),
]

def check_cells(notebook: Running) -> dict[str, tuple[str, str]]:
    """exercise variable -> (its answers variable, the source of its last check cell)."""
    found = {}
    for cell in notebook.notebook.cells:
        if "check" in cell.metadata.get("tags", []):
            match = re.fullmatch(r"(\w+)\.check\((\w+)\)", cell.source.strip())
            assert match, cell.source
            found[match[1]] = (match[2], cell.source)
    return found


def fill(notebook: Running, exercise: str, changed: dict[str, str] | None = None) -> str:
    """Fill the exercise's answer cells with every right number (typed to 6 significant
    digits, trailing zeros kept), then `changed`; run its check cell again; what it shows."""
    answers, check = check_cells(notebook)[exercise]
    asked = notebook.value(f"sorted({answers})")
    values = notebook.value(f"{exercise}.values()")
    typed = {key: f"{values[key]:#.6g}" for key in asked} | (changed or {})
    notebook.run(f"{answers}.clear()\n{answers}.update({typed!r})")
    return notebook.run(check)


def test_notebook_twos_check_cells_start_blank(executed: dict[str, Running]) -> None:
    notebook = run_once(executed, NOTEBOOKS[1])
    cells = [c for c in notebook.notebook.cells if "check" in c.metadata.get("tags", [])]
    assert len(cells) >= 7 and set(check_cells(notebook)) == {"step", "mazur", "batch"}
    for cell in cells:
        assert text_of(cell).startswith("Nothing checked yet"), cell.source


@pytest.mark.parametrize("exercise", ["step", "mazur", "batch"])
def test_notebook_twos_check_says_all_right_to_every_right_number(
        executed: dict[str, Running], exercise: str) -> None:
    notebook = run_once(executed, NOTEBOOKS[1])
    shown = fill(notebook, exercise)
    answers, _ = check_cells(notebook)[exercise]
    count = len(notebook.value(answers))
    assert shown.startswith(f"{count} right, 0 wrong of {count} checked. All right.")
    assert "✗" not in shown and "wrong    " not in shown


def test_every_known_mistake_has_a_case() -> None:
    from backprop.teaching.answers import MISTAKES

    assert {mistake for mistake, *_ in KNOWN} == {k for k, m in MISTAKES.items() if m.known}


def wrong_number(notebook: Running, exercise: str, mistake: str, key: str) -> float:
    """The number `key` of the exercise as the mistake gives it."""
    from backprop.teaching.reference import MISTAKES as RULES

    if mistake in RULES:  # a wrong backward rule: the checker's own step_values with it
        notebook.run("from backprop.teaching.answers import step_values")
        e = exercise
        return float(notebook.value(f"step_values({e}.net, {e}.X, {e}.Y, {e}.lr, "
                                    f"sample={e}.sample, mistake={mistake!r})[{key!r}]"))
    values = notebook.value(f"{exercise}.values()")
    if mistake == "output-sigma-prime":  # δ of the output without σ′: a − y (mse)
        y = notebook.value(f"{exercise}.Y[{exercise}.sample - 1].tolist()")
        return float(values["a" + key[1:]] - y[int(key.split("-")[2]) - 1])
    if mistake == "update-sign":  # w + η ∂L/∂w
        return float(values[key] + 2 * notebook.value(f"{exercise}.lr") * values["g" + key[1:]])
    assert mistake == "twice-1/m", mistake  # the mean divided by m once more
    return float(values[key] / notebook.value(f"len({exercise}.X)"))


@pytest.mark.parametrize(("mistake", "exercise", "key", "name"), KNOWN,
                         ids=[case[0] for case in KNOWN])
def test_notebook_twos_check_names_each_known_mistake(
        executed: dict[str, Running], mistake: str, exercise: str, key: str, name: str) -> None:
    notebook = run_once(executed, NOTEBOOKS[1])
    answers, _ = check_cells(notebook)[exercise]
    assert key in notebook.value(f"list({answers})"), f"{exercise} does not ask for {key}"
    wrong = wrong_number(notebook, exercise, mistake, key)
    shown = fill(notebook, exercise, {key: f"{wrong:#.6g}"})
    count = len(notebook.value(answers))
    assert shown.startswith(f"{count - 1} right, 1 wrong of {count} checked.")
    row = next(line for line in shown.splitlines() if "  wrong  " in line)
    assert row.rstrip().endswith(name), row
    hint = next(line for line in shown.splitlines() if line.startswith("Start here: "))
    assert f"the known mistake “{name}” gives" in hint
    assert notebook.value(f"{exercise}.check({answers}).mistakes") == {key: name}
