"""The one ES module each widget loads, assembled from the lab page's own files: every module
the page reaches, unchanged but for its import specifiers, in dependency order; the page's
styles inline; nothing fetched from elsewhere; valid JavaScript."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("pydantic", reason="the lab needs the extra backprop-mlp[lab]")

from backprop.lab.notebook import assets
from backprop.lab.playground.page import PlaygroundPage
from backprop.lab.regression.page import RegressionPage
from backprop.lab.sandbox.page import SandboxPage
from backprop.lab.session import Page

PAGES = [PlaygroundPage, SandboxPage, RegressionPage]
SPECIFIER = re.compile(r"""(["'])[^"'\n]+\1""")


def imports(source: str) -> list[str]:
    return [match["spec"] for match in assets._IMPORT.finditer(source)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_module_the_page_reaches_is_there_unchanged_but_for_its_imports(
        page: type[Page]) -> None:
    bundle = assets.read_bundle(page)
    assert bundle.entry == f"/static/{page.name}/{page.name}.js"
    assert "/static/common.js" in bundle.modules  # the transport seam every page shares
    seen: list[str] = []
    for url, rewritten in bundle.modules.items():
        source = assets.file_of(url, page).read_text(encoding="utf-8")
        for target in imports(rewritten):
            assert target.startswith(assets.MODULE_PREFIX), (url, target)
            assert target.removeprefix(assets.MODULE_PREFIX) in seen, f"{url} before {target}"
        # the same text once each specifier is blanked: only the specifiers differ
        blank = lambda text: assets._IMPORT.sub(  # noqa: E731
            lambda m: m["head"] + '""', text)
        assert blank(rewritten) == blank(source)
        assert len(imports(rewritten)) == len(imports(source))
        seen.append(url)
    assert seen[-1] == bundle.entry


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_document_has_the_styles_inline_and_fetches_nothing(page: type[Page]) -> None:
    bundle = assets.read_bundle(page)
    html = bundle.html
    assert "<link rel=\"stylesheet\"" not in html and "<script type=\"module\" src=" not in html
    for css in (assets.SHARED / "style.css", page.static / f"{page.name}.css",
                assets.OWN / "widget.css"):
        assert css.read_text(encoding="utf-8") in html
    assert f'import "{assets.MODULE_PREFIX}{bundle.entry}"' in html
    assert '<body data-widget="1" data-page=' in html
    for text in [html, *bundle.modules.values()]:
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
        assert not re.search(r"""from\s+["']https?:""", text)


def test_an_import_the_assembler_cannot_follow_is_a_bug_it_names(tmp_path: Path) -> None:
    class Broken(Page):
        name = "broken"
        static = tmp_path

    (tmp_path / "broken.html").write_text(
        '<body data-page="broken">\n<script type="module" src="/static/broken/a.js"></script>')
    (tmp_path / "a.js").write_text('import { x } from "./b.js";\nimport "lodash";\n')
    (tmp_path / "b.js").write_text("export const x = 1;\n")
    with pytest.raises(assets.AssetError, match=r"a\.js imports 'lodash', not a file of the lab"):
        assets.read_bundle(Broken)
    (tmp_path / "a.js").write_text('import { x } from "./b.js";\n')
    (tmp_path / "b.js").write_text('import "./a.js";\nexport const x = 1;\n')
    with pytest.raises(assets.AssetError, match=r"an import cycle through /static/broken/a\.js"):
        assets.read_bundle(Broken)


def test_code_that_looks_like_an_import_is_left_alone() -> None:
    source = ('export const lab = { page: "x" };\nexport function f() { return "a"; }\n'
              'const s = "import x from \'y\'";\n')
    assert imports(source) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_widget_module_is_valid_javascript_with_one_default_export(
        page: type[Page], tmp_path: Path) -> None:
    module = assets.widget_module(page)
    assert module.startswith("const PAGE = {") and module.count("export default") == 1
    node = shutil.which("node")
    if node is None:
        pytest.skip("checking the module's syntax needs node")
    path = tmp_path / f"{page.name}.mjs"
    path.write_text(module, encoding="utf-8")
    done = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
