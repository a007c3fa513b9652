"""Starting a benchmark subprocess (``python -m bench.child``): its environment, its
command line, reading its result; and one subprocess run start to finish."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.child import THREAD_VARS

#: The repository root: bench/ and src/ lie in it.
ROOT = Path(__file__).resolve().parent.parent


def child_env(threads: int) -> dict[str, str]:
    """Environment for a child: thread counts fixed, backprop and bench importable, and
    OpenBLAS's kernels left to each child where backprop chose them here (the ``backprop
    bench`` command): a backprop child chooses them again, a peer keeps OpenBLAS's own."""
    env = dict(os.environ)
    kernels = sys.modules.get("backprop.blas_kernels")  # loaded where backprop was imported
    if kernels is not None and kernels.chosen is not None:  # set by backprop, not by the user
        env.pop(kernels.CORETYPE_VARIABLE, None)
    for var in THREAD_VARS:
        env[var] = str(threads)
    paths = [str(ROOT / "src"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def child_command(system: str, threads: int, spec_path: Path, out_path: Path) -> list[str]:
    """The command line of the child that runs ``system`` on the workload in ``spec_path``."""
    return [
        *(sys.executable, "-m", "bench.child", "--system", system, "--threads", str(threads)),
        *("--spec", str(spec_path), "--out", str(out_path)),
    ]


def child_result(system: str, out_path: Path, output_tail: str, returncode: int) -> dict[str, Any]:
    """The child's JSON result, or an error naming how it ended."""
    if not out_path.exists():
        tail = output_tail.strip().splitlines()[-5:]
        return {
            "system": system,
            "status": "error",
            "reason": f"child exited {returncode} without a result: {' | '.join(tail)}",
        }
    result: dict[str, Any] = json.loads(out_path.read_text())
    return result


def run_child(
    system: str, spec: dict[str, Any], threads: int, timeout: float | None
) -> dict[str, Any]:
    """Run ``python -m bench.child`` for one system and return its JSON result."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec))
        cmd = child_command(system, threads, spec_path, out_path)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd,
                cwd=ROOT,
                env=child_env(threads),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"system": system, "status": "error", "reason": f"timed out after {timeout} s"}
        wall = time.perf_counter() - t0
        result = child_result(system, out_path, proc.stderr or proc.stdout or "", proc.returncode)
    result["wall_s"] = wall
    return result
