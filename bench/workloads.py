"""The named benchmark jobs: the headline, and variants that each change one thing."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any

HEADLINE = "headline"


@dataclass(frozen=True)
class Workload:
    """One training job, run identically on every system.

    ``sizes`` lists the layer widths, input first (784-256-10 is
    ``(784, 256, 10)``). Targets (test accuracy, R² for regression) are set
    so that PyTorch reaches them in about 3 epochs on MNIST; the
    synthetic ones are rougher. Hidden layers use ``hidden_activation``; the output
    layer ``output_activation`` with ``loss``. ``epoch_samples`` makes an
    "epoch" a fixed number of samples (online learning, where a full pass is
    too slow to repeat); None means the whole training set.
    """

    name: str
    axis: str
    description: str
    sizes: tuple[int, ...] = (784, 256, 10)
    task: str = "multiclass"  # "multiclass", "binary" or "regression"
    hidden_activation: str = "relu"
    output_activation: str = "softmax"
    loss: str = "cross_entropy"
    init: str = "he"
    optimizer: str = "adam"  # "adam", "sgd" or "momentum"
    lr: float = 1e-3
    momentum: float = 0.0
    batch_size: int = 128
    dtype: str = "float32"
    epochs: int = 5
    epoch_samples: int | None = None
    target_mnist: float = 0.97
    target_synthetic: float = 0.80
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_params(self) -> int:
        """Weights and biases of all layers."""
        return sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def metric(self) -> str:
        """The test metric the target applies to: accuracy, or R² for regression."""
        return "r2" if self.task == "regression" else "accuracy"

    def target(self, source: str) -> float:
        """Target test metric for the data source ("mnist" or "synthetic")."""
        return self.target_mnist if source == "mnist" else self.target_synthetic

    def optimizer_label(self) -> str:
        """Human-readable optimizer, e.g. ``Adam(lr=0.001)``."""
        if self.optimizer == "adam":
            return f"Adam(lr={self.lr:g})"
        if self.optimizer == "momentum":
            return f"SGD(lr={self.lr:g}, momentum={self.momentum:g})"
        return f"SGD(lr={self.lr:g})"

    def label(self) -> str:
        """One-line summary of the architecture and training setup."""
        arch = "-".join(str(s) for s in self.sizes)
        return (
            f"{arch} {self.hidden_activation}/{self.output_activation}, {self.loss}, "
            f"init {self.init}, {self.optimizer_label()}, batch {self.batch_size}, {self.dtype}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, with the derived fields added."""
        d = dataclasses.asdict(self)
        d["sizes"] = list(self.sizes)
        d["notes"] = list(self.notes)
        d["n_params"] = self.n_params
        d["metric"] = self.metric
        d["label"] = self.label()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Workload:
        """Inverse of :meth:`to_dict` (derived fields ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["sizes"] = tuple(kw["sizes"])
        kw["notes"] = tuple(kw.get("notes", ()))
        return cls(**kw)


def _variant(name: str, axis: str, description: str, **changes: Any) -> Workload:
    """The headline with ``changes`` applied."""
    return dataclasses.replace(_HEADLINE, name=name, axis=axis, description=description, **changes)


_HEADLINE = Workload(
    name=HEADLINE,
    axis="headline",
    description="MNIST-shaped 784-256-10, Adam 1e-3, batch 128, float32",
)

_REGRESSION = dict(
    task="regression",
    sizes=(784, 256, 1),
    output_activation="linear",
    loss="mse",
    target_mnist=0.94,
    target_synthetic=0.92,
)

WORKLOADS: tuple[Workload, ...] = (
    _HEADLINE,
    _variant("mlp-512-256", "depth", "two hidden layers 512-256", sizes=(784, 512, 256, 10)),
    _variant(
        "batch-1",
        "batch",
        "online learning: batch 1, each epoch a fixed 5,000 steps",
        batch_size=1,
        epoch_samples=5000,
        target_mnist=0.93,
        target_synthetic=0.30,
    ),
    _variant("batch-32", "batch", "batch 32", batch_size=32),
    _variant("batch-1024", "batch", "batch 1024", batch_size=1024),
    _variant(
        "width-64",
        "width",
        "one hidden layer of 64",
        sizes=(784, 64, 10),
        target_mnist=0.96,
        target_synthetic=0.60,
    ),
    _variant("width-1024", "width", "one hidden layer of 1024", sizes=(784, 1024, 10)),
    _variant("width-4096", "width", "one hidden layer of 4096", sizes=(784, 4096, 10), epochs=3),
    _variant("depth-2", "depth", "2 hidden layers of 256", sizes=(784, 256, 256, 10)),
    _variant("depth-4", "depth", "4 hidden layers of 256", sizes=(784, *[256] * 4, 10)),
    _variant("depth-8", "depth", "8 hidden layers of 256", sizes=(784, *[256] * 8, 10)),
    _variant("float64", "dtype", "float64 instead of float32", dtype="float64"),
    _variant(
        "regression",
        "task",
        "regression: linear output, squared error, target from a fixed random tanh teacher",
        **_REGRESSION,
    ),
    _variant(
        "binary",
        "task",
        "binary: sigmoid output + binary cross-entropy, label = digit >= 5 (MNIST)",
        task="binary",
        sizes=(784, 256, 1),
        output_activation="sigmoid",
        loss="binary_cross_entropy",
        target_mnist=0.97,
        target_synthetic=0.95,
    ),
    _variant(
        "sgd",
        "optimizer",
        "plain SGD lr 0.1",
        optimizer="sgd",
        lr=0.1,
        target_mnist=0.95,
        target_synthetic=0.60,
    ),
    _variant(
        "momentum",
        "optimizer",
        "SGD lr 0.01 with momentum 0.9",
        optimizer="momentum",
        lr=0.01,
        momentum=0.9,
        target_mnist=0.95,
        target_synthetic=0.75,
    ),
)

# --quick: the headline with 2 epochs, one small width variant, one regression.
QUICK: tuple[str, ...] = (HEADLINE, "width-64", "regression")
QUICK_EPOCHS = 2

# --smoke: tiny jobs on tiny synthetic data, for the test suite (seconds).
SMOKE: tuple[Workload, ...] = (
    dataclasses.replace(
        _HEADLINE, name="smoke-classify", sizes=(784, 32, 10), epochs=2, description="smoke test"
    ),
    dataclasses.replace(
        _HEADLINE,
        name="smoke-regression",
        axis="task",
        description="smoke test",
        epochs=2,
        **{**_REGRESSION, "sizes": (784, 32, 1)},
    ),
)
SMOKE_N_TRAIN = 1024
SMOKE_N_TEST = 256


def by_name() -> dict[str, Workload]:
    """All named workloads (the smoke ones included)."""
    return {w.name: w for w in (*WORKLOADS, *SMOKE)}


def named(parser: argparse.ArgumentParser, only: str) -> list[Workload]:
    """The workloads of a comma-separated ``--only``; the parser's error on an unknown name."""
    table = by_name()
    unknown = [name for name in only.split(",") if name not in table]
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; one of {', '.join(table)}")
    return [table[name] for name in only.split(",")]


def select(only: list[str] | None, quick: bool, smoke: bool, epochs: int | None) -> list[Workload]:
    """The workloads a run uses, with ``epochs`` applied when given."""
    table = by_name()
    if only:
        unknown = [n for n in only if n not in table]
        if unknown:
            raise ValueError(f"unknown workload(s) {unknown}; known: {', '.join(table)}")
        chosen = [table[n] for n in only]
    elif smoke:
        chosen = list(SMOKE)
    elif quick:
        chosen = [dataclasses.replace(table[n], epochs=QUICK_EPOCHS) for n in QUICK]
    else:
        chosen = list(WORKLOADS)
    if epochs is not None:
        chosen = [dataclasses.replace(w, epochs=epochs) for w in chosen]
    return chosen
