"""The package: what ``import backprop`` loads, that every public name resolves, and the
distribution: one version, install hints that name it, a wheel that carries the lab and
installs into a fresh environment where `backprop train` and `backprop lab` work."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import urlopen

import pytest

import backprop as bp
from backprop.version import DISTRIBUTION, install_hint

LAZY_MODULES = (
    "backprop.teaching.reading",
    "backprop.teaching.diagnostics",
    "backprop.files.model_file",
    "backprop.files.loading",
    "backprop.teaching.worked_step",
    "numpy.random",
)


def test_import_backprop_leaves_inspection_files_and_random_numbers_unloaded() -> None:
    code = (
        "import sys, backprop; "
        "print(','.join(m for m in sys.modules if m.startswith(('backprop', 'numpy.random'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.strip().split(","))
    assert "backprop.network" in loaded and "backprop.optim.rules" in loaded
    assert not loaded & set(LAZY_MODULES), f"loaded eagerly: {sorted(loaded & set(LAZY_MODULES))}"


def test_every_public_name_resolves() -> None:
    for name in bp.__all__:
        assert getattr(bp, name) is not None, name
    assert callable(bp.explain) and callable(bp.gradcheck)  # functions, not their modules
    assert bp.Diagnostics.__module__ == "backprop.teaching.diagnostics"
    assert bp.read_diagnostics.__module__ == "backprop.teaching.reading"
    assert bp.load.__module__ == "backprop.files.loading"
    assert bp.explain.__module__ == "backprop.teaching.worked_step"


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    try:
        bp.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("bp.no_such_name did not raise")


# --- the distribution: built, checked, installed into a fresh environment -------------------

ROOT = Path(__file__).resolve().parent.parent
#: An install hint naming the package index's unrelated "backprop", not this distribution.
OLD_HINT = re.compile(r"(?<![\w-])backprop\[")


def test_the_version_is_said_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == "backprop-mlp"
    assert "version" not in project and project["dynamic"] == ["version"]
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["dynamic"] == {
        "version": {"attr": "backprop.version.__version__"}}
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert changelog.splitlines()[2] == "## Unreleased" or f"## {bp.__version__}" in changelog
    done = subprocess.run([sys.executable, "-m", "backprop", "--version"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == f"backprop {bp.__version__}"


def test_every_install_hint_names_the_distribution() -> None:
    places = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "Makefile",
              *[p for folder in ("src", "docs", "bench", "examples", "tests")
                for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md", ".html", ".js"}]]
    found = [f"{p.relative_to(ROOT)}:{n}" for p in places
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if OLD_HINT.search(line)]
    assert found == [], f"install hints naming another project's distribution: {found}"
    assert install_hint("lab") == "pip install 'backprop-mlp[lab]'"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel, built by `python -m build` from this checkout."""
    pytest.importorskip("build", reason="building needs the test extra's build")
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "backprop"
    # a clean copy of the tracked tree, so nothing left in the checkout gets into the dists
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "site", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
        ".hypothesis", "runs", "artifacts"))
    # --no-isolation: the backend is the setuptools installed here, not a fresh download
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out)],
                          cwd=source, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    wheel = next(out.glob("backprop_mlp-*.whl"))
    sdist = next(out.glob("backprop_mlp-*.tar.gz"))
    return {"wheel": wheel, "sdist": sdist}


def test_the_wheel_carries_the_lab_and_the_type_marker(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"backprop_mlp-{bp.__version__}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"backprop_mlp-{bp.__version__}.dist-info/entry_points.txt")
    source = ROOT / "src"
    modules = {str(p.relative_to(source)) for p in (source / "backprop").rglob("*.py")}
    static = {str(p.relative_to(source)) for p in (source / "backprop" / "lab").rglob("*")
              if p.is_file() and "static" in p.parent.parts}
    assert static and all(name.endswith((".html", ".js", ".css")) for name in static)
    assert modules <= names, sorted(modules - names)
    assert static <= names, f"lab files missing from the wheel: {sorted(static - names)}"
    assert "backprop/py.typed" in names
    assert f"Name: {DISTRIBUTION}\n" in metadata and f"Version: {bp.__version__}\n" in metadata
    assert "Provides-Extra: lab" in metadata and "License-Expression: MIT" in metadata
    assert b"backprop = backprop.cli:main" in entry_points


def test_twine_accepts_both_distributions(dists: dict[str, Path]) -> None:
    pytest.importorskip("twine", reason="the check needs the test extra's twine")
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                           str(dists["wheel"]), str(dists["sdist"])],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def _crawl(base: str, start: str) -> dict[str, int]:
    """Every page and file reachable from START on the server at BASE: URL -> bytes."""
    seen: dict[str, int] = {}
    todo = [urljoin(base, start)]
    link = re.compile(r"""(?:src|href)="([^"#:]+)"|(?:from|import)\s*\(?\s*["'](\.{0,2}/[^"']+)["']""")
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        with urlopen(url, timeout=30) as response:  # an HTTP error status raises
            body = response.read()
        seen[url] = len(body)
        if url.endswith((".png", ".ico")):
            continue
        for match in link.finditer(body.decode("utf-8", errors="replace")):
            target = urljoin(url, match.group(1) or match.group(2))
            if urlsplit(target).netloc == urlsplit(base).netloc:
                todo.append(target)
    return seen


def test_the_wheel_installs_trains_and_serves_the_lab(dists: dict[str, Path],
                                                       tmp_path: Path) -> None:
    """A fresh environment that sees nothing of this checkout: only the wheel and its extras."""
    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True, timeout=300)
    python, command = environment / "bin" / "python", environment / "bin" / "backprop"
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           f"{dists['wheel']}[cli,lab]"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    where = subprocess.run([str(python), "-c", "import backprop; print(backprop.__file__)"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(environment), where.stdout

    trained = subprocess.run([str(command), "train", "xor", "--epochs", "5", "--out", "runs/xor"],
                             env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    assert "test accuracy" in trained.stdout
    assert (tmp_path / "runs" / "xor" / "model.npz").is_file()

    lab = subprocess.Popen([str(command), "lab", "--host", "127.0.0.1", "--port", "0"],
                           env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        assert lab.stdout is not None
        printed = [lab.stdout.readline()]  # it prints where it serves, then serves
        while printed[-1] and not printed[-1].startswith("backprop lab: serving on "):
            printed.append(lab.stdout.readline())
        assert printed[-1], f"backprop lab printed no URL: {printed}"
        base = printed[-1].removeprefix("backprop lab: serving on ").strip()
        fetched = _crawl(base, "/")
        for page in ("regression", "sandbox", "playground"):
            fetched |= _crawl(base, f"/{page}")
    finally:
        lab.send_signal(signal.SIGINT)
        lab.wait(timeout=30)
    paths = {urlsplit(url).path for url in fetched}
    assert {"/", "/regression", "/sandbox", "/playground"} <= paths
    scripts = [path for path in paths if path.endswith(".js")]
    assert len(scripts) >= 4 and all(fetched[url] > 0 for url in fetched), fetched
