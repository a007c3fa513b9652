"""BLAS on one thread or two, per network size: what the engine's thread policy rests on.

    python bench/threads.py [--rounds 5] [--busy 2] [--out FILE]

For each network, ``Network.fit`` trains on random data in three arrangements: OpenBLAS
held at one thread, at two (threadpoolctl; the engine's own policy switched off), and
at one with the batch cut in two halves on two threads (``BACKPROP_BATCH_THREADS=2``,
backprop.training.split), in turns round after round, so a machine whose speed drifts
slows all alike. The table gives the median milliseconds per step of each, the ratios
to one thread (below 1 the second core pays), the step's largest product in float64 multiply-adds
(:func:`backprop.blas_threads.product_work`) and what the policy picks: one thread
under ``ONE_THREAD_BELOW``, else BLAS's threads. ``--busy N`` runs the same beside N
processes that spin on a core each (other work on the machine).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent

#: (name, layer sizes, batch size, dtype, training rows)
NETWORKS = (
    ("digits-sized", (64, 100, 10), 200, "float64", 1_347),
    ("breast_cancer-sized", (30, 100, 1), 200, "float64", 426),
    ("regression 50 features", (50, 100, 1), 200, "float64", 15_000),
    ("50-128-128-1", (50, 128, 128, 1), 200, "float64", 6_000),
    ("width-64", (784, 64, 10), 128, "float32", 6_000),
    ("batch-32", (784, 256, 10), 32, "float32", 3_000),
    ("headline", (784, 256, 10), 128, "float32", 6_000),
    ("float64", (784, 256, 10), 128, "float64", 6_000),
    ("50-512-512-1", (50, 512, 512, 1), 200, "float64", 4_000),
    ("width-1024", (784, 1024, 10), 128, "float32", 3_000),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="turns of each thread count")
    parser.add_argument("--busy", type=int, default=0, help="spinning processes beside the run")
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    parser.add_argument("--tiny", action="store_true", help="one round, small data (a check)")
    return parser.parse_args(argv)


#: arrangement: (BLAS threads, batch threads)
ARRANGEMENTS = {"1 thread": (1, 1), "2 threads": (2, 1), "halves": (1, 2)}


def step_seconds(sizes: tuple[int, ...], batch: int, dtype: str, rows: int,
                 arrangement: str) -> float:
    """Seconds per step of one epoch of ``Network.fit`` in ``arrangement``."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    import backprop as bp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, sizes[0]))
    y = rng.integers(0, sizes[-1], rows) if sizes[-1] > 1 else rng.normal(size=rows)
    hidden = [bp.Dense(n_in, n_out, activation="relu")
              for n_in, n_out in itertools.pairwise(sizes[:-1])]
    output = bp.Dense(sizes[-2], sizes[-1], activation="softmax" if sizes[-1] > 1 else "linear")
    net = bp.Network([*hidden, output], loss="cross_entropy" if sizes[-1] > 1 else "mse",
                     dtype=dtype, seed=0)
    threads, halves = ARRANGEMENTS[arrangement]
    os.environ["BACKPROP_BATCH_THREADS"] = str(halves)
    with threadpool_limits(limits=threads, user_api="blas"):
        started = time.perf_counter()
        net.fit(X, y, epochs=1, batch_size=batch, optimizer=bp.Adam(1e-3))
        seconds = time.perf_counter() - started
    return seconds / -(-rows // batch)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "2"  # before NumPy loads its BLAS
    sys.path[:0] = [str(_ROOT / "src"), str(_ROOT)]
    import numpy as np

    from backprop import blas_threads
    from bench.machine import cpu_model, spinning

    policy_threshold = blas_threads.ONE_THREAD_BELOW
    blas_threads.ONE_THREAD_BELOW = 0  # the policy off: the thread counts are the bench's
    lines = [f"{time.strftime('%Y-%m-%d %H:%M')}, {cpu_model()}, {os.cpu_count()} cores, "
             f"{args.busy} spinning processes beside the run, load average "
             f"{os.getloadavg()[0]:.1f} at the start; {args.rounds} rounds.", "",
             "| network | batch | dtype | largest product (float64 MACs) | 1 thread ms/step "
             "| 2 threads ms/step | halves ms/step | 2 threads ÷ 1 | halves ÷ 1 | policy |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    rounds = 1 if args.tiny else args.rounds
    with spinning(args.busy):
        for name, sizes, batch, dtype, rows in NETWORKS:
            rows = min(rows, 2 * batch) if args.tiny else rows
            seconds: dict[str, list[float]] = {name: [] for name in ARRANGEMENTS}
            for turn in range(rounds):
                order = list(ARRANGEMENTS)[turn % 3:] + list(ARRANGEMENTS)[:turn % 3]
                for arrangement in order:
                    seconds[arrangement].append(
                        step_seconds(sizes, batch, dtype, rows, arrangement))
            one, two, halves = (statistics.median(seconds[name]) for name in ARRANGEMENTS)
            weights = max(a * b for a, b in itertools.pairwise(sizes))
            work = blas_threads.product_work(batch, weights, np.dtype(dtype).itemsize)
            policy = "1 thread" if work < policy_threshold else "BLAS's"
            row = (f"| {name} {'-'.join(map(str, sizes))} | {batch} | {dtype} | "
                   f"{work / 1e6:.1f} M | {one * 1e3:.3f} | {two * 1e3:.3f} | "
                   f"{halves * 1e3:.3f} | {two / one:.2f} | {halves / one:.2f} | {policy} |")
            lines.append(row)
            print(row, flush=True)
    lines.append(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}.")
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
