"""Does an epoch run slower right after the process sat idle? Epochs after a sleep against
epochs straight after another, in turns in one process.

    python bench/idle_epochs.py [--only sgd] [--rounds 8] [--idle 1.5] [--numpy]

The benchmark's systems take turns, so each waits, idle, while the others train. Here
one process trains a workload (the benchmark's backprop system, on MNIST) round after
round: it sleeps ``--idle`` seconds, trains an epoch (after idle), then at once another
(busy). Prints every epoch's seconds and the medians of the two kinds; a machine whose
speed drifts slows both alike, since they alternate.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/idle_epochs.py
    sys.path.insert(0, str(_ROOT))
    sys.path.insert(0, str(_ROOT / "src"))

from bench.data import load  # noqa: E402
from bench.systems.backprop_system import make_trainer  # noqa: E402
from bench.workloads import by_name  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="sgd", help="one workload (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--idle", type=float, default=1.5, help="seconds asleep before an epoch")
    parser.add_argument("--numpy", action="store_true", help="NumPy's passes, not compiled")
    parser.add_argument("--source", default="mnist", choices=("mnist", "synthetic"))
    args = parser.parse_args(argv)
    workloads = by_name()
    if args.only not in workloads:
        parser.error(f"unknown workload {args.only!r}; one of {', '.join(workloads)}")
    workload = workloads[args.only]
    data = load(workload, args.source)
    trainer = make_trainer(workload, data, 2, () if args.numpy else ("compiled",))
    rows = len(data.X_train)
    trainer.train_epoch(0, rows)  # warm: buffers, the optimizer's state, BLAS's threads
    seconds: dict[str, list[float]] = {"after idle": [], "busy": []}
    for _ in range(args.rounds):
        time.sleep(args.idle)
        for kind in seconds:
            started = time.perf_counter()
            trainer.train_epoch(0, rows)
            seconds[kind].append(time.perf_counter() - started)
    path = "NumPy's passes" if args.numpy else "the compiled path"
    print(f"`{args.only}`, {path}, {args.rounds} rounds, {args.idle} s idle before each "
          "first epoch\n")
    print("| epoch | median s | every epoch, s |\n|---|---|---|")
    for kind, values in seconds.items():
        print(f"| {kind} | {statistics.median(values):.3f} "
              f"| {' '.join(f'{value:.3f}' for value in values)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
