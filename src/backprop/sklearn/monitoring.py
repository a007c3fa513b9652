"""What a stochastic fit records and calls beside its loop: the validation split's loss,
the best epoch's parameters, and the library's callbacks.

With ``early_stopping`` the estimators hold out a validation split
(:class:`HeldOut`) and measure on it, after every epoch and in inference mode,
scikit-learn's score and the same objective as ``loss_curve_``:

    J_val = L(X_val, Y_val) + (α / 2 m_val) Σ_l ‖W^[l]‖²

(``validation_loss_curve_``). :func:`snapshot` and :func:`restore` keep and
bring back a best epoch's θ with every layer's state arrays (BatchNorm's
running statistics).

:class:`CallbackRun` calls the library's :class:`~backprop.Callback` objects
as :func:`backprop.training.fit.fit` does, with its
:class:`~backprop.TrainingState`: History first, the estimator's
``callbacks``, its progress when ``verbose``, and the library's
:class:`~backprop.LossExplosion` last, so the estimators judge an exploding
loss as the library does. Where the library stops, an estimator goes on, as
scikit-learn's MLP does, and says so once with a :class:`LossExplosionWarning`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from backprop._typing import Array
from backprop.errors import DivergenceError
from backprop.network import Network
from backprop.optim.rules import Optimizer
from backprop.sklearn.objective import l2_penalty, weighted_loss
from backprop.training.callbacks import (
    Callback,
    History,
    LossExplosion,
    TrainingState,
    fit_callbacks,
)

#: θ and each layer's state arrays (by name), copied.
Snapshot = tuple[Array, list[dict[str, Array]]]


class LossExplosionWarning(ConvergenceWarning):  # type: ignore[misc]
    """The training loss grew without bound, by the library's :class:`~backprop.LossExplosion`
    rule (the fit goes on, as scikit-learn's would: the numbers it gives are not to be
    trusted)."""


@dataclass
class HeldOut:
    """Early stopping's validation rows: X (checked), Y (the encoded targets the loss
    compares with), y (the targets as given, which the score compares with) and w, their
    sample weights (None: each weighs 1)."""

    X: Array
    Y: Array
    y: Any
    w: Array | None = None

    def objective(self, net: Network, alpha: float) -> float:
        """J on these rows in inference mode: the mean loss plus (α / 2m) Σ ‖W‖²; with
        weights, the weighted mean Σ w_i ℓ_i / Σ w_i and m = Σ w, as in training
        (NaN when the outputs are not finite)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.w is None:
                loss, m = net.metrics(self.X, self.Y, None)["loss"], float(self.X.shape[0])
            else:
                loss, m = weighted_loss(net, self.X, self.Y, self.w), float(np.sum(self.w))
        if not math.isfinite(loss):
            return math.nan
        return float(loss + l2_penalty(net, alpha, m))


def snapshot(net: Network) -> Snapshot:
    """θ and every layer's state arrays (BatchNorm's running statistics), copied."""
    states = [{k: v.copy() for k, v in layer.state_arrays().items()} for layer in net.layers]
    return net.params.copy(), states


def restore(net: Network, saved: Snapshot) -> None:
    """Bring back what :func:`snapshot` kept."""
    params, states = saved
    net.params[...] = params  # in place: the layers' views follow
    for layer, state in zip(net.layers, states, strict=True):
        if state:
            layer.load_state_arrays(state)


class CallbackRun:
    """The callbacks of one ``fit`` (or ``partial_fit``) call, called as the library's fit
    calls them: each hook with the run's :class:`~backprop.TrainingState`, epochs and
    batches numbered from 1, per batch the logs "loss" (J of the batch) and "batch_size".

    The list is the library's (:func:`~backprop.training.callbacks.fit_callbacks`):
    History, the estimator's ``callbacks``, ``progress``, then LossExplosion unless the
    callbacks hold one.
    """

    def __init__(self, estimator: Any, optimizer: Optimizer, *, epochs: int, batch_size: int,
                 n_samples: int, callbacks: Sequence[Callback], progress: Callback | None) -> None:
        self.estimator = estimator
        net: Network = estimator.network_
        self.history = History()
        self.state = TrainingState(net, optimizer, epochs, batch_size, n_samples, self.history)
        extra = [] if progress is None else [progress]
        self.callbacks = fit_callbacks(self.history, [*callbacks, *extra], verbose=False)
        self.samples_seen = 0  # in the epoch so far
        self.exploded = False  # whether LossExplosion has judged the loss exploded

    @property
    def stop_requested(self) -> bool:
        """Whether a callback has set ``state.stop_training``."""
        return self.state.stop_training

    def begin(self) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(self.state)

    def begin_epoch(self, epoch: int) -> None:
        self.state.epoch, self.state.batch, self.samples_seen = epoch, 0, 0
        for callback in self.callbacks:
            callback.on_epoch_begin(self.state)

    def after_batch(self, loss: float, size: int) -> bool:
        """The batch hooks; True when a callback asks training to stop."""
        self.state.batch += 1
        self.samples_seen += size
        logs = {"loss": loss, "batch_size": float(size)}
        for callback in self.callbacks:
            callback.on_batch_end(self.state, logs)
        return self.state.stop_training

    def end_epoch(self, logs: dict[str, float]) -> LossExplosionWarning | None:
        """The epoch hooks. LossExplosion's verdict (its DivergenceError) does not stop the
        fit, as scikit-learn's MLP would go on: it comes back as the warning to give, the
        first time only (the rule is not asked again in this call)."""
        self.state.logs = logs
        exploded = None
        for callback in self.callbacks:
            if isinstance(callback, LossExplosion):
                if self.exploded:
                    continue
                try:
                    callback.on_epoch_end(self.state, logs)
                except DivergenceError:
                    self.exploded = True
                    exploded = self._explosion_warning(callback)
                continue
            callback.on_epoch_end(self.state, logs)
        return exploded

    def end(self) -> None:
        for callback in self.callbacks:
            callback.on_train_end(self.state)

    def _explosion_warning(self, rule: LossExplosion) -> LossExplosionWarning:
        """The warning for the epoch whose loss exploded: its epoch, its loss, the fix."""
        estimator = type(self.estimator).__name__
        loss, start = self.state.logs["loss"], rule.start
        assert start is not None  # set by the first batch
        return LossExplosionWarning(
            f"{estimator}: the loss exploded at epoch {self.state.epoch}: it grew from "
            f"{start:.4g} to {loss:.4g}, over {rule.factor:g} times its start. Lower "
            f"learning_rate_init (now {self.estimator.learning_rate_init:g}), scale X, or set "
            "clip_norm"
        )
