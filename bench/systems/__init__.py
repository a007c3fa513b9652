"""The systems under test, each behind the same small :class:`Trainer` interface.

A system module provides ``problem() -> str | None`` (why it cannot run
here, or None) and ``make_trainer(workload, data, threads, **options)``.
Modules are imported lazily, inside the child process that runs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # numpy loads in the child only after its thread counts are set
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

#: Engine levers that are off by default, for measuring them in turns against the default:
#: ``backprop+numba+blas-sleep`` is backprop with those two levers on. Each lever: what it
#: does, and the environment its process needs (set before NumPy loads).
LEVERS: dict[str, tuple[str, dict[str, str]]] = {
    "numba": ("the optimizer's step in one compiled pass per block (compiled_step = True)", {}),
    "compiled": (
        "the step's elementwise work as fused compiled passes (Network(compiled=True))", {}
    ),
    "blas-sleep": (
        "OpenBLAS's idle workers sleep at once instead of spinning (OPENBLAS_THREAD_TIMEOUT=4)",
        {"OPENBLAS_THREAD_TIMEOUT": "4"},
    ),
    "blas1": ("OpenBLAS on one thread (OPENBLAS_NUM_THREADS=1)", {"OPENBLAS_NUM_THREADS": "1"}),
    "split2": (
        "the batch cut in two halves, each half's backprop on its own thread, OpenBLAS on "
        "one thread (BACKPROP_BATCH_THREADS=2, OPENBLAS_NUM_THREADS=1)",
        {"BACKPROP_BATCH_THREADS": "2", "OPENBLAS_NUM_THREADS": "1"},
    ),
    "numba2": (
        "the compiled passes on numba's pool of two threads, each pass cut in two "
        "(BACKPROP_COMPILED_THREADS=2, NUMBA_NUM_THREADS=2)",
        {"BACKPROP_COMPILED_THREADS": "2", "NUMBA_NUM_THREADS": "2"},
    ),
}


def levers_of(name: str) -> tuple[str, ...] | None:
    """The levers of a ``backprop+LEVER[+LEVER]`` name: () for a plain system, None if unknown."""
    base, *levers = name.split("+")
    if not levers:
        return () if name in SYSTEMS else None
    if base != "backprop" or any(lever not in LEVERS for lever in levers):
        return None
    return tuple(levers)


def environment(name: str) -> dict[str, str]:
    """Environment variables system ``name`` needs before NumPy is imported."""
    env: dict[str, str] = {}
    for lever in levers_of(name) or ():
        env.update(LEVERS[lever][1])
    return env


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
    levers = levers_of(name)
    if levers is None:
        raise ValueError(f"unknown system {name!r}; known: {', '.join(SYSTEMS)}")
    module, options = SYSTEMS[name.split("+")[0]]
    if levers:
        options = {**options, "levers": levers}
    return importlib.import_module(module), options
