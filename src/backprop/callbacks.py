"""Callbacks that steer training: early stopping.

    stop = bp.EarlyStopping(patience=5, restore_best_weights=True)
    net.fit(X, y, epochs=200, validation_split=0.2, callbacks=[stop])
    stop.best_epoch, stop.stopped_epoch
"""

from __future__ import annotations

import math
from typing import Literal

from ._typing import Array
from .training import Callback, TrainingState
from .validation import check_non_negative_number

#: Metric names (after any "val_" prefix) where larger is better.
_MAXIMIZED = ("accuracy", "r2")


class EarlyStopping(Callback):
    """Stop training when a monitored metric has stopped improving.

    After every epoch the metric ``logs[monitor]`` counts as an improvement
    when it beats the best value so far by more than ``min_delta`` (smaller
    for mode "min", larger for "max"). After ``patience`` epochs in a row
    without one, training stops.

    Arguments:
        monitor: the key of the epoch logs to watch, e.g. "val_loss" (default),
            "val_accuracy", "loss".
        mode: "min", "max", or "auto" (default): "max" for names ending in
            accuracy or r2, "min" for everything else.
        patience: the number of epochs in a row without improvement after
            which training stops; 0 and 1 both stop at the first epoch that
            does not improve, as in Keras.
        min_delta: the smallest change that counts as an improvement (≥ 0).
        restore_best_weights: keep a copy of ``net.params`` at the best epoch
            and write it back when training ends (stopped early or not).

    Attributes (after fit):
        best: the best value of the monitored metric.
        best_epoch: the epoch (from 1) where it was reached.
        stopped_epoch: the epoch training stopped at, or 0 if it ran to the end.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: Literal["auto", "min", "max"] = "auto",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a metric name, got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, int):
            raise TypeError(f"patience must be an integer, got {patience!r}")
        if patience < 0:
            raise ValueError(f"patience must be ≥ 0, got {patience}")
        self.monitor = monitor
        if mode == "auto":
            mode = "max" if monitor.endswith(_MAXIMIZED) else "min"
        self.mode: Literal["min", "max"] = mode
        self.patience = patience
        self.min_delta = check_non_negative_number(min_delta, "min_delta")
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.wait = 0
        self.best_params: Array | None = None

    def _improves(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, state: TrainingState) -> None:
        self._reset()

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            hint = (
                " (give validation_data or validation_split to get val_ metrics)"
                if self.monitor.startswith("val_")
                else ""
            )
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which is not in the epoch logs; "
                f"available: {', '.join(logs)}{hint}"
            )
        value = float(logs[self.monitor])
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, state.epoch, 0
            if self.restore_best_weights:
                if self.best_params is None:
                    self.best_params = state.network.params.copy()
                else:
                    self.best_params[...] = state.network.params
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = state.epoch
            state.stop_training = True

    def on_train_end(self, state: TrainingState) -> None:
        if self.restore_best_weights and self.best_params is not None:
            state.network.params[...] = self.best_params  # in place: the layers' views follow

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, mode={self.mode!r}, "
            f"patience={self.patience}, min_delta={self.min_delta}, "
            f"restore_best_weights={self.restore_best_weights})"
        )
