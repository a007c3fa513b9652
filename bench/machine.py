"""Where and with what a run happened: the machine, the versions, the modules' import times."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.launch import ROOT, child_env


def cpu_model() -> str:
    """The processor's name (/proc/cpuinfo's model name where there is one)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


@contextlib.contextmanager
def spinning(processes: int) -> Iterator[None]:
    """``processes`` processes that keep a core busy each (other work on the machine), for
    as long as the block runs; each also stops by itself after an hour."""
    spin = "import time\nend = time.monotonic() + 3600\nwhile time.monotonic() < end:\n    pass\n"
    spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(processes)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


@contextlib.contextmanager
def blas_policy_off() -> Iterator[None]:
    """The engine's BLAS thread policy off while the block runs: no product counts as small,
    so BLAS keeps its threads at any size (the policy runs small steps on one)."""
    import backprop.blas_threads

    threshold = backprop.blas_threads.ONE_THREAD_BELOW
    backprop.blas_threads.ONE_THREAD_BELOW = 0
    try:
        yield
    finally:
        backprop.blas_threads.ONE_THREAD_BELOW = threshold


def machine_info(threads: int) -> dict[str, Any]:
    """Where and with what this run happened."""
    cpu = cpu_model()
    import numpy as np

    try:
        import backprop

        bp_version = getattr(backprop, "__version__", "?")
    except ImportError:
        bp_version = "not importable"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "backprop": bp_version,
    }


#: Modules whose import time the run reports (backprop's, and what its peers cost).
IMPORT_MODULES = ("numpy", "backprop", "torch", "sklearn.neural_network")
_IMPORT_PROBE = (
    "import sys, time; t = time.perf_counter(); __import__(sys.argv[1]); "
    "print(time.perf_counter() - t)"
)


def import_times(threads: int, repeats: int) -> dict[str, Any]:
    """Seconds to import each module in a fresh interpreter: min and median of ``repeats``.

    One unmeasured import goes first, and bytecode caching is allowed
    (PYTHONDONTWRITEBYTECODE is dropped), so the modules load from .pyc files
    as they do after an install.
    """
    env = child_env(threads)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out: dict[str, Any] = {}
    for module in IMPORT_MODULES:
        seconds: list[float] = []
        for _ in range(repeats + 1):
            done = subprocess.run(
                [sys.executable, "-c", _IMPORT_PROBE, module],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                out[module] = {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
                break
            seconds.append(float(done.stdout))
        else:
            timed = sorted(seconds[1:])
            out[module] = {"min": timed[0], "median": timed[len(timed) // 2]}
    return out
