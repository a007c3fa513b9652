"""The training loop: batching, shuffling, the update, callbacks and history.

One step on a batch (X_b, Y_b) is: forward pass, loss, backward pass (the
four equations, :meth:`Network.backprop`), then the optimizer's update of
every parameter at once. ``batch_size=1`` is online learning (an update
after every sample), ``batch_size=None`` is full-batch gradient descent,
anything else mini-batch gradient descent. The samples are shuffled every
epoch with the network's seeded generator, by index: a batch is gathered
into a buffer allocated once, the data itself never moves.
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._typing import Array, IntArray
from .batchnorm import BatchNorm
from .errors import DivergenceError
from .optimizers import SGD, Optimizer
from .schedules import ScheduleFunction, check_schedule
from .streaming import StreamBatches, is_streamed, open_source
from .validation import check_non_negative_number, check_positive_int, check_positive_number

if TYPE_CHECKING:
    from .network import Network
    from .persistence import TrainingCheckpoint


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


def _resolve_optimizer(lr: float | None, optimizer: Optimizer | None) -> Optimizer:
    if optimizer is not None:
        if lr is not None:
            raise ValueError(
                "give the learning rate to the optimizer, not to fit, when both are used"
            )
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
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


def _apply_update(net: Network, optimizer: Optimizer, epoch: int, batch: int) -> None:
    """θ ← θ − Δθ, unless Δθ is not finite: then the weights stay and DivergenceError says why.

    One reduction checks everything on the hot path: ‖Δθ‖² is finite exactly
    when every entry of Δθ is, unless some |Δθ_i| is beyond about 1e19 in
    float32 (1e154 in float64) and its square overflows. A non-finite
    gradient always gives a non-finite Δθ (Adam: m/√v = inf/inf), so it is
    caught here too, after the optimizer's moments have taken it in. While
    ‖Δθ‖² is finite, |Δθ_i| is far too small to carry a finite weight past
    the largest float, so θ − Δθ is finite as well.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        update = optimizer.update(net.params, net.grads)
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


def clip_grad_norm(grads: Array, max_norm: float) -> float:
    """Scale the flat gradient buffer in place so its global L2 norm is at most ``max_norm``.

    g ← g · max_norm / ‖g‖ when ‖g‖ > max_norm, else g is left alone: the
    direction never changes. ‖g‖ is the norm of every gradient together
    (all layers, weights and biases), as torch.nn.utils.clip_grad_norm_
    computes it; PyTorch divides by ‖g‖ + 1e-6 and so clips to a norm a
    hair under max_norm, here the clipped norm is max_norm itself.

    Returns:
        ‖g‖ before clipping.
    """
    with np.errstate(over="ignore"):  # an overflow is handled just below
        norm = math.sqrt(float(np.dot(grads, grads)))
    if not math.isfinite(norm) and grads.dtype != np.float64:
        # Σ g² overflowed float32 although every g is finite: sum the squares in float64.
        wide = grads.astype(np.float64)
        norm = math.sqrt(float(np.dot(wide, wide)))
    if norm > max_norm:
        grads *= max_norm / norm  # one vectorized operation over every parameter
    return norm


def _restore(
    net: Network,
    saved: Network,
    optimizer: Optimizer,
    checkpoint: TrainingCheckpoint,
    path: str,
) -> None:
    """Restore a checkpoint: weights, layer state, RNG into ``net``; the rest into ``optimizer``."""
    if saved.config()["layers"] != net.config()["layers"]:
        raise ValueError(f"checkpoint {path} holds another architecture than this network")
    if checkpoint.optimizer is not None and checkpoint.optimizer.get("name") != optimizer.name:
        raise ValueError(
            f"checkpoint {path} was trained with optimizer {checkpoint.optimizer.get('name')!r}, "
            f"not {optimizer.name!r}: its state cannot be continued"
        )
    net.params[...] = saved.params  # in place: the layers' views follow
    for layer, saved_layer in zip(net.layers, saved.layers, strict=True):
        state = saved_layer.state_arrays()
        if state:
            layer.load_state_arrays(state)
    if checkpoint.rng_state is not None:
        net.rng.bit_generator.state = checkpoint.rng_state  # the layers share this generator
    arrays = {
        name: array.astype(net.params.dtype, copy=False)
        for name, array in checkpoint.optimizer_arrays.items()
    }
    optimizer.load_state_dict({"t": checkpoint.optimizer_t, "arrays": arrays})
    if checkpoint.initial_lr is not None:
        optimizer.initial_lr = checkpoint.initial_lr


def _split_validation(
    X: Array, Y: Array, labels: IntArray | None, fraction: float
) -> tuple[tuple[Array, Array, IntArray | None], tuple[Array, Array, IntArray | None]]:
    """(training part, validation part): the last ``fraction`` of the samples validate."""
    m = X.shape[0]
    split = int(m * (1.0 - fraction))  # Keras's split point
    if split == 0 or split == m:
        raise ValueError(
            f"validation_split={fraction} of {m} samples leaves "
            f"{'no training' if split == 0 else 'no validation'} samples"
        )

    def part(rows: slice) -> tuple[Array, Array, IntArray | None]:
        return X[rows], Y[rows], None if labels is None else labels[rows]

    return part(slice(0, split)), part(slice(split, m))


class _Batches:
    """Index-gathered batches into buffers allocated once per fit call.

    With ``no_single_batch`` (a network with BatchNorm, which cannot
    normalize one sample) a last batch of one sample joins the batch before it.
    """

    def __init__(
        self, X: Array, Y: Array, batch_size: int, shuffle: bool, no_single_batch: bool = False
    ) -> None:
        self.X, self.Y = X, Y
        self.m = int(X.shape[0])
        self.batch_size = min(batch_size, self.m)
        # Shuffling a single full batch changes nothing but summation order: skip it.
        self.shuffle = shuffle and self.batch_size < self.m
        self.starts = list(range(0, self.m, self.batch_size))
        if no_single_batch and len(self.starts) > 1 and self.m - self.starts[-1] == 1:
            self.starts.pop()
        self.ends = [*self.starts[1:], self.m]
        rows = max(e - s for s, e in zip(self.starts, self.ends, strict=True))
        self.x_buffer = np.empty((rows, X.shape[1]), dtype=X.dtype)
        self.y_buffer = np.empty((rows, Y.shape[1]), dtype=Y.dtype)

    def __len__(self) -> int:
        return len(self.starts)

    def epoch(self, rng: np.random.Generator) -> list[IntArray | slice]:
        """The batches of one epoch: index arrays when shuffling, else slices."""
        bounds = zip(self.starts, self.ends, strict=True)
        if not self.shuffle:
            return [slice(s, e) for s, e in bounds]
        order = rng.permutation(self.m)
        return [order[s:e] for s, e in bounds]

    def gather(self, which: IntArray | slice) -> tuple[Array, Array]:
        if isinstance(which, slice):
            return self.X[which], self.Y[which]  # contiguous views, no copy
        n = which.shape[0]
        X_b, Y_b = self.x_buffer[:n], self.y_buffer[:n]
        # mode="clip": a permutation's indices are in range, and NumPy then
        # writes straight into out= instead of through a bounds-checked buffer.
        np.take(self.X, which, axis=0, out=X_b, mode="clip")
        np.take(self.Y, which, axis=0, out=Y_b, mode="clip")
        return X_b, Y_b


def fit(
    net: Network,
    X: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int | None = 32,
    lr: float | None = None,
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
        optimizer: an :class:`~backprop.optimizers.Optimizer`; its state carries
            over between fit calls.
        shuffle: reshuffle the samples every epoch (from the network's seed).
        validation_data: (X_val, y_val), evaluated after every epoch.
        validation_split: a fraction in (0, 1): the last ``validation_split`` of
            the samples (taken before any shuffling, as Keras does) are held
            out and evaluated after every epoch instead of trained on. Not
            together with ``validation_data``.
        schedule: the learning rate per epoch, ``schedule(epoch, base_lr)`` with
            epoch counted from 0 in this call, or from the checkpoint's epoch
            with ``resume_from`` so that it carries on (see :mod:`backprop.schedules`);
            ``optimizer.lr`` is set from it at the start of every epoch. The
            base lr is the optimizer's lr when it first met a schedule, kept as
            ``optimizer.initial_lr``.
        clip_norm: clip the gradients by global norm before every update:
            when ‖g‖ over every parameter exceeds clip_norm, g ← g · clip_norm / ‖g‖
            (see :func:`clip_grad_norm`).
        callbacks: :class:`Callback` objects; any may stop training.
        verbose: print one line per epoch.
        resume_from: a checkpoint written by
            :class:`~backprop.callbacks.ModelCheckpoint` (or
            :func:`~backprop.persistence.save_checkpoint`). Before training,
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
            written by :class:`~backprop.callbacks.ModelCheckpoint` is the one
            of the last completed epoch.
    """
    epochs = check_positive_int(epochs, "epochs")
    checkpoint = None
    if resume_from is not None:
        from .persistence import load_checkpoint

        saved, checkpoint = load_checkpoint(resume_from)
        if optimizer is None and lr is None and checkpoint.optimizer is not None:
            from .optimizers import get_optimizer

            optimizer = get_optimizer(checkpoint.optimizer)
    optimizer = _resolve_optimizer(lr, optimizer)
    source = open_source(X, y) if is_streamed(X) else None  # data larger than memory
    if source is None:
        X = net.check_inputs(X)
        Y, labels = net.prepare_targets(y, X.shape[0])
    m = X.shape[0] if source is None else getattr(source, "n_samples", 0)
    size = m if batch_size is None else check_positive_int(batch_size, "batch_size")
    validation = None
    if validation_split is not None and source is not None:
        raise ValueError("validation_split needs the data in memory; give validation_data "
                         "to validate while streaming")
    if validation_split is not None:
        if validation_data is not None:
            raise ValueError("give validation_data or validation_split, not both")
        if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
            raise TypeError(f"validation_split must be a number, got {validation_split!r}")
        if not 0.0 < validation_split < 1.0:
            raise ValueError(f"validation_split must be in (0, 1), got {validation_split!r}")
        (X, Y, labels), validation = _split_validation(X, Y, labels, float(validation_split))
        m = X.shape[0]
        size = m if batch_size is None else size
    if clip_norm is not None:
        clip_norm = check_positive_number(clip_norm, "clip_norm")
    if schedule is not None:
        schedule = check_schedule(schedule)
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val = net.check_inputs(validation_data[0])
        Y_val, labels_val = net.prepare_targets(validation_data[1], X_val.shape[0])
        validation = (X_val, Y_val, labels_val)
    needs_pairs = any(isinstance(layer, BatchNorm) for layer in net.layers)
    if needs_pairs and min(size, m or size) < 2:
        raise ValueError(
            "a network with BatchNorm needs at least 2 samples per batch in training; "
            f"batch_size={batch_size} with {m} training samples gives 1"
        )
    history = History()
    first_epoch = 1
    if checkpoint is not None:  # every argument checked: now change the network
        _restore(net, saved, optimizer, checkpoint, str(resume_from))
        history.history = {k: list(v) for k, v in checkpoint.history.items()}
        history.epochs = list(checkpoint.history_epochs)
        first_epoch = checkpoint.epoch + 1
    base_lr = optimizer.lr
    if schedule is not None:
        if optimizer.initial_lr is None:
            optimizer.initial_lr = optimizer.lr
        base_lr = optimizer.initial_lr
    batches: _Batches | StreamBatches
    if source is None:
        batches = _Batches(X, Y, size, shuffle, no_single_batch=needs_pairs)
    else:
        batches = StreamBatches(net, source, batch_size, shuffle, no_single_batch=needs_pairs)
        labels = batches.labels if net.is_classifier else None  # the batch's, in rows [0, n)
    net.history = history
    state = TrainingState(net, optimizer, epochs, batches.batch_size, m, history)
    state.epoch = first_epoch - 1
    all_callbacks = [history, *callbacks, *([PrintProgress()] if verbose else [])]
    for callback in all_callbacks:
        callback.on_train_begin(state)
    for epoch in range(first_epoch, epochs + 1):
        state.epoch = epoch
        if schedule is not None:
            optimizer.lr = check_non_negative_number(schedule(epoch - 1, base_lr), "scheduled lr")
        for callback in all_callbacks:
            callback.on_epoch_begin(state)
        started = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        for number, which in enumerate(batches.epoch(net.rng), start=1):
            state.batch = number
            X_b, Y_b = batches.gather(which)
            # Overflow is not warned about here: the guard below names it precisely.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                batch_loss = net.backprop(X_b, Y_b)
            if not math.isfinite(batch_loss):
                what = f"non-finite loss in {_non_finite_layer(net)}"
                raise _diverged(epoch, number, optimizer.lr, what)
            if clip_norm is not None:
                clip_grad_norm(net.grads, clip_norm)
            _apply_update(net, optimizer, epoch, number)
            n = X_b.shape[0]
            seen += n
            loss_sum += batch_loss * n
            if labels is not None:
                outputs = net.output_layer.a
                assert outputs is not None
                correct += int(np.count_nonzero(net.labels_of(outputs) == labels[which]))
            batch_logs = {"loss": batch_loss, "batch_size": float(n)}
            for callback in all_callbacks:
                callback.on_batch_end(state, batch_logs)
            if state.stop_training:
                break
        logs: dict[str, float] = {"loss": loss_sum / seen}
        if labels is not None:
            logs["accuracy"] = correct / seen
        logs["lr"] = optimizer.lr
        logs["time"] = time.perf_counter() - started
        if validation is not None:
            for key, value in net.metrics(*validation).items():
                logs[f"val_{key}"] = value
        state.logs = logs
        for callback in all_callbacks:
            callback.on_epoch_end(state, logs)
        if state.stop_training:
            break
    for callback in all_callbacks:
        callback.on_train_end(state)
    return history
