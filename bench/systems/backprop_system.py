"""backprop itself, driven through its public API."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from bench.data import Dataset
from bench.workloads import Workload

_API = ("Network", "Dense", "Adam", "SGD")


def problem() -> str | None:
    """Why the backprop engine cannot run here, or None."""
    try:
        import backprop as bp
    except ImportError as exc:
        return f"backprop engine not available (import failed: {exc})"
    missing = [name for name in _API if not hasattr(bp, name)]
    if missing:
        version = getattr(bp, "__version__", "?")
        return f"backprop engine not available (backprop {version} has no {', '.join(missing)})"
    return None


def network_and_optimizer(workload: Workload) -> tuple[Any, Any]:
    """The workload's bp.Network of bp.Dense layers (seed 0) and its optimizer."""
    import backprop as bp

    pairs = list(zip(workload.sizes[:-1], workload.sizes[1:], strict=True))
    layers = [
        bp.Dense(
            n_in,
            n_out,
            activation=(
                workload.output_activation if i == len(pairs) - 1 else workload.hidden_activation
            ),
        )
        for i, (n_in, n_out) in enumerate(pairs)
    ]
    net = bp.Network(layers, loss=workload.loss, init=workload.init, seed=0, dtype=workload.dtype)
    if workload.optimizer == "adam":
        return net, bp.Adam(lr=workload.lr)
    return net, bp.SGD(lr=workload.lr, momentum=workload.momentum)


class BackpropTrainer:
    """bp.Network of bp.Dense layers; fit(epochs=1) per epoch with one optimizer object."""

    def __init__(
        self, workload: Workload, data: Dataset, threads: int, levers: tuple[str, ...] = ()
    ) -> None:
        import backprop as bp

        self.version = getattr(bp, "__version__", "?")
        self.notes = [f"backprop {self.version}: fit(epochs=1) per epoch, one optimizer object"]
        self.task = workload.task
        self.batch_size = workload.batch_size
        self.net, self.opt = network_and_optimizer(workload)
        if "compiled" in levers:
            self.net.compiled = True
            self.notes.append(_where_the_passes_come_from(levers))
        self.X, self.y = data.X_train, data.y_train
        # Quiet fit if it has a switch for its progress output.
        fit_params = inspect.signature(self.net.fit).parameters
        self.fit_extra: dict[str, Any] = {
            k: v for k, v in (("verbose", 0), ("progress", False)) if k in fit_params
        }
        if "numba" in levers:
            self.opt.compiled_step = True
        if levers:
            from bench.systems import LEVERS

            done = "; ".join(LEVERS[lever][0] for lever in levers)
            self.notes.append(f"backprop+{'+'.join(levers)}: {done}")

    def train_epoch(self, start: int, stop: int) -> None:
        """net.fit for one shuffled epoch over rows start:stop."""
        self.net.fit(
            self.X[start:stop],
            self.y[start:stop],
            epochs=1,
            batch_size=self.batch_size,
            optimizer=self.opt,
            shuffle=True,
            **self.fit_extra,
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """net.predict: labels or values."""
        return np.asarray(self.net.predict(X))

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float | None:
        """net.evaluate(X, y)["accuracy"] for classification; None for regression."""
        if self.task == "regression":
            return None
        return float(self.net.evaluate(X, y)["accuracy"])


def _where_the_passes_come_from(levers: tuple[str, ...]) -> str:
    """Whether the compiled passes run from the module built ahead of time (no numba in the
    process) or are compiled by numba."""
    from backprop import prebuilt as aot

    if "numba2" not in levers and aot.loaded_module() is not None:
        return "backprop+compiled: the passes from the module built ahead of time"
    return "backprop+compiled: the passes compiled by numba (no module built ahead of time)"


def make_trainer(
    workload: Workload, data: Dataset, threads: int, levers: tuple[str, ...] = ()
) -> BackpropTrainer:
    """A backprop trainer for the workload, with the engine levers named in ``levers`` on."""
    return BackpropTrainer(workload, data, threads, levers)
