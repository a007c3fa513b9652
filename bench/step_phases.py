"""Where a training step's time goes, beside the time its matrix products alone take.

    python bench/step_phases.py [--only headline,width-1024] [--rounds 5] [--steps 200]
                                [--numpy | --gather] [--two-blas-threads]

For each workload, the engine's training step (compiled path; ``--numpy``: NumPy's passes)
on random MNIST-sized data, cut into its phases: the batch gather, the forward pass, the
loss and backward pass, and the update (θ ← θ − Δθ with its finiteness check), each step
through the public calls (:func:`step_phases`). Then the step's
matrix products alone, on arrays of the same shapes, in two layouts:

- the engine's, rows are samples: Z = A Wᵀ, ∂L/∂W = Δᵀ A, ∂L/∂A_prev = Δ W;
- columns are samples (the textbook's a^[l] as a column per sample) from the second layer
  on (the batch itself arrives as rows): Zᵀ = W Aᵀ, ∂L/∂W = Δᵀ A read from the stored Δᵀ
  and Aᵀ, ∂L/∂A_prevᵀ = Wᵀ Δᵀ.

All under the engine's BLAS thread policy (``Network.training_threads``), in turns round
after round (the steps, then each layout's products), so drift in the machine's speed falls
on all alike. The table gives median milliseconds per step, and what is left of the step
beside the products (step − products, engine layout): the time the elementwise work,
the update and Python take, which no faster product can remove.

``--two-blas-threads``: BLAS on two threads at any size, where the policy holds small
steps (batch 32, batch 1, width 64) to one; what the second thread gives and costs each
phase there.

``--gather`` measures instead the batch gather alone: the engine's ``np.take`` into a
buffer against the same copy as a compiled loop (numba), in turns.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/step_phases.py
    sys.path.insert(0, str(_ROOT))
    sys.path.insert(0, str(_ROOT / "src"))

import backprop  # noqa: E402,F401  (before NumPy: the engine's BLAS kernels)

# isort: split
import numpy as np  # noqa: E402

from bench.machine import blas_policy_off  # noqa: E402
from bench.systems.backprop_system import network_and_optimizer  # noqa: E402
from bench.workloads import Workload, named  # noqa: E402

PHASES = ("gather", "forward", "loss+backward", "update")
DEFAULT = ("headline", "mlp-512-256", "batch-32", "width-1024", "width-4096", "depth-4")
N_ROWS = 60_000


def random_data(workload: Workload, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """N_ROWS inputs in [0, 1) and targets the workload's loss takes."""
    dtype = np.dtype(workload.dtype)
    X = rng.random((N_ROWS, workload.sizes[0]), dtype=np.float32).astype(dtype, copy=False)
    n_out = workload.sizes[-1]
    if workload.loss == "cross_entropy":
        Y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, N_ROWS)]
    elif workload.loss == "binary_cross_entropy":
        Y = (rng.random((N_ROWS, n_out)) < 0.5).astype(dtype)
    else:
        Y = rng.standard_normal((N_ROWS, n_out)).astype(dtype)
    return X, Y


def step_phases(net: Any, optimizer: Any, X: np.ndarray, Y: np.ndarray, m: int,
                steps: int, rng: np.random.Generator) -> dict[str, list[float]]:
    """Seconds of each phase of ``steps`` training steps on batches of m random rows.

    Through the public calls: each step gathers its batch, runs ``forward_batch`` once
    on its own (the forward pass's time), then ``backprop`` (the forward pass again, the
    loss and the backward pass: loss+backward is its time less the forward pass's) and
    ``apply_update``. The step is the gather, ``backprop`` and the update."""
    from backprop.training.batching import Batches
    from backprop.training.fit import apply_update

    times: dict[str, list[float]] = {phase: [] for phase in (*PHASES, "step")}
    batches = Batches(X, Y, m, shuffle=True)  # the engine's gather, into its buffers
    for _ in range(steps):
        rows = rng.integers(0, len(X), m)
        t0 = time.perf_counter()
        X_batch, Y_batch = batches.gather(rows)
        t1 = time.perf_counter()
        net.forward_batch(X_batch, training=True)
        t2 = time.perf_counter()
        net.backprop(X_batch, Y_batch)
        t3 = time.perf_counter()
        apply_update(net, optimizer, 0, 0)
        t4 = time.perf_counter()
        gather, forward, both_passes, update = t1 - t0, t2 - t1, t3 - t2, t4 - t3
        for phase, seconds in zip((*PHASES, "step"), (
                gather, forward, both_passes - forward, update, gather + both_passes + update),
                strict=True):
            times[phase].append(seconds)
    return times


def take_rows(source: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """The X half of the engine's batch gather (``Batches.gather``), for the comparison
    with a compiled one: the rows by index into a buffer, NumPy writing straight into it
    (mode="clip": the indices are in range)."""
    np.take(source, rows, axis=0, out=out, mode="clip")


def compiled_take_rows() -> Callable[[np.ndarray, np.ndarray, np.ndarray], None]:
    """The same gather as one compiled loop (numba), a row at a time."""
    import numba

    @numba.njit(nogil=True)  # type: ignore[misc]
    def take(source: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
        for i in range(rows.shape[0]):
            row = rows[i]
            for j in range(source.shape[1]):  # (a slice assignment is twice as slow)
                out[i, j] = source[row, j]

    return take  # type: ignore[no-any-return]


def gathers(workload: Workload, rounds: int, steps: int) -> dict[str, float]:
    """Median µs of the engine's gather and of the compiled one, a batch of the workload's
    random rows each, in turns."""
    rng = np.random.default_rng(0)
    X, _ = random_data(workload, rng)
    out = np.empty((workload.batch_size, X.shape[1]), X.dtype)
    kinds = {"np.take": take_rows, "compiled": compiled_take_rows()}
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    for warm in (True, *(False,) * rounds):
        for name, take in kinds.items():
            for _ in range(steps):
                rows = rng.integers(0, len(X), workload.batch_size)
                start = time.perf_counter()
                take(X, rows, out)
                seconds = time.perf_counter() - start
                samples[name] += [] if warm else [seconds]
    return {name: 1e6 * statistics.median(seconds) for name, seconds in samples.items()}


class StepProducts:
    """The step's matrix products on random arrays of the step's shapes, in either layout.

    After :meth:`rows_are_samples`, Z, G (∂L/∂W) and GA (∂L/∂A_prev) hold the products;
    after :meth:`columns_are_samples`, Zt, Gt and GAt hold the same numbers, Z and GA
    transposed.
    """

    def __init__(self, sizes: tuple[int, ...], m: int, dtype: np.dtype[Any],
                 rng: np.random.Generator) -> None:
        widths = list(itertools.pairwise(sizes))
        self.layers = range(len(widths))
        self.W = [rng.standard_normal((n_out, n_in)).astype(dtype) for n_in, n_out in widths]
        self.A = [rng.random((m, n_in)).astype(dtype) for n_in, _ in widths]  # each input
        self.D = [rng.standard_normal((m, n_out)).astype(dtype) for _, n_out in widths]  # Δ
        # columns are samples from the second layer on: the batch itself arrives as rows
        self.At = [self.A[0].T] + [np.ascontiguousarray(a.T) for a in self.A[1:]]
        self.Dt = [np.ascontiguousarray(d.T) for d in self.D]
        self.Z = [np.empty((m, n_out), dtype) for _, n_out in widths]
        self.Zt = [np.empty((n_out, m), dtype) for _, n_out in widths]
        self.G = [np.empty_like(w) for w in self.W]
        self.Gt = [np.empty_like(w) for w in self.W]
        self.GA = [np.empty((m, n_in), dtype) for n_in, _ in widths]
        self.GAt = [np.empty((n_in, m), dtype) for n_in, _ in widths]

    def rows_are_samples(self) -> None:
        for i in self.layers:
            np.matmul(self.A[i], self.W[i].T, out=self.Z[i])           # Z = A_prev Wᵀ
        for i in reversed(self.layers):
            np.matmul(self.D[i].T, self.A[i], out=self.G[i])           # ∂L/∂W = Δᵀ A_prev
            if i > 0:
                np.matmul(self.D[i], self.W[i], out=self.GA[i])        # ∂L/∂A_prev = Δ W

    def columns_are_samples(self) -> None:
        for i in self.layers:
            np.matmul(self.W[i], self.At[i], out=self.Zt[i])           # Zᵀ = W A_prevᵀ
        for i in reversed(self.layers):
            np.matmul(self.Dt[i], self.At[i].T, out=self.Gt[i])        # ∂L/∂W = Δᵀ A_prev
            if i > 0:
                np.matmul(self.W[i].T, self.Dt[i], out=self.GAt[i])    # ∂L/∂A_prevᵀ = Wᵀ Δᵀ

    def loops(self) -> dict[str, Callable[[], None]]:
        return {"rows are samples": self.rows_are_samples,
                "columns are samples": self.columns_are_samples}


def timed(function: Callable[[], None], steps: int) -> list[float]:
    """Seconds of each of ``steps`` calls."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def blas_threads() -> int | None:
    """The threads OpenBLAS runs on now (NumPy's and SciPy's, which the engine's policy
    limits; another process-wide BLAS, as PyTorch's MKL, is not NumPy's), or any BLAS's
    where there is no OpenBLAS; None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    openblas = [pool for pool in pools if pool.get("internal_api") == "openblas"]
    return max((pool["num_threads"] for pool in openblas or pools), default=None)


def measure(workload: Workload, rounds: int, steps: int, compiled: bool) -> dict[str, float]:
    """Median ms per step of each phase, the step, and the products in each layout; and
    the BLAS threads they ran on ("BLAS threads", NaN where threadpoolctl cannot say)."""
    rng = np.random.default_rng(0)
    net, optimizer = network_and_optimizer(workload)
    net.compiled = compiled
    X, Y = random_data(workload, rng)
    m = workload.batch_size
    if compiled:
        net.prepare_compiled()
    products = StepProducts(workload.sizes, m, np.dtype(workload.dtype), rng).loops()
    samples: dict[str, list[float]] = {name: [] for name in (*PHASES, "step", *products)}
    with net.training_threads(m):
        threads = blas_threads()
        for warm in (True, *(False,) * rounds):  # a first round to warm buffers and state
            phases = step_phases(net, optimizer, X, Y, m, steps, rng)
            for name, loop in products.items():
                phases[name] = timed(loop, steps)
            for name, seconds in phases.items():
                samples[name] += [] if warm else seconds
    medians = {name: 1e3 * statistics.median(seconds) for name, seconds in samples.items()}
    return {**medians, "BLAS threads": float("nan") if threads is None else threads}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(DEFAULT),
                        help="comma-separated workloads (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200, help="steps per loop per round")
    parser.add_argument("--numpy", action="store_true", help="NumPy's passes, not compiled")
    parser.add_argument("--two-blas-threads", action="store_true",
                        help="BLAS on two threads at any size (the policy's small steps too)")
    parser.add_argument("--gather", action="store_true",
                        help="instead: the engine's batch gather against a compiled one")
    args = parser.parse_args(argv)
    workloads = named(parser, args.only)
    if args.gather:
        print(f"Median µs per batch gathered, {args.rounds} rounds of {args.steps} in turns.\n")
        print("| workload | batch × features | np.take µs | compiled µs | compiled ÷ np.take |")
        print("|---|---|---|---|---|")
        for workload in workloads:
            us = gathers(workload, args.rounds, args.steps)
            print(f"| `{workload.name}` | {workload.batch_size} × {workload.sizes[0]} "
                  f"| {us['np.take']:.1f} | {us['compiled']:.1f} "
                  f"| {us['compiled'] / us['np.take']:.2f} |", flush=True)
        return 0
    with blas_policy_off() if args.two_blas_threads else contextlib.nullcontext():
        return phases_table(workloads, args.rounds, args.steps, args.numpy,
                            args.two_blas_threads)


def phases_table(workloads: list[Workload], rounds: int, steps: int, numpy_passes: bool,
                 two_blas_threads: bool) -> int:
    """The table of each workload's phases, printed."""
    path = "NumPy's passes" if numpy_passes else "the compiled path"
    blas = "two BLAS threads at any size" if two_blas_threads else "the BLAS thread policy"
    print(f"Median ms per step, {path}, {blas}, {rounds} rounds of {steps} steps in turns.\n")
    print("| workload | batch | gather | forward | loss+backward | update | step "
          "| products, rows are samples | products, columns are samples "
          "| step − products | columns ÷ rows | BLAS threads |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for workload in workloads:
        ms = measure(workload, rounds, steps, compiled=not numpy_passes)
        rows, columns = ms["rows are samples"], ms["columns are samples"]
        cells = [f"{ms[key]:.3f}" for key in (*PHASES, "step")]
        print(f"| `{workload.name}` | {workload.batch_size} | {' | '.join(cells)} | {rows:.3f} "
              f"| {columns:.3f} | {ms['step'] - rows:.3f} | {columns / rows:.2f} "
              f"| {ms['BLAS threads']:g} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
