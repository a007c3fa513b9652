"""The systems under test, each behind the same small :class:`Trainer` interface.

A system module provides ``problem() -> str | None`` (why it cannot run
here, or None) and ``make_trainer(workload, data, threads, **options)``.
Modules are imported lazily, inside the child process that runs them.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import numpy as np

# name -> (module, keyword options for make_trainer)
SYSTEMS: dict[str, tuple[str, dict[str, Any]]] = {
    "backprop": ("bench.systems.backprop_system", {}),
    "torch": ("bench.systems.torch_system", {"fused": False}),
    "torch-fused": ("bench.systems.torch_system", {"fused": True}),
    "sklearn": ("bench.systems.sklearn_system", {}),
    "jax": ("bench.systems.jax_system", {}),
}
PEERS: tuple[str, ...] = ("torch", "torch-fused", "jax", "sklearn")


class Trainer(Protocol):
    """One system's model and optimizer for one workload, with the data it was given."""

    notes: list[str]
    version: str

    def train_epoch(self, start: int, stop: int) -> None:
        """One pass, shuffled, over training rows start:stop."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (classification) or values (regression) for X."""

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float | None:
        """The system's own accuracy on (X, y), or None to use predict."""


def load(name: str) -> tuple[Any, dict[str, Any]]:
    """The module implementing system ``name`` and its options."""
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; known: {', '.join(SYSTEMS)}")
    module, options = SYSTEMS[name]
    return importlib.import_module(module), options
