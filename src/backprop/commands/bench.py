"""``backprop bench``: run the source tree's benchmark suite (bench/) against its peers."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import DataError


def _suite_root() -> Path:
    """The clone that holds bench/ beside src/ (an editable install or a run from the clone)."""
    for candidate in (Path(__file__).resolve().parents[3], Path.cwd()):
        if (candidate / "bench" / "run.py").is_file():
            return candidate
    raise DataError(
        "the benchmark suite lives in bench/ of the source repository: run `backprop bench` "
        "from a clone (or an editable install of one)"
    )


def run(args: argparse.Namespace) -> int:
    root = _suite_root()
    command = [sys.executable, str(root / "bench" / "run.py"), *args.bench_args]
    return subprocess.call(command, cwd=root)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "bench",
        help="benchmark against PyTorch and scikit-learn (bench/run.py --help for options)",
        description="Run bench/run.py with the given options, e.g. --quick --data synthetic.",
    )
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="options for bench/run.py")
    parser.set_defaults(run=run)
