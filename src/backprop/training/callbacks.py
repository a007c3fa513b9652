"""Callbacks: the hooks of the training loop, and those that record or steer it.

:class:`Callback` is the protocol (every hook does nothing by default) and
:class:`TrainingState` what a hook sees. :class:`History` records the epochs'
metrics (it is the first callback of every ``fit`` call); :class:`PrintProgress`
prints them; :class:`LossExplosion` stops a run whose loss grows without bound
(the last callback of every ``fit``). :class:`EarlyStopping`, :class:`TimeLimit`
and :class:`ModelCheckpoint` steer and save a run:

    stop = bp.EarlyStopping(patience=5, restore_best_weights=True)
    net.fit(X, y, epochs=200, validation_split=0.2, callbacks=[stop])
    stop.best_epoch, stop.stopped_epoch

    save = bp.ModelCheckpoint("run.npz", every=1)
    net.fit(X, y, epochs=200, optimizer=opt, callbacks=[save])
    # ... interrupted; later, the same call with resume_from continues it:
    net.fit(X, y, epochs=200, optimizer=opt, callbacks=[save], resume_from="run.npz")
"""

from __future__ import annotations

import math
import os
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from backprop._typing import Array
from backprop.errors import DivergenceError, OptionError, OptionTypeError
from backprop.validation import check_non_negative_number, check_positive_number

if TYPE_CHECKING:
    from backprop.network import Network
    from backprop.optim.rules import Optimizer

@dataclass
class TrainingState:
    """What callbacks see: the run in progress. Set ``stop_training`` to end it."""

    network: Network
    optimizer: Optimizer
    epochs: int
    batch_size: int
    n_samples: int
    history: History
    epoch: int = 0
    batch: int = 0
    stop_training: bool = False
    logs: dict[str, float] = field(default_factory=dict)


class Callback:
    """Hooks into the training loop; override any of them (all do nothing here).

    Epochs and batches are numbered from 1. ``logs`` holds the metrics so
    far: per batch "loss" (and "batch_size"); per epoch everything that goes
    into the history.
    """

    def on_train_begin(self, state: TrainingState) -> None: ...

    def on_epoch_begin(self, state: TrainingState) -> None: ...

    def on_batch_end(self, state: TrainingState, logs: dict[str, float]) -> None: ...

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None: ...

    def on_train_end(self, state: TrainingState) -> None: ...


class History(Callback):
    """Per-epoch metrics of a ``fit`` call: ``history["loss"]`` is a list, one value an epoch.

    Keys: "loss" (mean training loss over the epoch's batches, each measured
    before its update), "accuracy" when the targets are classes, "lr", and
    the same metrics of the validation data prefixed "val_".

    It is itself the first callback of every ``fit`` call: it records the
    logs at each epoch's end, before the other callbacks see them.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        self.append(state.epoch, logs)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def keys(self) -> list[str]:
        return list(self.history)

    def __len__(self) -> int:
        return len(self.epochs)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items()}
        return f"History(epochs={len(self)}, last={last})"


class PrintProgress(Callback):
    """One plain line per epoch (``fit(verbose=True)``)."""

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        metrics = "  ".join(f"{k}={v:.4g}" for k, v in logs.items())
        print(f"epoch {state.epoch}/{state.epochs}  {metrics}", flush=True)



#: Metric names (after any "val_" prefix) where larger is better.
class LossExplosion(Callback):
    """Stops a run whose epoch loss grows ``factor`` times over its start (the loss of the
    run's first batch, or 1e-3 when that is smaller): divergence that stays finite.

    Every ``fit`` runs ``LossExplosion()`` (factor 1000) after the other callbacks, unless
    its ``callbacks`` hold one already: ``LossExplosion(factor=1e6)`` is more patient,
    ``LossExplosion(factor=math.inf)`` never stops (non-finite losses still do). Put it
    last, so the others see the epoch it stops.
    """

    def __init__(self, factor: float = 1e3) -> None:
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            raise OptionTypeError(f"factor must be a number, got {factor!r}")
        if not factor > 1:  # NaN fails this too
            raise OptionError(f"factor must be a number > 1 (math.inf: never stop), got {factor!r}")
        self.factor = float(factor)
        self.start: float | None = None

    def on_train_begin(self, state: TrainingState) -> None:
        self.start = None

    def on_batch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        if self.start is None:
            self.start = max(float(logs["loss"]), 1e-3)

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        loss = float(logs.get("loss", math.nan))
        if self.start is not None and loss > self.factor * self.start:
            raise DivergenceError(
                f"training diverged at epoch {state.epoch}: the loss grew from "
                f"{self.start:.4g} to {loss:.4g}, over {self.factor:g} times its start; "
                f"try a smaller learning rate (now {state.optimizer.lr:g})"
            )


def fit_callbacks(history: History, callbacks: object, verbose: bool) -> list[Callback]:
    """The callbacks of one ``fit``: History, the user's ``callbacks`` (each refused, naming
    its position, unless it has every hook of :class:`Callback`), PrintProgress when
    ``verbose``, and last LossExplosion (unless ``callbacks`` hold one), so the others
    see the epoch it stops."""
    if isinstance(callbacks, Callback) or not isinstance(callbacks, list | tuple):
        raise OptionTypeError(f"callbacks must be a list of Callback objects, got {callbacks!r}")
    for i, callback in enumerate(callbacks):
        missing = missing_hooks(callback)
        if missing:
            raise OptionTypeError(
                f"callbacks[{i}] is {callback!r}, not a Callback (it has no {missing[0]})"
            )
    own_guard = any(isinstance(callback, LossExplosion) for callback in callbacks)
    guard = [] if own_guard else [LossExplosion()]
    return [history, *callbacks, *([PrintProgress()] if verbose else []), *guard]


def missing_hooks(callback: object) -> list[str]:
    """The hooks of :class:`Callback` that ``callback`` lacks (none: it is a callback)."""
    hooks = [name for name in vars(Callback) if name.startswith("on_")]
    return [hook for hook in hooks if not callable(getattr(callback, hook, None))]


class TimeLimit(Callback):
    """Stop training once ``seconds`` of wall-clock time have passed since it began.

    The clock is read after every batch, so a run stops within one batch of the
    limit; the epoch it stops in ends there (its logs cover the batches done),
    as any callback's stop does. ``clock`` is the time source in seconds
    (``time.monotonic`` by default).

    Attributes (after fit):
        stopped_epoch: the epoch training stopped at, or 0 if it ran to the end.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = check_positive_number(seconds, "seconds")
        if not callable(clock):
            raise OptionTypeError(f"clock must be a function giving seconds, got {clock!r}")
        self.clock = clock
        self.started = 0.0
        self.stopped_epoch = 0

    def on_train_begin(self, state: TrainingState) -> None:
        self.started = self.clock()
        self.stopped_epoch = 0

    def on_batch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        if not state.stop_training and self.clock() - self.started >= self.seconds:
            self.stopped_epoch = state.epoch
            state.stop_training = True

    def __repr__(self) -> str:
        return f"TimeLimit(seconds={self.seconds:g})"


#: Metrics that get better as they grow: a monitored name ending in one of these is maximized.
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
            raise OptionTypeError(f"monitor must be a metric name, got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise OptionError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, int):
            raise OptionTypeError(f"patience must be an integer, got {patience!r}")
        if patience < 0:
            raise OptionError(f"patience must be ≥ 0, got {patience}")
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
            raise OptionError(
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


class ModelCheckpoint(Callback):
    """Save a checkpoint during training: every N epochs, or when a metric improves.

    A checkpoint is a model file (``bp.load(path)`` reads it as a plain
    model) that also holds what ``fit(resume_from=path)`` needs to continue
    the run exactly: the optimizer's config, step count and moments, the
    network's RNG state, the epoch number, the history so far and the
    schedule's base lr (see :func:`backprop.files.model_file.save_checkpoint`).
    Every write is atomic (a temporary file renamed over ``path``), so the
    file on disk is always a complete checkpoint of a completed epoch, even
    when training is interrupted or diverges mid-epoch.

    Arguments:
        path: the file to write (overwritten each time). It may contain
            ``{epoch}``, formatted with the epoch number, to keep every checkpoint;
            no other placeholder (a literal brace is written ``{{`` or ``}}``).
        every: save after every ``every``-th epoch (counted from 1).
        monitor: an epoch-log key such as "val_loss": save when it improves
            on its best value so far.
        mode: "min", "max" or "auto" (as in :class:`EarlyStopping`).
        save_best_only: with ``monitor``, save only on improvement. Without
            it, ``monitor`` alone saves every epoch (Keras's behaviour) and only
            tracks the best.

    With neither ``every`` nor ``monitor`` a checkpoint is saved after every epoch.

    Attributes:
        best: the best value of the monitored metric; best_epoch: its epoch.
        last_saved_epoch: the epoch of the last checkpoint written (0: none).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        every: int | None = None,
        monitor: str | None = None,
        mode: Literal["auto", "min", "max"] = "auto",
        save_best_only: bool = False,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise OptionTypeError(f"path must be a file path, got {type(path).__name__}")
        self.path = os.fspath(path)
        _check_placeholders(self.path)
        if every is not None:
            if isinstance(every, bool) or not isinstance(every, int):
                raise OptionTypeError(f"every must be a positive integer or None, got {every!r}")
            if every < 1:
                raise OptionError(f"every must be ≥ 1, got {every}")
        if monitor is not None and (not isinstance(monitor, str) or not monitor):
            raise OptionTypeError(f"monitor must be a metric name or None, got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise OptionError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if save_best_only and monitor is None:
            raise OptionError("save_best_only needs a monitor, e.g. monitor='val_loss'")
        if save_best_only and every is not None:
            raise OptionError("give every or save_best_only, not both")
        if every is None and (monitor is None or not save_best_only):
            every = 1
        self.every = every
        self.monitor = monitor
        if mode == "auto":
            mode = "max" if monitor is not None and monitor.endswith(_MAXIMIZED) else "min"
        self.mode: Literal["min", "max"] = mode
        self.save_best_only = bool(save_best_only)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.last_saved_epoch = 0

    def on_train_begin(self, state: TrainingState) -> None:
        self.last_saved_epoch = 0
        history = state.history
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        if self.monitor is not None and self.monitor in history:  # resumed: the best so far
            for epoch, value in zip(history.epochs, history[self.monitor], strict=False):
                if self._improves(float(value)):
                    self.best, self.best_epoch = float(value), epoch

    def _improves(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        improved = False
        if self.monitor is not None:
            if self.monitor not in logs:
                raise OptionError(
                    f"ModelCheckpoint monitors {self.monitor!r}, which is not in the epoch "
                    f"logs; available: {', '.join(logs)}"
                )
            value = float(logs[self.monitor])
            if self._improves(value):
                self.best, self.best_epoch, improved = value, state.epoch, True
        periodic = self.every is not None and state.epoch % self.every == 0
        if improved or periodic:
            self.save(state)

    def save(self, state: TrainingState) -> None:
        """Write the checkpoint of the epoch just completed."""
        from backprop.files.model_file import save_checkpoint

        path = self.path.format(epoch=state.epoch)
        save_checkpoint(
            state.network, path, epoch=state.epoch, optimizer=state.optimizer,
            history=state.history,
        )
        self.last_saved_epoch = state.epoch

    def __repr__(self) -> str:
        return (
            f"ModelCheckpoint({self.path!r}, every={self.every}, monitor={self.monitor!r}, "
            f"mode={self.mode!r}, save_best_only={self.save_best_only})"
        )


def _check_placeholders(path: str) -> None:
    """A checkpoint path may name {epoch} (with a format, e.g. {epoch:03d}) and nothing else;
    checked when the callback is made, before any training."""
    hint = "; the only placeholder is {epoch} (write {{ and }} for a literal brace)"
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(path) if name is not None]
    except ValueError as error:
        raise OptionError(f"ModelCheckpoint path {path!r}: {error}{hint}") from None
    unknown = [name for name in names if name != "epoch"]
    if unknown:
        raise OptionError(f"ModelCheckpoint path {path!r} names {{{unknown[0]}}}{hint}")
    try:
        path.format(epoch=1)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        raise OptionError(f"ModelCheckpoint path {path!r}: bad {{epoch}} format ({error})"
                          ) from None
