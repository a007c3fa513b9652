"""``backprop bench``: run the source tree's benchmark suite (bench/) against its peers."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backprop.cli.option_kinds import texts
from backprop.cli.options import Options, add_command, argument
from backprop.errors import DataError, OptionError


def _suite_root() -> Path:
    """The clone that holds bench/ beside src/ (an editable install or a run from the clone)."""
    for candidate in (Path(__file__).resolve().parents[3], Path.cwd()):
        if (candidate / "bench" / "run.py").is_file():
            return candidate
    raise DataError(
        "the benchmark suite lives in bench/ of the source repository: run `backprop bench` "
        "from a clone (or an editable install of one)"
    )


def _check_options(root: Path, options: list[str]) -> None:
    """Parse ``options`` with bench/run.py's own parser first, so a bad one is one line
    (OptionError) instead of the suite's whole usage text."""
    if any(option in ("-h", "--help") for option in options):
        return  # the suite prints its help itself
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    parse_args = importlib.import_module("bench.run").parse_args  # the suite's own parser
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            parse_args(options)
    except SystemExit as exit_:
        if exit_.code in (0, None):
            return
        lines = errors.getvalue().strip().splitlines()
        reason = lines[-1].split("error: ", 1)[-1] if lines else "bad options"
        raise OptionError(f"bench: {reason} (see backprop bench --help)") from None


@dataclass(frozen=True, kw_only=True)
class BenchOptions(Options):
    bench_args: list[str] = argument("options for bench/run.py", texts, [], rest=True)


def run(o: BenchOptions) -> int:
    root = _suite_root()
    _check_options(root, o.bench_args)
    command = [sys.executable, str(root / "bench" / "run.py"), *o.bench_args]
    return subprocess.call(command, cwd=root)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    return add_command(
        commands, "bench", BenchOptions, run,
        help="benchmark against PyTorch and scikit-learn (bench/run.py --help for options)",
        description="Run bench/run.py with the given options, e.g. --quick --data synthetic.",
    )
