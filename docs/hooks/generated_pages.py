"""The site's generated parts (an MkDocs hook, named in mkdocs.yml).

- ``reference/command.md``: the command reference, read from the parser that
  ``backprop --help`` prints (``backprop.cli.entry.build_parser``), so it lists
  exactly the options, metavars and help texts of the command, whatever declares them.
- the table of ``bp.*`` names on the API page (``<!-- public names -->``), each
  linked to its documentation, from ``backprop.__all__``.
- ``img/bench.png``: the benchmark's plot, taken from bench/reported as it is.
- ``<!-- include: PATH#HEADING -->`` in a page becomes that section of the Markdown
  file PATH (relative to the repository): its body up to the next heading of the
  same or a higher level. A missing file or heading fails the build.
- Executed notebooks' pages lose the MathJax and Mermaid scripts that the notebook
  template loads from other hosts: the site renders math with its own KaTeX.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMMAND_PAGE = "reference/command.md"
#: Files of the repository served by the site as they are: site path -> repository path.
COPIED = {"img/bench.png": "bench/reported/bench.png"}
PUBLIC_NAMES = "<!-- public names -->"
INCLUDE = re.compile(r"<!-- include: (?P<path>[^#\s]+)#(?P<heading>[^>]+?) -->")
#: What the notebook template adds for MathJax and Mermaid, both loaded from other hosts.
NOTEBOOK_SCRIPTS = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mermaid configuration -->", re.DOTALL)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _cell(text: str) -> str:
    """Text for one Markdown table cell: one line, pipes and angle brackets escaped."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def option_rows(parser: argparse.ArgumentParser) -> list[tuple[str, str, str]]:
    """(group title, invocation, help) per argument, as ``--help`` prints them."""
    formatter = parser._get_formatter()
    rows = []
    for group in parser._action_groups:
        for action in group._group_actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            invocation = formatter._format_action_invocation(action)
            help_text = formatter._expand_help(action) if action.help else ""
            rows.append((group.title or "", invocation, help_text))
    return rows


def command_reference(parser: argparse.ArgumentParser) -> str:
    """The Markdown page: the command's usage, then one section per subcommand."""
    lines = [
        "# The command",
        "",
        "This page is generated from the command's own parser when the site is built: "
        "every option, its arguments, its default and its help are those that "
        "`backprop COMMAND --help` prints.",
        "",
        "```text",
        parser.format_usage().strip(),
        "```",
        "",
    ]
    for name, sub in _subcommands(parser).items():
        lines += [f"## backprop {name}", ""]
        if sub.description:
            lines += [sub.description.strip(), ""]
        lines += ["```text", sub.format_usage().strip(), "```", ""]
        group = None
        for title, invocation, help_text in option_rows(sub):
            if title != group:
                group = title
                lines += ["", f"**{title.capitalize()}**", ""]
                lines += ["| argument | meaning |", "|---|---|"]
            lines.append(f"| `{_cell(invocation)}` | {_cell(help_text)} |")
        if sub.epilog:
            lines += ["", sub.epilog.strip()]
        lines.append("")
    return "\n".join(lines)


def public_names() -> str:
    """A table of ``bp.*``: each name linked to where its module documents it."""
    import backprop

    rows = ["| name | what it is |", "|---|---|"]
    for name in sorted(backprop.__all__, key=str.lower):
        value = getattr(backprop, name)
        module = getattr(value, "__module__", None)
        if module is None or not (callable(value) or isinstance(value, type)):
            rows.append(f"| `bp.{name}` | {_cell(repr(value))} |")
            continue
        summary = (value.__doc__ or "").strip().split("\n\n")[0]
        rows.append(f"| [`bp.{name}`][{module}.{name}] | {_cell(summary)} |")
    return "\n".join(rows)


def section(path: Path, heading: str) -> str:
    """The body of the section of Markdown file PATH under HEADING."""
    text = path.read_text(encoding="utf-8").splitlines()
    for start, line in enumerate(text):
        match = re.match(r"(#+) (.*)", line)
        if match and match.group(2).strip() == heading.strip():
            level = len(match.group(1))
            body = []
            for later in text[start + 1:]:
                found = re.match(r"(#+) ", later)
                if found and len(found.group(1)) <= level:
                    break
                body.append(later)
            return "\n".join(body).strip()
    raise ValueError(f"{path}: no heading {heading!r}")


def on_config(config: Any) -> Any:
    source = str(ROOT / "src")
    if source not in sys.path:  # document this checkout, whatever else is installed
        sys.path.insert(0, source)
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    from backprop.cli.entry import build_parser

    files.append(File.generated(config, COMMAND_PAGE, content=command_reference(build_parser())))
    for site_path, repository_path in COPIED.items():
        files.append(File.generated(config, site_path, abs_src_path=str(ROOT / repository_path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    def include(match: re.Match[str]) -> str:
        return section(ROOT / match.group("path"), match.group("heading"))

    if PUBLIC_NAMES in markdown:
        markdown = markdown.replace(PUBLIC_NAMES, public_names())
    return INCLUDE.sub(include, markdown)


def on_post_page(output: str, page: Any, config: Any) -> str:
    if page.file.src_uri.endswith(".ipynb"):
        output, found = NOTEBOOK_SCRIPTS.subn("", output)
        if found != 1:
            raise ValueError(f"{page.file.src_uri}: the notebook template's scripts were not found")
    return output
