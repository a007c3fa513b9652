"""``backprop train`` on data streamed from disk: a directory of .npy shards or a .npy file.

The training samples are never loaded whole: the network trains on batches
that ``fit`` reads through :mod:`backprop.streaming` (its shuffle buffer, of
--buffer-size samples or its default size). What needs every sample is read
block by block first: the targets (to find the task and the classes; m
numbers) and, when --scale asks for it, each column's statistics. The test
set (X_test.npy / y_test.npy in a shard directory) is small and loaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from backprop.datasets import Dataset, Scaler
from backprop.datasets.base import Task
from backprop.errors import DataError
from backprop.streaming import NpyFile, NpyShards, Source, open_source

if TYPE_CHECKING:
    from backprop.cli.option_table import TrainingOptions

#: Rows of the training data kept in memory as its sample (the boundary plot's points).
SAMPLE_ROWS = 1000


def is_streamed_spec(spec: str) -> bool:
    """Whether a dataset argument names data to stream: a .npy file, or a directory
    holding .npy shards (or nothing at all, which the shard reader then names)."""
    path = Path(spec)
    if path.suffix.lower() == ".npy":
        return True
    try:
        return path.is_dir() and (any(path.glob("*.npy")) or not any(path.iterdir()))
    except OSError:  # an unreadable folder: the dataset reader names it
        return False


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StreamedDataset(Dataset):
    """A Dataset whose training samples stay on disk, in ``source``; X_train and y_train
    hold only its first rows, unscaled (a sample, for plots), the test set is whole."""

    source: Source | None = None

    @property
    def n_train(self) -> int:
        return 0 if self.source is None else self.source.n_samples


def _classes(targets: np.ndarray) -> np.ndarray | None:
    """The sorted class labels when every target is a whole number (1-D), else None."""
    if targets.ndim != 1:
        return None
    if targets.dtype.kind in "biu" or (targets.dtype.kind == "f"
                                       and bool(np.all(targets == np.round(targets)))):
        return np.unique(targets)
    return None


def _scaler(source: Source, kind: str) -> Scaler:
    """A Scaler fitted on every training sample, read block by block."""
    stats = source.column_statistics()
    if kind == "standard":
        offset, spread = stats["mean"], stats["std"]
    else:
        offset, spread = stats["min"], stats["max"] - stats["min"]
    return Scaler.from_state({"kind": kind, "offset": offset,
                              "scale": np.where(spread > 0, spread, 1.0)})


def streamed_arrays(
    spec: str, o: TrainingOptions
) -> tuple[Dataset, Source, None, np.ndarray | None, np.ndarray | None, Scaler | None]:
    """(data, source, None, X_test, y_test, scaler), as ``training_arrays`` gives for data
    in memory; the source goes to ``fit`` in place of X (with y None)."""
    for flag, value in (("--classes", o.classes), ("--train-samples", o.train_samples)):
        if value:
            raise DataError(f"{flag} does not apply to data streamed from {spec}; write the "
                            "shards you want to train on")
    if o.validation_split is not None:
        raise DataError(f"--validation-split does not apply to data streamed from {spec}: "
                        "nothing is held back from a stream; a shard folder's X_test.npy and "
                        "y_test.npy are its test set")
    source = open_source(spec, buffer_size=o.buffer_size)
    assert isinstance(source, NpyShards | NpyFile)
    targets = source.targets()
    test = source.test_arrays() if isinstance(source, NpyShards) else None
    X_test = None if test is None else np.asarray(test[0], dtype=np.float32)
    y_test = None if test is None else test[1]
    classes = _classes(targets)
    task: Task = "regression" if classes is None else "classification"
    first = source.read(0, 0, min(SAMPLE_ROWS, source.parts()[0]))
    sample_X, sample_y = np.asarray(first[0], dtype=np.float32), first[1]
    if classes is not None:
        def to_codes(y: np.ndarray, where: str) -> np.ndarray:
            codes = np.searchsorted(classes, y)
            unknown = (codes >= len(classes)) | (classes[np.minimum(codes, len(classes) - 1)]
                                                 != y)
            if unknown.any():
                row = int(np.argmax(unknown))
                raise DataError(f"{where}: label {y[row]} at row {row} is not among the "
                                "training labels")
            return codes.astype(np.int64)

        source.target_transform = lambda y: to_codes(y, source.where)
        sample_y = to_codes(sample_y, source.where)
        y_test = None if y_test is None else to_codes(y_test, f"{spec}/y_test.npy")
        n_classes: int | None = len(classes)
        names = None if np.array_equal(classes, np.arange(len(classes))) else tuple(
            str(c) for c in classes.tolist())
    else:
        n_classes, names = None, None
        sample_y = np.asarray(sample_y, dtype=np.float32)
        y_test = None if y_test is None else np.asarray(y_test, dtype=np.float32)
    scaler = None
    if o.scale != "none":
        scaler = _scaler(source, o.scale)
        fitted = scaler
        source.transform = lambda X: np.asarray(fitted.transform(X), dtype=np.float32)
        if X_test is not None:
            X_test = np.asarray(scaler.transform(X_test), dtype=np.float32)
    data = StreamedDataset(sample_X, sample_y, X_test, y_test,
                           name=Path(spec).stem or Path(spec).resolve().name, task=task,
                           n_classes=n_classes, class_names=names, source=source)
    return data, source, None, X_test, y_test, scaler
