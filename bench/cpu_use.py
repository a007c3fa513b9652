"""How many cores a system uses while it trains: each epoch's wall time beside its process's
CPU time, the systems in alternating processes.

    python bench/cpu_use.py [--only batch-32] [--systems jax,backprop+compiled]
                            [--epochs 3] [--turns 2] [--two-blas-threads]
                            [--source mnist]

For each turn, each system trains the workload (the benchmark's trainer, on MNIST, two
threads as in the full run) in a fresh process: one epoch to warm up, then ``--epochs``
timed epochs, each with the CPU time its process spent (all its threads: a thread that
spins waiting counts). CPU ÷ wall is the cores it kept busy. With ``--two-blas-threads``
the backprop systems train with BLAS on two threads whatever the size of their products
(the engine's thread policy runs small products on one), to see what the second thread
gives at that workload.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/cpu_use.py
    sys.path.insert(0, str(_ROOT))
    sys.path.insert(0, str(_ROOT / "src"))

THREADS = 2


def child(system: str, workload: str, epochs: int, two_blas_threads: bool,
          source: str) -> dict[str, Any]:
    """Each timed epoch's wall and CPU seconds, for ``system`` in this fresh process."""
    from bench.child import prepare_process

    prepare_process(system, THREADS)  # before NumPy, as the benchmark's children do
    from bench.machine import blas_policy_off

    lifted = two_blas_threads and system.split("+")[0] == "backprop"
    with blas_policy_off() if lifted else contextlib.nullcontext():
        return timed_epochs(system, workload, epochs, source)


def timed_epochs(system: str, workload: str, epochs: int, source: str) -> dict[str, Any]:
    """Each timed epoch's wall and CPU seconds, after an epoch to warm up."""
    from bench import data, systems
    from bench.workloads import by_name

    chosen = by_name()[workload]
    module, options = systems.load(system)
    why = module.problem()
    if why is not None:
        return {"unavailable": why}
    dataset = data.load(chosen, source)
    trainer = module.make_trainer(chosen, dataset, THREADS, **options)
    rows = len(dataset.X_train)
    trainer.train_epoch(0, rows)  # warm: compilation, buffers, threads
    wall, cpu = [], []
    for _ in range(epochs):
        before, started = os.times(), time.perf_counter()
        trainer.train_epoch(0, rows)
        after = os.times()
        wall.append(time.perf_counter() - started)
        cpu.append(after.user + after.system - before.user - before.system)
    return {"wall": wall, "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="batch-32", help="one workload (default: %(default)s)")
    parser.add_argument("--systems", default="jax,backprop+compiled",
                        help="comma-separated systems (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per process")
    parser.add_argument("--turns", type=int, default=2, help="processes of each system")
    parser.add_argument("--two-blas-threads", action="store_true",
                        help="the backprop systems with BLAS on two threads at any size")
    parser.add_argument("--source", default="mnist", choices=("mnist", "synthetic"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.only, args.epochs, args.two_blas_threads,
                               args.source)))
        return 0
    from bench.workloads import by_name

    if args.only not in by_name():
        parser.error(f"unknown workload {args.only!r}; one of {', '.join(by_name())}")
    chosen = args.systems.split(",")
    runs: dict[str, list[dict[str, Any]]] = {system: [] for system in chosen}
    for _ in range(args.turns):
        for system in chosen:
            command = [sys.executable, str(Path(__file__).resolve()), "--child", system,
                       "--only", args.only, "--epochs", str(args.epochs), "--source", args.source]
            if args.two_blas_threads:
                command.append("--two-blas-threads")
            finished = subprocess.run(command, capture_output=True, text=True, check=True)
            runs[system].append(json.loads(finished.stdout.splitlines()[-1]))
    blas = "two BLAS threads at any size" if args.two_blas_threads else "the engine's policy"
    print(f"`{args.only}`, {args.turns} processes of each system in turns, {args.epochs} "
          f"timed epochs each, {THREADS} threads; backprop: {blas}.\n")
    print("| system | median wall s/epoch | median CPU s/epoch | cores busy (CPU ÷ wall) "
          "| every epoch, wall s |")
    print("|---|---|---|---|---|")
    for system, done in runs.items():
        if any("unavailable" in run for run in done):
            print(f"| {system} | unavailable | | | |")
            continue
        wall = [seconds for run in done for seconds in run["wall"]]
        cpu = [seconds for run in done for seconds in run["cpu"]]
        busy = statistics.median(c / w for c, w in zip(cpu, wall, strict=True))
        print(f"| {system} | {statistics.median(wall):.3f} | {statistics.median(cpu):.3f} "
              f"| {busy:.2f} | {' '.join(f'{seconds:.3f}' for seconds in wall)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
