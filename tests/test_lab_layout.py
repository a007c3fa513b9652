"""The lab's shape, read from its files: one folder per page, no import from the command,
ES modules only (no inline script, one global), no verdict decided by a page, and every
static file carried by the wheel. Nothing here needs the lab's extra."""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "src" / "backprop" / "lab"
#: The pages: each one a package of the lab with its own static folder.
PAGES = sorted(path.parent.name for path in LAB.glob("*/page.py"))
HTML_FILES = sorted(LAB.rglob("*.html"))
JS_FILES = sorted(LAB.rglob("*.js"))
#: The notebook widgets' host: it runs in the notebook, around a page, not in one.
HOST = LAB / "notebook" / "static" / "host.js"


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT / "src").with_suffix("").parts[:-1])


def imported_modules(source: str, package: str) -> set[str]:
    """Every module some Python source in ``package`` imports, at any depth (relative
    imports made absolute, ``importlib.import_module("...")`` included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level \
                else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module"):
            found.update(arg.value for arg in node.args
                         if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return found


def test_the_pages_are_found() -> None:
    assert PAGES == ["playground", "regression", "sandbox"]


@pytest.mark.parametrize("path", sorted(LAB.rglob("*.py")), ids=lambda p: str(p.relative_to(LAB)))
def test_the_lab_imports_nothing_from_the_command(path: Path) -> None:
    command = {name for name in imported_modules(path.read_text(encoding="utf-8"),
                                                 package_of(path))
               if name == "backprop.cli" or name.startswith("backprop.cli.")}
    assert not command, f"{path.relative_to(ROOT)} imports {sorted(command)}"
    assert "backprop.cli" not in path.read_text(encoding="utf-8")


def test_the_import_reader_sees_every_form() -> None:
    source = ("from backprop.cli import lab\nimport backprop.cli.entry\n"
              "def f():\n    from ...cli.options import Option\n"
              "    importlib.import_module('backprop.cli.explain')\n")
    found = imported_modules(source, "backprop.lab.playground")
    assert {"backprop.cli.lab", "backprop.cli.entry", "backprop.cli.options",
            "backprop.cli.explain"} <= found


class Scripts(HTMLParser):
    """The <script> tags of a page and any inline event handler (onclick=...)."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [f"<{tag} {name}=...>" for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:60])


@pytest.mark.parametrize("path", HTML_FILES, ids=lambda p: str(p.relative_to(LAB)))
def test_pages_load_modules_only_and_carry_no_inline_script(path: Path) -> None:
    parser = Scripts()
    parser.feed(path.read_text(encoding="utf-8"))
    assert parser.inline == [], f"inline script in {path.name}"
    assert parser.handlers == [], f"inline event handlers in {path.name}"
    for script in parser.scripts:
        assert script.get("src"), f"a <script> without src in {path.name}"
        assert script.get("type") == "module", f"{script.get('src')} is not type=module"
    if path.parent.parent.name in PAGES:  # a page: exactly its own module
        name = path.parent.parent.name
        assert [s["src"] for s in parser.scripts] == [f"/static/{name}/{name}.js"]


def test_the_checker_sees_an_inline_script_and_a_classic_one() -> None:
    parser = Scripts()
    parser.feed('<body><button onclick="go()">x</button><script>lab.go()</script>'
                '<script src="/a.js"></script></body>')
    assert parser.inline == ["lab.go()"] and parser.handlers == ["<button onclick=...>"]
    assert parser.scripts[1] == {"src": "/a.js"}


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: str(p.relative_to(LAB)))
def test_scripts_are_modules_sharing_only_the_documented_global(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assigned = set(re.findall(r"\bwindow\.(\w+)\s*=(?!=)", text))
    assert assigned <= {"backpropLab"}, f"{path.name} sets window.{sorted(assigned)}"
    assert "globalThis." not in text and "(function () {" not in text
    if path == HOST:  # the one module anywidget loads: the page's modules come as data
        assert not re.search(r"^import ", text, re.M)
        assert text.rstrip().endswith("export default { render };")
    elif path.name != "common.js":
        assert re.search(r'^import .* from "(\.\./common|\./\w+)\.js";$', text, re.M), path.name
        assert "window.backpropLab" not in text, f"{path.name}: import lab from common.js"


#: What a page may not do: compare an error with a threshold to judge it (drawing code may
#: compare ranges with small numbers, and formatting may switch notation at 1e-4).
VERDICT = re.compile(r"\b(\w*error|tolerance)\s*[<>]=?|[<>]=?\s*[\w.]*\b(\w*error|tolerance)\b")


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: str(p.relative_to(LAB)))
def test_no_page_decides_a_verdict(path: Path) -> None:
    judged = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
              if VERDICT.search(line)]
    assert judged == [], f"{path.name} judges numbers itself: {judged}"


def test_the_verdict_pattern_finds_what_the_pages_once_did() -> None:
    assert VERDICT.search("if (edge.relative_error <= 1e-6) return \"sb-ok\";")
    assert VERDICT.search('context.strokeStyle = error <= check.tolerance ? "g" : "r";')
    assert VERDICT.search("return e.max_error < 1e-6;")
    assert not VERDICT.search("if (high - low < 1e-9) high = low + 1;")
    assert not VERDICT.search('line(`relative error ${lab.format(e.relative_error, 2)}`)')


def test_the_wheel_carries_every_static_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["backprop"]  # relative to src/backprop
    static = [path for path in LAB.rglob("*") if path.is_file() and "static" in path.parts]
    assert len(static) >= 3 * len(PAGES) + 3  # each page's html, js, css; the shared three
    for path in static:
        relative = path.relative_to(LAB.parent).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) and
                   relative.count("/") == pattern.count("/") for pattern in patterns), relative


@pytest.mark.parametrize("name", PAGES)
def test_each_page_keeps_its_code_schemas_and_files_together(name: str) -> None:
    folder = LAB / name
    for part in ("__init__.py", "page.py", "protocol.py", f"static/{name}.html",
                 f"static/{name}.js", f"static/{name}.css"):
        assert (folder / part).is_file(), f"{name}/{part}"
    assert not list(LAB.glob(f"{name}_*.py")) and not (LAB / f"{name}.py").exists()
