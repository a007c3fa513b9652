"""Per-epoch progress of a training run: a bar, a line or a JSON object per epoch."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from backprop.training.callbacks import Callback, TrainingState


class Progress(Callback):
    """Per-epoch progress: a rich bar on a terminal, else a plain line per epoch;
    optionally one JSON object per epoch on stdout."""

    def __init__(self, *, quiet: bool, json_lines: bool) -> None:
        self.quiet = quiet
        self.json_lines = json_lines
        self.rows: list[dict[str, float]] = []
        self._bar: Any = None
        self._task: Any = None
        self._seen = 0
        self._loss_sum = 0.0
        self._start = 0.0
        self.train_start = 0.0
        self.samples = 0
        if not quiet and not json_lines and sys.stderr.isatty():
            try:
                import rich.progress as rp

                self._bar = rp.Progress(
                    rp.TextColumn("{task.description}"),
                    rp.BarColumn(),
                    rp.MofNCompleteColumn(),
                    rp.TextColumn("{task.fields[stats]}"),
                    rp.TimeRemainingColumn(),
                    transient=False,
                )
            except ImportError:
                self._bar = None

    def on_train_begin(self, state: TrainingState) -> None:
        self.train_start = time.perf_counter()
        if self._bar is not None:
            self._bar.start()

    def on_epoch_begin(self, state: TrainingState) -> None:
        self._seen = 0
        self._loss_sum = 0.0
        self._start = time.perf_counter()
        if self._bar is not None:
            total = state.n_samples
            self._task = self._bar.add_task(
                f"epoch {state.epoch}/{state.epochs}", total=total, stats=""
            )

    def on_batch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        size = int(logs.get("batch_size", state.batch_size))
        self._seen += size
        self._loss_sum += float(logs.get("loss", 0.0)) * size
        if self._bar is not None and self._task is not None:
            rate = self._seen / max(time.perf_counter() - self._start, 1e-9)
            self._bar.update(
                self._task, completed=self._seen,
                stats=f"loss {self._loss_sum / self._seen:.4f}  {rate:,.0f} samples/s",
            )

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        seconds = time.perf_counter() - self._start
        self.samples += self._seen
        row = {"epoch": state.epoch, **{k: float(v) for k, v in logs.items()},
               "lr": float(state.optimizer.lr), "seconds": seconds,
               "samples_per_s": self._seen / max(seconds, 1e-9)}
        self.rows.append(row)
        if self.json_lines:
            print(json.dumps(row), flush=True)
            return
        text = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k not in ("lr", "time"))
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=state.n_samples,
                             stats=f"{text}  {row['samples_per_s']:,.0f} samples/s")
        elif not self.quiet:
            print(f"epoch {state.epoch}/{state.epochs}  {text}  "
                  f"{row['samples_per_s']:,.0f} samples/s  {seconds:.1f}s", flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
