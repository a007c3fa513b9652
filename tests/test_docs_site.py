"""The documentation site: built with ``mkdocs build --strict``, then read in Chromium.

The build fails on a broken link, anchor or cross-reference, and on a docstring
that does not match its signature. Every built page is then opened in headless
Chromium from a local server: no console error, no request to another host (every
request is intercepted, and any other host's is refused and recorded), every
image loaded, and the math rendered by KaTeX wherever the page has math.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from backprop.cli.entry import build_parser

ROOT = Path(__file__).resolve().parent.parent
#: The course's notebooks, executed by the build: their pages.
COURSE = ("course/01-gradient-descent/", "course/02-one-step-by-hand/", "course/03-batches/",
          "course/04-neuron/", "course/05-why-training-fails/", "course/06-classic-result/")
#: Pages whose math must come out rendered: the derivation, and the executed notebooks.
MATH_PAGES = ("learn/derivation/", "learn/gradcheck/", "learn/equations-to-code/", *COURSE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built from this checkout into a fresh folder, as `make docs` builds it."""
    pytest.importorskip("mkdocs", reason="the site needs the docs extra: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**_environment(), "NO_MKDOCS_2_WARNING": "1"})
    seconds = time.perf_counter() - started
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-6000:]}"
    print(f"\nmkdocs build --strict: {seconds:.1f} s")
    return out


def _environment() -> dict[str, str]:
    import os

    return dict(os.environ, PYTHONPATH=str(ROOT / "src"))


def _pages(site: Path) -> list[str]:
    """Every built page, as its path under the site's root ('' for the home page)."""
    pages = sorted(str(p.parent.relative_to(site)) + "/" for p in site.rglob("index.html"))
    return ["" if page == "./" else page for page in pages]


def test_every_page_of_the_navigation_is_built(site: Path) -> None:
    pages = _pages(site)
    for page in ("", "getting-started/", "learn/derivation/", "guides/sklearn/",
                 "guides/onnx-pytorch/", "guides/sweeps/", "guides/larger-than-memory/",
                 "guides/lab/", "guides/speed/", "guides/safety/", "reference/command/",
                 "reference/api/", "reference/api/network/", "course/", *COURSE):
        assert page in pages, page
    assert (site / "img" / "bench.png").read_bytes() == (
        ROOT / "bench" / "reported" / "bench.png").read_bytes()


def test_the_course_links_to_pages_and_offers_each_notebook(site: Path) -> None:
    """A notebook links to the files beside it (so that the links work in Jupyter); on the
    site each such link leads to the page built from that file, and the page offers its
    notebook for download."""
    for page in COURSE:
        html = (site / page / "index.html").read_text(encoding="utf-8")
        name = Path(page).name
        assert f'href="{name}.ipynb"' in html and (site / page / f"{name}.ipynb").is_file()
        for href in re.findall(r'href="([^"]+)"', html):
            if re.match(r"[a-z]+:|#|/", href):
                continue
            path = href.split("#", 1)[0]
            assert not path.endswith(".md"), f"{page}: a link to a file, not a page: {href}"
            assert path == f"{name}.ipynb" or not path.endswith(".ipynb"), f"{page}: {href}"
            assert (site / page / path).exists(), f"{page}: a broken link {href}"


def _text(html: str) -> str:
    """The page's text: tags dropped, entities of the command's help decoded."""
    text = re.sub(r"<[^>]+>", "", html)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"),
                         ("&amp;", "&")):
        text = text.replace(entity, char)
    return " ".join(text.split())


def test_the_command_reference_is_what_help_prints(site: Path) -> None:
    page = _text((site / "reference" / "command" / "index.html").read_text(encoding="utf-8"))
    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert len(subcommands.choices) >= 12
    for name, sub in subcommands.choices.items():
        assert f"backprop {name}" in page, name
        help_text = " ".join(sub.format_help().split())
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                assert option in help_text and option in page, f"{name} {option}"
            if action.help and "%" not in action.help and action.help != argparse.SUPPRESS:
                assert " ".join(action.help.replace("`", "").split()) in page, f"{name}: {action.help}"


def test_the_speed_page_shows_the_reported_benchmark(site: Path) -> None:
    html = (site / "guides" / "speed" / "index.html").read_text(encoding="utf-8")
    page = _text(html)
    report = (ROOT / "bench" / "reported" / "bench.md").read_text(encoding="utf-8")
    summary = report.split("## Summary: median seconds per epoch", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in summary.splitlines() if line.startswith("| `")]
    assert len(rows) == 16
    for row in rows:
        cells = [cell.strip().strip("`") for cell in row.strip("|").split("|")]
        assert " ".join(cells) in page, row
    assert 'src="../../img/bench.png"' in html


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site on a local HTTP server, 127.0.0.1 and a free port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_every_page_in_chromium(site: Path, served: str, chromium: Any) -> None:
    """No console error, no other host, every image loaded, the math rendered."""
    local = urlsplit(served).netloc
    elsewhere: list[str] = []

    def route(request_route: Any) -> None:
        if urlsplit(request_route.request.url).netloc == local:
            request_route.continue_()
        else:
            elsewhere.append(request_route.request.url)
            request_route.abort()

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", route)
    problems: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    math_seen: dict[str, int] = {}
    try:
        for path in _pages(site):
            page.goto(served + path, wait_until="load")
            page.wait_for_load_state("networkidle")
            broken = page.evaluate(
                "() => Array.from(document.images)"
                ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
            assert broken == [], f"{path}: images that did not load: {broken}"
            math = page.evaluate(
                "() => ({sources: document.querySelectorAll('.arithmatex').length,"
                " rendered: document.querySelectorAll('.arithmatex .katex').length,"
                " katex: document.querySelectorAll('.katex').length,"
                " errors: document.querySelectorAll('.katex-error').length})")
            assert math["errors"] == 0, f"{path}: KaTeX could not render {math['errors']} formulas"
            assert math["rendered"] == math["sources"], f"{path}: math left unrendered: {math}"
            math_seen[path] = math["katex"]
    finally:
        context.close()
    assert problems == [], f"console errors: {problems}"
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    for path in MATH_PAGES:
        assert math_seen.get(path, 0) > 0, f"{path}: no math rendered"


def test_the_readme_is_a_five_minute_read() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    for heading in ("## Set up", "## In Python", "## On the command line", "## Results",
                    "## Documentation"):
        assert heading in readme, heading
    assert "make demo" in readme and "make test" in readme and "](docs/img/" in readme
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).exists(), f"the README links to a missing file: {target}"


def test_the_readme_results_are_the_reported_ones() -> None:
    results = (ROOT / "README.md").read_text(encoding="utf-8").split("## Results", 1)[1]
    recipe = json.loads((ROOT / "bench" / "reported" / "recipe.json").read_text())
    accuracies = ", ".join(f"{100 * run['test_accuracy']:.2f}%" for run in recipe["runs"])
    seconds = ", ".join(f"{run['train_s']:.2f}" for run in recipe["runs"])
    assert f"{accuracies} test accuracy in {seconds} s of training" in results
    headline = next(w for w in json.loads((ROOT / "bench" / "reported" / "bench.json").read_text())
                    ["workloads"] if w["workload"]["name"] == "headline")
    assert f"{headline['results']['backprop']['steady']['median']:.3f} s" in results
    for peer, label in (("torch", "PyTorch"), ("torch-fused", "PyTorch fused Adam"),
                        ("jax", "JAX (jit)"), ("sklearn", "scikit-learn")):
        assert f"{label} {headline['ratios'][peer]['epoch']:.2f}" in results, peer
