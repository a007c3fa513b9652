"""The timing loop every system goes through, and the statistics of its epoch times."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.data import Dataset
from bench.systems import Trainer
from bench.workloads import Workload


def epoch_rows(epoch: int, n: int, k: int) -> tuple[int, int]:
    """Rows start:stop of epoch ``epoch`` when an epoch is ``k`` of ``n`` samples.

    Fixed-size epochs (online learning) walk through the training set in
    consecutive blocks, starting over when a block would not fit.
    """
    if k >= n:
        return 0, n
    start = (epoch * k) % n
    if start + k > n:
        start = 0
    return start, start + k


def spread(times: list[float]) -> dict[str, float | int]:
    """Median, min, max, quartiles and count of ``times``."""
    if len(times) >= 2:
        q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    else:
        q1 = q3 = times[0]
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "q1": q1,
        "q3": q3,
        "n": len(times),
    }


def test_metrics(trainer: Trainer, workload: Workload, data: Dataset) -> dict[str, float]:
    """Test accuracy (classification) or test MSE and R² (regression)."""
    if workload.task == "regression":
        pred = trainer.predict(data.X_test).astype(np.float64).reshape(-1)
        y = data.y_test.astype(np.float64).reshape(-1)
        mse = float(np.mean((pred - y) ** 2))
        return {"mse": mse, "r2": 1.0 - mse / float(np.var(y))}
    own = trainer.accuracy(data.X_test, data.y_test)
    if own is not None:
        return {"accuracy": own}
    pred = trainer.predict(data.X_test).reshape(-1)
    return {"accuracy": float(np.mean(pred == data.y_test.reshape(-1)))}


def _no_turns() -> None:
    """Run straight on: the process has the machine to itself."""


def run(
    trainer: Trainer,
    workload: Workload,
    data: Dataset,
    target: float,
    infer_repeats: int,
    take_turn: Callable[[], None] = _no_turns,
) -> dict[str, Any]:
    """Train epoch by epoch (timed), test after each (untimed), then time inference.

    ``take_turn`` is called before every epoch and before the inference
    runs; it returns when this process may go on (see bench.turns.run_interleaved).
    The wall-clock span of each timed part is kept, so a test can see
    that no two systems' timed parts overlapped.
    """
    n = len(data.X_train)
    k = workload.epoch_samples or n
    times: list[float] = []
    spans: list[tuple[float, float]] = []
    per_epoch: list[dict[str, float]] = []
    elapsed, reached_epoch, reached_s = 0.0, None, None
    for epoch in range(workload.epochs):
        start, stop = epoch_rows(epoch, n, k)
        take_turn()
        began, t0 = time.time(), time.perf_counter()
        trainer.train_epoch(start, stop)
        dt = time.perf_counter() - t0
        spans.append((began, time.time()))
        times.append(dt)
        elapsed += dt
        m = test_metrics(trainer, workload, data)
        per_epoch.append(m)
        value = m[workload.metric]
        if reached_epoch is None and math.isfinite(value) and value >= target:
            reached_epoch, reached_s = epoch + 1, elapsed
    steady = times[1:] if len(times) > 1 else times
    stats = spread(steady)
    best_infer = math.inf
    take_turn()
    began = time.time()
    for _ in range(infer_repeats):
        t0 = time.perf_counter()
        trainer.predict(data.X_test)
        best_infer = min(best_infer, time.perf_counter() - t0)
    spans.append((began, time.time()))
    metrics = {name: [m[name] for m in per_epoch] for name in per_epoch[0]}
    return {
        "epoch_samples": k,
        "epoch_seconds": times,
        "first_epoch_s": times[0],
        "steady": stats,
        "steady_excludes_first": len(times) > 1,
        "samples_per_s": k / stats["median"],
        "metrics": metrics,
        "metric": workload.metric,
        "final_metric": per_epoch[-1][workload.metric],
        "target": target,
        "target_epoch": reached_epoch,
        "time_to_target_s": reached_s,
        "inference_s": best_infer,
        "inference_samples_per_s": len(data.X_test) / best_infer,
        "timed_spans": spans,
    }
