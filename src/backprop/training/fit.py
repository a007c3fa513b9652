"""The training loop: epochs → batches → backprop → update → callbacks.

One step on a batch (X_b, Y_b) is :meth:`Network.backprop` (the forward
pass, the loss and the four equations) followed by the optimizer's update of
every parameter at once, θ ← θ − Δθ, after one finiteness check; on the
compiled path (``Network(compiled=True)``, or the optimizer's ``compiled_step``)
the update, the step and the check are one compiled pass. ``fit``
checks its arguments into a :class:`TrainingPlan` (:func:`plan_training`),
then :func:`run_training` repeats the step; batching is :mod:`backprop.training.batching`,
the hooks :mod:`backprop.training.callbacks`, resuming :func:`backprop.files.model_file.resume`.
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop._typing import Array, IntArray
from backprop.errors import DataError, DivergenceError, OptionError, OptionTypeError
from backprop.nn.batchnorm import BatchNorm
from backprop.optim.clipping import clip_grad_norm
from backprop.optim.rules import SGD, Optimizer
from backprop.optim.schedules import ScheduleFunction, check_schedule
from backprop.streaming import StreamBatches, is_streamed, open_source
from backprop.training.batching import Batches, Labelled, split_validation
from backprop.training.callbacks import Callback, History, TrainingState, fit_callbacks
from backprop.training.split import split_backprop, splits
from backprop.validation import check_non_negative_number, check_positive_int, check_positive_number

if TYPE_CHECKING:
    from backprop.network import Network



def fit(
    net: Network,
    X: Any,
    y: Any,
    epochs: int = 1,
    batch_size: int | None = 32,
    lr: float | None = None,
    *,
    optimizer: Optimizer | None = None,
    shuffle: bool = True,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float | None = None,
    schedule: ScheduleFunction | None = None,
    clip_norm: float | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: bool = False,
    resume_from: str | os.PathLike[str] | None = None,
) -> History:
    """Train ``net`` on (X, y) by backpropagation and return the history.

    Arguments:
        X: inputs, (m, n_inputs); or data larger than memory, streamed in batches
            shuffled within a buffer (:mod:`backprop.streaming`): a ``np.memmap``
            (e.g. ``np.load(path, mmap_mode="r")``), a directory of .npy shards or
            a .npy file (y None), a streaming source, or an iterable of (X, y)
            batches (y None).
        y: integer class labels (m,), or targets (m, n_outputs), or (m,) for one output.
        epochs: passes over the data; with ``resume_from``, the TOTAL number of
            epochs of the run, those already done included (Keras's
            ``initial_epoch`` semantics): a run of 10 epochs checkpointed after
            epoch 4 and resumed with ``epochs=10`` trains epochs 5 to 10.
        batch_size: samples per update; 1 is online learning, None full batch.
            With BatchNorm layers a batch needs ≥ 2 samples, so a last batch
            of one sample joins the batch before it.
        lr: learning rate of plain gradient descent (SGD) when no optimizer is given.
        optimizer: an :class:`~backprop.optim.rules.Optimizer`; its state carries
            over between fit calls.
        shuffle: reshuffle the samples every epoch (from the network's seed).
        validation_data: (X_val, y_val), evaluated after every epoch.
        validation_split: a fraction in (0, 1): the last ``validation_split`` of
            the samples (taken before any shuffling, as Keras does) are held
            out and evaluated after every epoch instead of trained on. Not
            together with ``validation_data``.
        schedule: the learning rate per epoch, ``schedule(epoch, base_lr)`` with
            epoch counted from 0 in this call, or from the checkpoint's epoch
            with ``resume_from`` so that it carries on (see :mod:`backprop.optim.schedules`);
            ``optimizer.lr`` is set from it at the start of every epoch. The
            base lr is the optimizer's lr when it first met a schedule, kept as
            ``optimizer.initial_lr``.
        clip_norm: clip the gradients by global norm before every update:
            when ‖g‖ over every parameter exceeds clip_norm, g ← g · clip_norm / ‖g‖
            (see :func:`clip_grad_norm`).
        callbacks: :class:`Callback` objects; any may stop training.
        verbose: print one line per epoch.
        resume_from: a checkpoint written by
            :class:`~backprop.training.callbacks.ModelCheckpoint` (or
            :func:`~backprop.files.model_file.save_checkpoint`). Before training,
            ``net`` gets its weights (and BatchNorm running statistics), the
            RNG state (shuffling, dropout masks), the epoch counter and the
            history; the optimizer gets its step count, moments and schedule
            base lr (an optimizer is built from the checkpoint's config when
            neither ``optimizer`` nor ``lr`` is given). Training then runs
            epochs ``checkpoint.epoch + 1`` to ``epochs``, and with the same
            data and arguments ends with the same weights, bit for bit, as a
            run that was never interrupted. The returned history holds every
            epoch, the restored ones included.

    Raises:
        DivergenceError: when a loss, a gradient or an update stops being
            finite, naming the epoch, batch and layer; the parameters are left
            at their last finite values (the optimizer's moments may hold the
            failed step when the update itself overflowed). A checkpoint
            written by :class:`~backprop.training.callbacks.ModelCheckpoint` is the one
            of the last completed epoch. Also when the epoch loss grows over
            1000 times its start (:class:`~backprop.training.callbacks.LossExplosion`; pass
            one with another factor in ``callbacks`` to change it).
    """
    plan = plan_training(net, X, y, epochs, batch_size, lr, optimizer, shuffle, validation_data,
                         validation_split, schedule, clip_norm, callbacks, verbose, resume_from)
    # BLAS on one thread for small products, and within a memory limit
    with net.training_threads(plan.batches.batch_size):
        return run_training(net, plan)


@dataclass
class TrainingPlan:
    """A ``fit`` call's arguments, checked and resolved: everything the loop needs."""

    batches: Batches | StreamBatches
    labels: IntArray | None  # the training samples' classes, for accuracy
    validation: Labelled | None
    optimizer: Optimizer
    schedule: ScheduleFunction | None
    base_lr: float  # the lr the schedule scales
    clip_norm: float | None
    callbacks: list[Callback]  # the History first
    history: History
    first_epoch: int
    epochs: int


def run_training(net: Network, plan: TrainingPlan) -> History:
    """The loop: for each epoch, for each batch, backprop then update; callbacks around both."""
    optimizer, batches, callbacks = plan.optimizer, plan.batches, plan.callbacks
    state = TrainingState(net, optimizer, plan.epochs, batches.batch_size, batches.m, plan.history)
    state.epoch = plan.first_epoch - 1
    for callback in callbacks:
        callback.on_train_begin(state)
    for epoch in range(plan.first_epoch, plan.epochs + 1):
        state.epoch = epoch
        if plan.schedule is not None:
            lr = plan.schedule(epoch - 1, plan.base_lr)
            optimizer.lr = check_non_negative_number(lr, "scheduled lr")
        for callback in callbacks:
            callback.on_epoch_begin(state)
        started = time.perf_counter()
        tally = EpochTally()
        for number, which in enumerate(batches.epoch(net.rng), start=1):
            state.batch = number
            X_b, Y_b = batches.gather(which)
            loss = train_step(net, optimizer, X_b, Y_b, plan.clip_norm, epoch, number)
            labels = None if plan.labels is None else plan.labels[which]
            tally.add(net, loss, X_b.shape[0], labels)
            batch_logs = {"loss": loss, "batch_size": float(X_b.shape[0])}
            for callback in callbacks:
                callback.on_batch_end(state, batch_logs)
            if state.stop_training:
                break
        logs = tally.logs()
        logs["lr"] = optimizer.lr
        logs["time"] = time.perf_counter() - started
        if plan.validation is not None:
            for key, value in net.metrics(*plan.validation).items():
                logs[f"val_{key}"] = value
        state.logs = logs
        for callback in callbacks:
            callback.on_epoch_end(state, logs)
        if state.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end(state)
    return plan.history


def train_step(
    net: Network, optimizer: Optimizer, X: Array, Y: Array, clip_norm: float | None,
    epoch: int = 0, batch: int = 0,
) -> float:
    """One update on a batch: backprop, check the loss, clip, θ ← θ − Δθ. Returns the loss.

    ``epoch`` and ``batch`` only name the place in a DivergenceError.
    """
    # Overflow is not warned about here: the guards below name it precisely.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # (the batch cut in two halves on two threads: an engine lever, off by default)
        loss = split_backprop(net, X, Y) if splits(net) else net.backprop(X, Y)
    if not math.isfinite(loss):
        raise _diverged(epoch, batch, optimizer.lr, f"non-finite loss in {_non_finite_layer(net)}")
    if clip_norm is not None:
        clip_grad_norm(net.grads, clip_norm)
    apply_update(net, optimizer, epoch, batch)
    return loss


class EpochTally:
    """The epoch's mean loss (each batch's loss before its update) and accuracy, as it goes."""

    def __init__(self) -> None:
        self.loss_sum, self.correct, self.seen = 0.0, 0, 0
        self.classified = False

    def add(self, net: Network, loss: float, n: int, labels: IntArray | None) -> None:
        self.seen += n
        self.loss_sum += loss * n
        if labels is not None:
            outputs = net.output_layer.a  # a^[L] of the batch, from backprop's forward pass
            assert outputs is not None
            self.correct += int(np.count_nonzero(net.labels_of(outputs) == labels))
            self.classified = True

    def logs(self) -> dict[str, float]:
        logs = {"loss": self.loss_sum / self.seen}
        if self.classified:
            logs["accuracy"] = self.correct / self.seen
        return logs


def plan_training(
    net: Network,
    X: Any,
    y: Any,
    epochs: int,
    batch_size: int | None,
    lr: float | None,
    optimizer: Optimizer | None,
    shuffle: bool,
    validation_data: tuple[Any, Any] | None,
    validation_split: float | None,
    schedule: ScheduleFunction | None,
    clip_norm: float | None,
    callbacks: Sequence[Callback],
    verbose: bool,
    resume_from: str | os.PathLike[str] | None,
) -> TrainingPlan:
    """Check every argument of :func:`fit`; only then restore a checkpoint into ``net``."""
    epochs = check_positive_int(epochs, "epochs")
    checkpoint = None
    if resume_from is not None:
        from backprop.files.model_file import read_checkpoint  # file I/O loads only when used

        checkpoint = read_checkpoint(resume_from)
    if optimizer is not None or lr is not None or checkpoint is None:
        optimizer = _resolve_optimizer(lr, optimizer)
    source = open_source(X, y) if is_streamed(X) else None  # data larger than memory
    if source is None:
        X = net.check_inputs(X)
        Y, labels = net.prepare_targets(y, X.shape[0])
    elif validation_split is not None:
        raise DataError("validation_split needs the data in memory; give validation_data "
                         "to validate while streaming")
    validation = None
    if validation_split is not None:
        if validation_data is not None:
            raise OptionError("give validation_data or validation_split, not both")
        if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
            raise OptionTypeError(f"validation_split must be a number, got {validation_split!r}")
        if not 0.0 < validation_split < 1.0:
            raise OptionError(f"validation_split must be in (0, 1), got {validation_split!r}")
        (X, Y, labels), validation = split_validation(X, Y, labels, float(validation_split))
    m = X.shape[0] if source is None else getattr(source, "n_samples", 0)
    size = m if batch_size is None else check_positive_int(batch_size, "batch_size")
    if clip_norm is not None:
        clip_norm = check_positive_number(clip_norm, "clip_norm")
    if schedule is not None:
        schedule = check_schedule(schedule)
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise OptionTypeError("validation_data must be a pair (X_val, y_val)")
        X_val = net.check_inputs(validation_data[0])
        Y_val, labels_val = net.prepare_targets(validation_data[1], X_val.shape[0])
        validation = (X_val, Y_val, labels_val)
    needs_pairs = any(isinstance(layer, BatchNorm) for layer in net.layers)
    if needs_pairs and min(size, m or size) < 2:
        raise OptionError(
            "a network with BatchNorm needs at least 2 samples per batch in training; "
            f"batch_size={batch_size} with {m} training samples gives 1"
        )
    history = History()
    first_epoch = 1
    if checkpoint is not None:  # every argument checked: now change the network
        from backprop.files.model_file import resume

        assert checkpoint.training is not None
        if checkpoint.training.epoch > epochs:
            raise OptionError(
                f"checkpoint {resume_from} is at epoch {checkpoint.training.epoch}, beyond "
                f"epochs={epochs} (with resume_from, epochs is the run's total)"
            )
        optimizer = resume(net, optimizer, checkpoint)
        history.history = {k: list(v) for k, v in checkpoint.training.history.items()}
        history.epochs = list(checkpoint.training.history_epochs)
        first_epoch = checkpoint.training.epoch + 1
    assert optimizer is not None
    if net.compiled:  # compile (or load) the passes now, not inside the first epoch
        net.prepare_compiled()
    if net.compiled or optimizer.compiled_step:
        optimizer.prepare_compiled(net.dtype)
    base_lr = optimizer.lr
    if schedule is not None:
        if optimizer.initial_lr is None:
            optimizer.initial_lr = optimizer.lr
        base_lr = optimizer.initial_lr
    net.history = history
    batches: Batches | StreamBatches
    if source is None:
        batches = Batches(X, Y, size, shuffle, no_single_batch=needs_pairs)
    else:
        batches = StreamBatches(net, source, batch_size, shuffle, no_single_batch=needs_pairs)
        labels = batches.labels if net.is_classifier else None  # the batch's, in rows [0, n)
    return TrainingPlan(
        batches=batches,
        labels=labels,
        validation=validation,
        optimizer=optimizer,
        schedule=schedule,
        base_lr=base_lr,
        clip_norm=clip_norm,
        callbacks=fit_callbacks(history, callbacks, verbose),
        history=history,
        first_epoch=first_epoch,
        epochs=epochs,
    )


def _resolve_optimizer(lr: float | None, optimizer: Optimizer | None) -> Optimizer:
    if optimizer is not None:
        if lr is not None:
            raise OptionError(
                "give the learning rate to the optimizer, not to fit, when both are used"
            )
        if not isinstance(optimizer, Optimizer):
            raise OptionTypeError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
        return optimizer
    return SGD(lr=0.01 if lr is None else lr)


def _first_non_finite(net: Network, flat: Array) -> str | None:
    """Name the first parameter tensor whose part of ``flat`` (laid out as params) is not finite."""
    for i, name, where in net.parameter_slices:
        if not np.all(np.isfinite(flat[where])):
            return f"layer {i + 1} {name}"
    return None


def _non_finite_layer(net: Network) -> str:
    """Name the first tensor with a non-finite gradient, else the loss itself."""
    # Every gradient finite: the output overflowed the loss itself.
    return _first_non_finite(net, net.grads) or (
        f"the loss of the output layer (layer {len(net.layers)})"
    )


def _diverged(epoch: int, batch: int, lr: float, what: str) -> DivergenceError:
    return DivergenceError(
        f"training diverged at epoch {epoch}, batch {batch}: {what}; the weights are left "
        f"at their last finite values; try a smaller learning rate (now {lr:g})"
    )


def apply_update(net: Network, optimizer: Optimizer, epoch: int, batch: int) -> None:
    """θ ← θ − Δθ, unless Δθ is not finite: then the weights stay and DivergenceError says why.

    On the compiled path, one pass (:func:`_apply_fused_update`); else NumPy's, below.

    One reduction checks everything on the hot path: ‖Δθ‖² is finite exactly
    when every entry of Δθ is, unless some |Δθ_i| is beyond about 1e19 in
    float32 (1e154 in float64) and its square overflows. A non-finite
    gradient always gives a non-finite Δθ (Adam: m/√v = inf/inf), so it is
    caught here too, after the optimizer's moments have taken it in. While
    ‖Δθ‖² is finite, |Δθ_i| is far too small to carry a finite weight past
    the largest float, so θ − Δθ is finite as well.
    """
    if optimizer.compiled_step or (net.compiled and optimizer.has_compiled_step):
        _apply_fused_update(net, optimizer, epoch, batch)
        return
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        update = optimizer.update(net.params, net.grads)
        for frozen in net.frozen_slices:  # a frozen tensor keeps its value, decay included
            update[frozen] = 0.0
        squared_norm = float(np.dot(update, update))
    if math.isfinite(squared_norm):
        net.params -= update
        return
    bad_gradient = _first_non_finite(net, net.grads)
    if bad_gradient is not None:
        raise _diverged(epoch, batch, optimizer.lr, f"non-finite gradient in {bad_gradient}")
    # The gradients are finite: the update itself overflowed, or is finite but huge,
    # in which case it is applied on a copy and kept only if θ stays finite.
    with np.errstate(over="ignore", invalid="ignore"):
        updated = net.params - update
    overflowed = _first_non_finite(net, update) or _first_non_finite(net, updated)
    if overflowed is not None:
        raise _diverged(epoch, batch, optimizer.lr,
                        f"the update made {overflowed} non-finite (the gradients were finite)")
    net.params[...] = updated


def _apply_fused_update(net: Network, optimizer: Optimizer, epoch: int, batch: int) -> None:
    """θ ← θ − Δθ in the optimizer's compiled pass, which also checks every new θ is finite.

    The pass keeps the θ it replaces (``optimizer.previous_params``): a frozen tensor gets
    its value back, and a step that made a weight non-finite is taken back whole, so the
    weights stay at their last finite values, as on NumPy's path. The same weights as
    NumPy's path, to the last bit, and the same errors.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        finite = optimizer.fused_step(net.params, net.grads)
    previous = optimizer.previous_params
    for frozen in net.frozen_slices:  # a frozen tensor keeps its value, decay included
        net.params[frozen] = previous[frozen]
    if finite or bool(np.all(np.isfinite(net.params))):  # (not finite only in a frozen tensor)
        return
    updated = net.params.copy()
    net.params[...] = previous  # back to the last finite values
    bad_gradient = _first_non_finite(net, net.grads)
    if bad_gradient is not None:
        raise _diverged(epoch, batch, optimizer.lr, f"non-finite gradient in {bad_gradient}")
    raise _diverged(epoch, batch, optimizer.lr,
                    f"the update made {_first_non_finite(net, updated)} non-finite "
                    "(the gradients were finite)")
