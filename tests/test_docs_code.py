"""The README's code and every page's code run, as a reader would run them.

Each page's blocks run in order in a fresh folder (tests/docs_blocks.py says how),
with this checkout's ``backprop`` and ``python`` on the PATH. A block that cannot
run here (it needs a cluster, the network, or runs this suite) carries a
``<!-- not run: REASON -->`` line, and is reported as skipped with that reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from docs_blocks import ROOT, Block, blocks, documents, write

RUNNER = Path(__file__).resolve().parent / "docs_blocks.py"
#: Pages whose code needs an extra that may be missing: page -> the modules it imports.
NEEDS = {
    "docs/guides/sklearn.md": ("sklearn", "scipy"),
    "docs/guides/beyond-sklearn.md": ("sklearn", "scipy"),
    "docs/guides/onnx-pytorch.md": ("onnx", "onnxruntime", "torch", "sklearn", "skl2onnx"),
    "docs/guides/sweeps.md": ("distributed", "threadpoolctl", "sklearn"),
    "docs/guides/data.md": ("sklearn",),
    "docs/learn/diagnostics.md": ("sklearn",),
    "docs/guides/notebook-widgets.md": ("anywidget", "pydantic", "starlette"),
}

ALL = {str(path.relative_to(ROOT)): blocks(path) for path in documents()}
PAGES = sorted(page for page, found in ALL.items() if any(b.language and not b.skip for b in found))
SKIPPED = [block for found in ALL.values() for block in found if block.skip]


def test_the_readme_and_the_guides_have_code_that_runs() -> None:
    assert "README.md" in PAGES
    for guide in ("sklearn", "onnx-pytorch", "sweeps", "larger-than-memory", "python-api"):
        assert f"docs/guides/{guide}.md" in PAGES, guide


@pytest.mark.parametrize("page", PAGES)
def test_the_code_of_a_page_runs(page: str, tmp_path: Path) -> None:
    for module in NEEDS.get(page, ()):
        pytest.importorskip(module, reason=f"{page} needs {module}")
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    for name, command in (("backprop", f'"{sys.executable}" -m backprop'),
                          ("python", f'"{sys.executable}"')):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        shim.chmod(0o755)
    env = dict(os.environ,
               PATH=os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                                     os.environ.get("PATH", "")]),
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
               MPLBACKEND="Agg", BACKPROP_REPOSITORY=str(ROOT))
    work = tmp_path / "work"  # laid out like a clone's root for the scripts a page names
    work.mkdir()
    for folder in ("examples", "bench"):
        (work / folder).symlink_to(ROOT / folder)
    blocks_file = tmp_path / "blocks.json"
    write([block for block in ALL[page] if not block.skip], blocks_file)
    runner = subprocess.Popen([sys.executable, str(RUNNER), str(blocks_file)], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)  # its group: whatever a block left running
    try:
        out, err = runner.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(runner.pid, signal.SIGKILL)
        runner.wait()
    assert runner.returncode == 0, f"{page}:\n{out[-3000:]}\n{err[-5000:]}"


@pytest.mark.parametrize("block", SKIPPED, ids=[block.where for block in SKIPPED])
def test_a_block_that_is_not_run_says_why(block: Block) -> None:
    assert len(block.skip or "") > 20, f"{block.where}: give the reason it is not run"
    pytest.skip(f"{block.where} is not run: {block.skip}")
