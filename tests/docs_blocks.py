"""The code blocks of the README and of the site's pages, and how they are run.

A fenced block in ``python``, ``sh`` or ``bash`` runs; one whose fence has
``title="NAME"`` (any language) is written to the file NAME first, as a reader
would save it; the line ``<!-- not run: REASON -->`` just above a fence skips
that block, and the reason is reported. A page's blocks run in order in one
fresh folder: its Python blocks share one namespace, its shell blocks run with
``bash -euo pipefail`` and find ``backprop`` and ``python`` on the PATH.

Run as a script (``python docs_blocks.py BLOCKS.json``) it runs the blocks
written in that file, in the current folder, and exits non-zero at the first
failure, naming its page and line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`]*)$")
TITLE = re.compile(r'title="(?P<title>[^"]+)"')
NOT_RUN = re.compile(r"^\s*<!-- not run: (?P<reason>.+?) -->\s*$")
LANGUAGES = {"python": "python", "py": "python", "sh": "sh", "bash": "sh"}


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, what runs it, its code."""

    page: str
    line: int
    language: str  # "python", "sh", or "" for a block only written to a file
    code: str
    title: str | None = None
    skip: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def documents() -> list[Path]:
    """The README and every Markdown page of the site."""
    pages = sorted(p for p in (ROOT / "docs").rglob("*.md") if "hooks" not in p.parts)
    return [ROOT / "README.md", *pages]


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file that run or are written to a file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = str(path.relative_to(ROOT))
    found: list[Block] = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        indent, fence, info = match.group("indent"), match.group("fence"), match.group("info")
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index][len(indent):] if lines[index].startswith(indent) else
                        lines[index].lstrip())
            index += 1
        index += 1
        language = LANGUAGES.get(info.split()[0] if info.split() else "", "")
        title = TITLE.search(info)
        skipped = NOT_RUN.match(lines[start - 1]) if start > 0 else None
        if language or title:
            found.append(Block(page, start + 1, language, "\n".join(body) + "\n",
                               title.group("title") if title else None,
                               skipped.group("reason") if skipped else None))
    return found


def run(blocks_file: Path) -> int:
    """Run the blocks written in BLOCKS_FILE in order, here; 0 when every one passed."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    for data in json.loads(blocks_file.read_text(encoding="utf-8")):
        block = Block(**data)
        if block.title:
            Path(block.title).parent.mkdir(parents=True, exist_ok=True)
            Path(block.title).write_text(block.code, encoding="utf-8")
        if block.language == "python":
            try:
                exec(compile(block.code, block.where, "exec"), namespace)
            except BaseException:
                traceback.print_exc()
                print(f"the Python block at {block.where} failed", file=sys.stderr)
                return 1
        elif block.language == "sh":
            sys.stdout.flush()
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], check=False)
            if done.returncode != 0:
                print(f"the shell block at {block.where} exited with status {done.returncode}",
                      file=sys.stderr)
                return 1
    return 0


def write(blocks_to_run: list[Block], path: Path) -> None:
    path.write_text(json.dumps([asdict(block) for block in blocks_to_run]), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
