"""A report as a list of blocks (headings, paragraphs, tables, images), written as
Markdown or as one self-contained HTML page (images linked by relative path)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from backprop.errors import OptionError
from backprop.files.io import write_atomically

FORMATS = ("html", "markdown")


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Image:
    path: str  # relative to the report
    alt: str


Block = Heading | Paragraph | Table | Image

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;"
    "line-height:1.45}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
    "th{background:#f3f3f3}img{max-width:100%}"
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append("#" * block.level + " " + block.text)
        elif isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Table):
            lines = ["| " + " | ".join(_cell(h) for h in block.header) + " |",
                     "|" + " --- |" * len(block.header)]
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
            out.append("\n".join(lines))
        else:
            out.append(f"![{block.alt}]({block.path})")
    return "\n\n".join(out) + "\n"


def to_html(blocks: Sequence[Block], title: str) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"]
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in block.rows
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            out.append(f'<p><img src="{html.escape(block.path)}" alt="{html.escape(block.alt)}">'
                       "</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(out: Path, blocks: Sequence[Block], fmt: str, title: str) -> Path:
    """report.html or report.md in ``out``; returns its path."""
    if fmt == "markdown":
        path, text = out / "report.md", to_markdown(blocks)
    else:
        path, text = out / "report.html", to_html(blocks, title)
    data = text.encode("utf-8")
    write_atomically(path, lambda file: file.write(data), OptionError)
    return path
