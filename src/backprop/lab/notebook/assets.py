"""One ES module per widget, assembled from a lab page's own files when the package loads.

anywidget loads one ES module per widget. A lab page is an HTML document, its styles,
and ES modules that import each other (``playground.js`` → ``draw.js`` →
``../common.js``). :func:`widget_module` gathers them, with no build step: the
document with its stylesheets inlined, every module reachable from the page's entry
script (each import's specifier rewritten to ``backprop-module:<path>``), and the host
(``static/host.js``), which turns those modules into blob URLs at render time and runs
the document in an iframe of the cell, the page's transport handed over as a channel
(common.js's ``lab.channel``). The page's files are the ones the lab serves, unchanged.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from backprop.lab.session import Page

#: The lab's shared files (common.js, style.css), served under /static/.
SHARED = Path(__file__).resolve().parent.parent / "static"
#: The widget's own files: the host module and the styles added inside the frame.
OWN = Path(__file__).resolve().parent / "static"
#: What a rewritten import specifier starts with; the host replaces it by a blob URL.
MODULE_PREFIX = "backprop-module:"

_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
_ENTRY = re.compile(r'<script type="module" src="([^"]+)"></script>')
#: A static import (``import "x"``, ``import {a, b} from "x"``) or re-export, at the start of
#: a line; the quoted specifier is group "spec". The clause before ``from`` holds names,
#: braces, commas and ``*`` only, so no code is mistaken for one.
_IMPORT = re.compile(
    r"""^(?P<head>(?:import\s*|(?:import|export)\s+[\w$*{},\s]+?\s+from\s*))"""
    r"""(?P<q>["'])(?P<spec>[^"'\n]+)(?P=q)""",
    re.MULTILINE)
_DYNAMIC = re.compile(r"\bimport\s*\(")


class AssetError(RuntimeError):
    """A page's files cannot be assembled (a bug in the package, never a user's mistake)."""


@dataclass(frozen=True)
class Bundle:
    """A page ready for a widget: its document and its modules in dependency order."""

    name: str
    title: str
    html: str  # the page's document, styles inline, the entry left to the host
    modules: dict[str, str]  # URL path → source, imports rewritten; dependencies first
    entry: str  # the URL path of the page's script


def file_of(url: str, page: type[Page]) -> Path:
    """The file behind a URL path the lab serves: /static/NAME/... (the page's own folder)
    or /static/... (the shared one)."""
    own = f"/static/{page.name}/"
    if url.startswith(own):
        return page.static / url.removeprefix(own)
    if url.startswith("/static/"):
        return SHARED / url.removeprefix("/static/")
    raise AssetError(f"{page.name}: {url} is not one of the lab's static files")


def modules_from(entry: str, page: type[Page]) -> dict[str, str]:
    """Every module the entry reaches, imports rewritten, each after the ones it imports."""
    ordered: dict[str, str] = {}
    visiting: set[str] = set()

    def visit(url: str) -> None:
        if url in ordered:
            return
        if url in visiting:
            raise AssetError(f"{page.name}: an import cycle through {url}")
        visiting.add(url)
        source = file_of(url, page).read_text(encoding="utf-8")
        if _DYNAMIC.search(source):
            raise AssetError(f"{page.name}: {url} imports dynamically, which a widget cannot")

        def rewrite(match: re.Match[str]) -> str:
            spec = match["spec"]
            if not spec.startswith(("./", "../", "/")):
                raise AssetError(f"{page.name}: {url} imports {spec!r}, not a file of the lab")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(url), spec))
            visit(target)
            return f"{match['head']}{match['q']}{MODULE_PREFIX}{target}{match['q']}"

        rewritten = _IMPORT.sub(rewrite, source)
        visiting.discard(url)
        ordered[url] = rewritten

    visit(entry)
    return ordered


#: Each page's bundle and module, by page name, made once per process.
_BUNDLES: dict[str, Bundle] = {}
_MODULES: dict[str, str] = {}


def bundle(page: type[Page]) -> Bundle:
    """The page's document and modules, read from the files the lab serves (once)."""
    if page.name not in _BUNDLES:
        _BUNDLES[page.name] = read_bundle(page)
    return _BUNDLES[page.name]


def read_bundle(page: type[Page]) -> Bundle:
    """The page's document and modules as the files are now."""
    document = (page.static / f"{page.name}.html").read_text(encoding="utf-8")
    entries = _ENTRY.findall(document)
    if len(entries) != 1:
        raise AssetError(f"{page.name}: expected one module script, found {len(entries)}")
    entry = entries[0]

    def inline(match: re.Match[str]) -> str:
        css = file_of(match[1], page).read_text(encoding="utf-8")
        return f"<style>\n{css}</style>"

    document = _STYLESHEET.sub(inline, document)
    own_css = (OWN / "widget.css").read_text(encoding="utf-8")
    boot = (  # the channel first (a classic script runs at once), then the page's modules
        "<script>window.backpropLabChannel = window.frameElement"
        " && window.frameElement.backpropLabChannel;</script>\n"
        f'  <script type="module">import "{MODULE_PREFIX}{entry}";</script>')
    document = _ENTRY.sub(lambda _: boot, document)
    document = document.replace("</head>", f"<style>\n{own_css}</style>\n</head>", 1)
    document = document.replace("<body ", '<body data-widget="1" ', 1)
    return Bundle(page.name, page.title, document, modules_from(entry, page), entry)


def widget_module(page: type[Page]) -> str:
    """The one ES module anywidget loads for this page: the bundle as data, then the host."""
    if page.name not in _MODULES:
        _MODULES[page.name] = module_text(bundle(page))
    return _MODULES[page.name]


def module_text(page_bundle: Bundle) -> str:
    """The module of one bundle."""
    data = {"name": page_bundle.name, "title": page_bundle.title, "html": page_bundle.html,
            "modules": page_bundle.modules, "entry": page_bundle.entry,
            "prefix": MODULE_PREFIX}
    host = (OWN / "host.js").read_text(encoding="utf-8")
    # "</" cannot end anything inside a module, but keep the JSON inert anywhere it is pasted
    text = json.dumps(data).replace("</", "<\\/")
    return f"const PAGE = {text};\n\n{host}"
