"""This machine's GEMM rate on a workload's own matrix shapes, and the FLOP-bound epoch time.

A training step on a batch of m samples needs, per layer l with W of shape
(n_out, n_in) (batch rows, so the equations appear transposed):

    forward   Z  = A_prev @ W.T     (m, n_in) x (n_in, n_out)
    backward  dW = Δ.T @ A_prev     (n_out, m) x (m, n_in)
    backward  dA = Δ @ W            (m, n_out) x (n_out, n_in)   all but the first layer

each 2·m·n·k FLOPs. Timing np.matmul on exactly these shapes gives the
time an epoch would take if it did nothing but its matrix products.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.workloads import Workload


@dataclass(frozen=True)
class Gemm:
    """One matrix product (m, k) x (k, n) of a training step."""

    name: str
    kind: str  # "forward", "dW" or "dA"
    m: int
    k: int
    n: int

    @property
    def flops(self) -> int:
        """2·m·n·k."""
        return 2 * self.m * self.n * self.k


def step_gemms(sizes: tuple[int, ...], batch: int) -> list[Gemm]:
    """The GEMMs of one training step on ``batch`` samples."""
    out: list[Gemm] = []
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
        out.append(Gemm(f"L{layer} Z=A@W.T", "forward", batch, n_in, n_out))
        out.append(Gemm(f"L{layer} dW=D.T@A", "dW", n_out, batch, n_in))
        if layer > 1:
            out.append(Gemm(f"L{layer} dA=D@W", "dA", batch, n_out, n_in))
    return out


def _operands(g: Gemm, dtype: np.dtype, rng: np.random.Generator) -> Callable[[], Any]:
    """A zero-argument call doing g with the operand layouts the engine uses."""
    if g.kind == "forward":  # A (m, n_in) @ W.T, W stored (n_out, n_in)
        a = rng.random((g.m, g.k), dtype=np.float32).astype(dtype)
        b = rng.random((g.n, g.k), dtype=np.float32).astype(dtype).T
    elif g.kind == "dW":  # Δ stored (m, n_out), used transposed
        a = rng.random((g.k, g.m), dtype=np.float32).astype(dtype).T
        b = rng.random((g.k, g.n), dtype=np.float32).astype(dtype)
    else:  # Δ (m, n_out) @ W (n_out, n_in)
        a = rng.random((g.m, g.k), dtype=np.float32).astype(dtype)
        b = rng.random((g.k, g.n), dtype=np.float32).astype(dtype)
    c = np.empty((g.m, g.n), dtype=dtype)
    return lambda: np.matmul(a, b, out=c)


def time_call(fn: Callable[[], Any], min_seconds: float, repeats: int) -> float:
    """Best per-call time of ``fn`` over ``repeats`` runs of at least ``min_seconds`` each."""
    fn()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_seconds:
            break
        calls *= 2 if dt <= 0 else max(2, min(100, int(min_seconds / dt) + 1))
    best = dt / calls
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def measure(workload: Workload, epoch_samples: int, quick: bool) -> dict[str, Any]:
    """Time each GEMM of a step and scale to one epoch of ``epoch_samples`` samples.

    The last, smaller batch of an epoch is counted by FLOPs at the full
    batch's rate.
    """
    dtype = np.dtype(workload.dtype)
    rng = np.random.default_rng(0)
    batch = workload.batch_size
    steps = epoch_samples / batch  # fractional: the remainder batch counts by FLOPs
    min_s, reps = (0.005, 3) if quick else (0.02, 5)
    rows, step_time, step_flops = [], 0.0, 0
    for g in step_gemms(workload.sizes, batch):
        seconds = time_call(_operands(g, dtype, rng), min_s, reps)
        rows.append(
            {
                "name": g.name,
                "kind": g.kind,
                "m": g.m,
                "k": g.k,
                "n": g.n,
                "flops": g.flops,
                "seconds": seconds,
                "gflops": g.flops / seconds / 1e9,
            }
        )
        step_time += seconds
        step_flops += g.flops
    return {
        "dtype": workload.dtype,
        "batch_size": batch,
        "gemms": rows,
        "step_flops": step_flops,
        "epoch_flops": step_flops * steps,
        "epoch_seconds": step_time * steps,
        "gflops": step_flops / step_time / 1e9,
    }


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of :func:`measure` (one per round of turns) as one result: the median
    FLOP-bound epoch time, the GEMM rows of the round nearest to it, and every round's time."""
    times = [r["epoch_seconds"] for r in rounds]
    median = statistics.median(times)
    nearest = min(rounds, key=lambda r: abs(r["epoch_seconds"] - median))
    return {
        **nearest,
        "epoch_seconds": median,
        "gflops": nearest["epoch_flops"] / median / 1e9,
        "rounds": times,
    }


def reference(n: int, quick: bool) -> dict[str, float]:
    """GFLOP/s of a square n x n x n np.matmul in float32 and float64."""
    rng = np.random.default_rng(0)
    out: dict[str, float] = {"n": n}
    for dt in ("float32", "float64"):
        a = rng.random((n, n)).astype(dt)
        b = rng.random((n, n)).astype(dt)
        c = np.empty((n, n), dtype=dt)
        seconds = time_call(lambda a=a, b=b, c=c: np.matmul(a, b, out=c), 0.05, 3 if quick else 5)
        out[dt] = 2 * n**3 / seconds / 1e9
    return out
