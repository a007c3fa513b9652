"""Callbacks: the hooks of the training loop, and those that record or steer it.

:class:`Callback` is the protocol (every hook does nothing by default) and
:class:`TrainingState` what a hook sees. :class:`History` records the epochs'
metrics (it is the first callback of every ``fit`` call); :class:`PrintProgress`
prints them; :class:`LossExplosion` stops a run whose loss grows without bound
(the last callback of every ``fit``). The callbacks that steer and save a run,
:class:`~backprop.training.steering.EarlyStopping` and
:class:`~backprop.training.steering.ModelCheckpoint`, are in :mod:`backprop.training.steering`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backprop.errors import DivergenceError, OptionError, OptionTypeError

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
    hooks = [name for name in vars(Callback) if name.startswith("on_")]
    for i, callback in enumerate(callbacks):
        missing = [hook for hook in hooks if not callable(getattr(callback, hook, None))]
        if missing:
            raise OptionTypeError(
                f"callbacks[{i}] is {callback!r}, not a Callback (it has no {missing[0]})"
            )
    own_guard = any(isinstance(callback, LossExplosion) for callback in callbacks)
    guard = [] if own_guard else [LossExplosion()]
    return [history, *callbacks, *([PrintProgress()] if verbose else []), *guard]
