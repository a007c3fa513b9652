"""The state of a training run kept beside its weights in a checkpoint, read back field by field."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TrainingCheckpoint:
    """The state of a training run beside its weights: what ``fit(resume_from=...)`` restores.

    Attributes:
        epoch: epochs completed (counted from 1, so training resumes at ``epoch + 1``).
        history: the per-epoch metrics so far, ``{key: [value per epoch]}``.
        history_epochs: the epoch number of each history entry.
        optimizer: the optimizer's config (``Optimizer.config()``), or None.
        optimizer_t: the optimizer's step count.
        optimizer_arrays: the optimizer's state arrays (moments), by name.
        initial_lr: the schedule's base learning rate (``optimizer.initial_lr``).
        rng_state: ``net.rng.bit_generator.state`` (shuffling, dropout masks).
    """

    epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    history_epochs: list[int] = field(default_factory=list)
    optimizer: dict[str, Any] | None = None
    optimizer_t: int = 0
    optimizer_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    initial_lr: float | None = None
    rng_state: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "history": self.history,
            "history_epochs": self.history_epochs,
            "optimizer": self.optimizer,
            "optimizer_t": self.optimizer_t,
            "initial_lr": self.initial_lr,
            "rng_state": self.rng_state,
        }

    @classmethod
    def from_json(
        cls, data: dict[str, Any], optimizer_arrays: dict[str, np.ndarray]
    ) -> TrainingCheckpoint:
        """Read the training state, every field checked (a ValueError names the first bad one)."""
        if not isinstance(data, dict):
            raise ValueError(f"the training state is a JSON {type(data).__name__}, not an object")
        epoch = _whole(data.get("epoch"), "epoch")
        history = data.get("history", {})
        if not isinstance(history, dict) or not all(isinstance(v, list) for v in history.values()):
            raise ValueError("history must map each metric to a list of numbers")
        epochs = [_whole(e, "history_epochs entry") for e in data.get("history_epochs", [])]
        for key, values in history.items():
            if len(values) != len(epochs):
                raise ValueError(
                    f"history[{key!r}] has {len(values)} values for {len(epochs)} epochs"
                )
        if any(e > epoch for e in epochs):
            raise ValueError(f"history reaches epoch {max(epochs)}, past the checkpoint's {epoch}")
        optimizer = data.get("optimizer")
        if optimizer is not None and not isinstance(optimizer, dict):
            raise ValueError("optimizer must be an object (the optimizer's config)")
        initial_lr = data.get("initial_lr")
        if initial_lr is not None and not (
            isinstance(initial_lr, int | float) and math.isfinite(initial_lr) and initial_lr >= 0
        ):
            raise ValueError(f"initial_lr must be a finite number ≥ 0, got {initial_lr!r}")
        rng_state = data.get("rng_state")
        if rng_state is not None and not isinstance(rng_state, dict):
            raise ValueError("rng_state must be an object")
        return cls(
            epoch=epoch,
            history={str(k): [float(v) for v in vs] for k, vs in history.items()},
            history_epochs=epochs,
            optimizer=optimizer,
            optimizer_t=_whole(data.get("optimizer_t", 0), "optimizer_t"),
            optimizer_arrays=optimizer_arrays,
            initial_lr=None if initial_lr is None else float(initial_lr),
            rng_state=rng_state,
        )


def _whole(value: Any, name: str) -> int:
    """A count read from a file: an integer ≥ 0 (JSON gives int; bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number ≥ 0, got {value!r}")
    return value
