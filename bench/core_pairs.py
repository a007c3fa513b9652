"""Each core alone against both at once: where the machine's slow stretches come from.

    python bench/core_pairs.py [--seconds 150] [--rows 128 --inputs 784 --units 512]

Round after round, one process times the same float32 product (rows × inputs by inputs ×
units, the engine's forward product) five ways, a few hundred times each, on the first two
cores it may run on (core 0 and core 1 below):

- on one BLAS thread, pinned to the first core, then pinned to the second, each alone;
- on two BLAS threads (OpenBLAS cuts it in two and waits for both halves);
- on one BLAS thread in each of two Python threads at once, one pinned to each core, each
  with its own arrays (the cores busy together, with nothing shared between them);
- cut in two halves of its rows, each on one BLAS thread, the second half handed to a
  waiting helper thread (an event each way) while the calling thread computes the first:
  two threads that share only W, each packing its own copy of it;
- cut in two halves through its larger operand in one call of OpenBLAS's batched product,
  which runs one half on each of its two threads through its own spinning hand-over
  (:func:`bench.halves.halves_product`; "–" where NumPy's BLAS has no batched product).

Prints every round (microseconds per product), then the medians over the rounds in which
the two-thread product kept its usual gain and over those in which it lost it (took more
than ``--slow`` of the faster core's time alone). If the cores each alone keep their speed
in the slow rounds while the two cores at once slow down, the slowness comes from the two
cores running together, not from either one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/core_pairs.py
    sys.path.insert(0, str(_ROOT))

KINDS = ("core 0 alone", "core 1 alone", "two BLAS threads", "both cores at once",
         "halves on two threads", "halves in one BLAS call")


class Product:
    """Z = A W on arrays of its own, timed over ``repeats`` calls after a few to warm up."""

    def __init__(self, rows: int, inputs: int, units: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.A = rng.random((rows, inputs), dtype=np.float32)
        self.W = rng.random((inputs, units), dtype=np.float32)
        self.Z = np.empty((rows, units), np.float32)

    def microseconds(self, repeats: int, product: Callable[..., Any] = np.matmul) -> float:
        for _ in range(10):
            product(self.A, self.W, out=self.Z)
        start = time.perf_counter()
        for _ in range(repeats):
            product(self.A, self.W, out=self.Z)
        return (time.perf_counter() - start) / repeats * 1e6


class Helper:
    """A thread that waits for one product at a time (Z = A W into ``out``), and says when
    it is done."""

    def __init__(self) -> None:
        self.start, self.done = threading.Event(), threading.Event()
        self.job: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            self.start.wait()
            self.start.clear()
            assert self.job is not None
            A, W, out = self.job
            np.matmul(A, W, out=out)
            self.done.set()

    def halves(self, product: Product) -> None:
        """Z = A W with the second half of A's rows on the helper."""
        half = product.A.shape[0] // 2
        self.job = (product.A[half:], product.W, product.Z[half:])
        self.done.clear()
        self.start.set()
        np.matmul(product.A[:half], product.W, out=product.Z[:half])
        self.done.wait()

    def microseconds(self, product: Product, repeats: int) -> float:
        for _ in range(10):
            self.halves(product)
        start = time.perf_counter()
        for _ in range(repeats):
            self.halves(product)
        return (time.perf_counter() - start) / repeats * 1e6


def pinned(core: int) -> None:
    """Pin the calling thread (Linux: a thread's id names it to the scheduler) to ``core``."""
    os.sched_setaffinity(threading.get_native_id(), {core})


def one_round(products: tuple[Product, Product], helper: Helper, cores: tuple[int, int],
              repeats: int) -> dict[str, float]:
    """Microseconds per product of each kind, in :data:`KINDS`' order, on the two ``cores``
    (named core 0 and core 1 in the table)."""
    from threadpoolctl import threadpool_limits

    from bench.halves import batched_products, halves_product

    allowed = os.sched_getaffinity(0)
    times: dict[str, float] = {}
    with threadpool_limits(1, "blas"):
        for which, core in enumerate(cores):
            pinned(core)
            times[f"core {which} alone"] = products[0].microseconds(repeats)
        pinned_times: list[float] = [0.0, 0.0]

        def run(which: int) -> None:
            pinned(cores[which])
            pinned_times[which] = products[which].microseconds(repeats)

        other = threading.Thread(target=run, args=(1,))
        other.start()
        run(0)
        other.join()
        times["both cores at once"] = max(pinned_times)
        os.sched_setaffinity(threading.get_native_id(), allowed)
        times["halves on two threads"] = helper.microseconds(products[0], repeats)
    with threadpool_limits(2, "blas"):
        times["two BLAS threads"] = products[0].microseconds(repeats)
        if batched_products():
            times["halves in one BLAS call"] = products[0].microseconds(repeats, halves_product)
    return times


def is_slow(times: dict[str, float], threshold: float) -> bool:
    """Whether two BLAS threads took more than ``threshold`` of the faster core's time alone."""
    return times["two BLAS threads"] / fastest_alone(times) > threshold


def fastest_alone(times: dict[str, float]) -> float:
    return min(times["core 0 alone"], times["core 1 alone"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--inputs", type=int, default=784)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=200, help="products per timing")
    parser.add_argument("--slow", type=float, default=0.65,
                        help="a round is slow where two BLAS threads took more than this "
                             "fraction of the faster core's time alone (default: %(default)s)")
    args = parser.parse_args(argv)
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(allowed) < 2:
        parser.error("this measures two cores: it needs Linux and two cores to run on")
    cores = (allowed[0], allowed[1])
    products = (Product(args.rows, args.inputs, args.units, 0),
                Product(args.rows, args.inputs, args.units, 1))
    helper = Helper()
    print(f"µs per {args.rows} × {args.inputs} by {args.inputs} × {args.units} float32 product,"
          f" {args.repeats} per timing, rounds for {args.seconds:g} s.\n")
    print("| time | " + " | ".join(KINDS) + " | two threads ÷ faster core alone |")
    print("|---|" + "---|" * (len(KINDS) + 1))
    rounds: list[dict[str, float]] = []
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        times = one_round(products, helper, cores, args.repeats)
        rounds.append(times)
        gain = times["two BLAS threads"] / fastest_alone(times)
        print(f"| {time.strftime('%H:%M:%S')} | "
              + " | ".join(f"{times[kind]:.0f}" if kind in times else "–" for kind in KINDS)
              + f" | {gain:.2f} |",
              flush=True)
    print("\nMedians, µs per product:\n")
    print("| rounds | count | " + " | ".join(KINDS) + " |")
    print("|---|---|" + "---|" * len(KINDS))
    for name, slow in (("usual", False), ("slow", True)):
        chosen = [times for times in rounds if is_slow(times, args.slow) is slow]
        cells = [f"{statistics.median(t[kind] for t in chosen):.0f}"
                 if chosen and kind in chosen[0] else "–" for kind in KINDS]
        print(f"| {name} | {len(chosen)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
