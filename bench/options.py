"""The benchmark's command line: ``python -m bench.run``'s options, checked."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.launch import ROOT
from bench.systems import LEVERS, SYSTEMS, levers_of

DEFAULT_OUT = ROOT / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        prog="backprop bench",
        description="Benchmark backprop against PyTorch (CPU) and scikit-learn.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="reduced set, under two minutes")
    mode.add_argument("--smoke", action="store_true", help="tiny synthetic jobs (for tests)")
    p.add_argument("--only", help="comma-separated workload names (see --list)")
    p.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma-separated subset of {','.join(SYSTEMS)} (default: all)",
    )
    p.add_argument("--epochs", type=int, help="epochs per workload (overrides each default)")
    p.add_argument("--threads", type=int, default=2, help="threads for every system (default 2)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    p.add_argument("--data", choices=("mnist", "synthetic"), default="mnist")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds a subprocess may take (with turns: for its setup or for one turn)",
    )
    p.add_argument(
        "--sequential",
        action="store_true",
        help="run the systems one after another instead of taking turns epoch by epoch",
    )
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument(
        "--render",
        type=Path,
        metavar="BENCH_JSON",
        help="write bench.md and bench.png again from a finished run's bench.json and exit",
    )
    args = p.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        p.error("--epochs must be at least 1")
    if args.threads < 1:
        p.error("--threads must be at least 1")
    args.system_list = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in args.system_list if levers_of(s) is None]
    if unknown or not args.system_list:
        p.error(
            f"--systems: unknown {unknown}; choose from {','.join(SYSTEMS)}, or backprop "
            f"with levers, e.g. backprop+{'+'.join(LEVERS)}"
        )
    args.only_list = [s.strip() for s in args.only.split(",")] if args.only else None
    return args
