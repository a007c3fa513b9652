"""``backprop train`` on data streamed from disk: a directory of .npy shards, a .npy file,
or a CSV file larger than the memory budget.

The training samples are never loaded whole: the network trains on batches
that ``fit`` reads through :mod:`backprop.streaming` (its shuffle buffer, of
--buffer-size samples or half the memory budget). What needs every sample is
read block by block first: the targets (to find the task and the classes; m
numbers) and, when --scale asks for it, each column's statistics, summed by
the accumulator that scaling data in memory uses (the same scaler, bit for
bit). The test set (X_test.npy / y_test.npy in a shard directory) is small
and loaded. The budget (--memory-budget, BACKPROP_MEMORY_BUDGET, 128 MiB)
bounds every block read and the buffer (:mod:`backprop.streaming.budget`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from backprop.datasets import Dataset, Scaler
from backprop.datasets.base import Task, encode_labels
from backprop.errors import DataError, OptionError
from backprop.streaming import CsvFile, NpyFile, NpyShards, Source, open_source
from backprop.streaming.budget import memory_budget, plan_rows, show_bytes

if TYPE_CHECKING:
    from backprop.cli.option_table import TrainingOptions
    from backprop.datasets.scaling import ScalerKind

#: Rows of the training data kept in memory as its sample (the boundary plot's points).
SAMPLE_ROWS = 1000


def is_streamed_spec(spec: str, budget: int | None = None) -> bool:
    """Whether a dataset argument names data to stream: a .npy file, a directory holding
    .npy shards (or nothing at all, which the shard reader then names), or a CSV file
    larger than the memory budget (``budget``, else BACKPROP_MEMORY_BUDGET or 128 MiB)."""
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return True
    try:
        if suffix == ".csv":
            return path.is_file() and path.stat().st_size > memory_budget(budget)
        return path.is_dir() and (any(path.glob("*.npy")) or not any(path.iterdir()))
    except OSError:  # an unreadable folder or file: the dataset reader names it
        return False


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class StreamedDataset(Dataset):
    """A Dataset whose training samples stay on disk, in ``source``; X_train and y_train
    hold only its first rows, unscaled (a sample, for plots), the test set is whole."""

    source: Source | None = None
    budget: int = 0

    @property
    def n_train(self) -> int:
        return 0 if self.source is None else self.source.n_samples

    def summary(self) -> str:
        """The line of every dataset, and that it streams from disk, within which budget."""
        return (f"{super().summary()}; streamed from disk with a memory budget of "
                f"{show_bytes(self.budget)}")


def _classes(targets: np.ndarray) -> np.ndarray | None:
    """The sorted class labels when every target is a label or a whole number (1-D), else
    None."""
    if targets.ndim != 1:
        return None
    if targets.dtype.kind in "USbiu" or (targets.dtype.kind == "f"
                                         and bool(np.all(targets == np.round(targets)))):
        return np.unique(targets)
    return None


def _source(spec: str, o: TrainingOptions, options: dict[str, Any], budget: int
            ) -> Source:
    """The source ``spec`` names, with the memory budget and the buffer asked for."""
    if Path(spec).suffix.lower() == ".csv":
        if options.get("test_fraction"):
            raise OptionError(
                f"--test-fraction does not apply to {spec}, streamed from disk (it is larger "
                f"than the memory budget of {show_bytes(budget)}): nothing is held back from "
                "a stream; split the file, or give --memory-budget above its size to load it")
        source: Source = CsvFile(spec, target=options.get("target"), task=options.get("task"),
                                 memory_budget=budget)
    else:
        opened = open_source(spec, memory_budget=budget)
        assert isinstance(opened, NpyShards | NpyFile)
        source = opened
    source.memory_budget = budget
    if o.buffer_size is not None:
        plan_rows(source.n_features, np.dtype(o.dtype).itemsize, 1,
                  buffer_size=o.buffer_size, budget=budget)  # one line if it cannot fit
        source.buffer_size = o.buffer_size
    return source


def streamed_arrays(
    spec: str, o: TrainingOptions, options: dict[str, Any]
) -> tuple[Dataset, Source, None, np.ndarray | None, np.ndarray | None, Scaler | None]:
    """(data, source, None, X_test, y_test, scaler), as ``training_arrays`` gives for data
    in memory; the source goes to ``fit`` in place of X (with y None). ``options``: a CSV
    file's target and task."""
    for flag, value in (("--classes", o.classes), ("--train-samples", o.train_samples)):
        if value:
            raise DataError(f"{flag} does not apply to data streamed from {spec}; write the "
                            "shards you want to train on")
    if o.validation_split is not None:
        raise DataError(f"--validation-split does not apply to data streamed from {spec}: "
                        "nothing is held back from a stream; a shard folder's X_test.npy and "
                        "y_test.npy are its test set")
    budget = memory_budget(o.memory_budget)  # BACKPROP_MEMORY_BUDGET checked too
    source = _source(spec, o, options, budget)
    targets = source.targets()
    test = source.test_arrays() if isinstance(source, NpyShards) else None
    X_test = None if test is None else np.asarray(test[0], dtype=np.float32)
    y_test = None if test is None else test[1]
    if isinstance(source, CsvFile):  # load_csv's rule, read with the target column
        classes = np.unique(targets) if source.task == "classification" else None
    else:
        classes = _classes(targets)
    del targets  # m numbers, kept no longer than needed
    task: Task = "regression" if classes is None else "classification"
    first = source.read(0, 0, min(SAMPLE_ROWS, source.parts()[0]))
    sample_X, sample_y = np.asarray(first[0], dtype=np.float32), first[1]
    if classes is not None:
        known = classes

        def to_codes(y: np.ndarray, where: str) -> np.ndarray:
            codes = np.searchsorted(known, y)
            unknown = (codes >= len(known)) | (known[np.minimum(codes, len(known) - 1)] != y)
            if unknown.any():
                row = int(np.argmax(unknown))
                raise DataError(f"{where}: label {y[row]} at row {row} is not among the "
                                "training labels")
            return codes.astype(np.int64)

        source.target_transform = lambda y: to_codes(y, source.where)
        sample_y = to_codes(sample_y, source.where)
        y_test = None if y_test is None else to_codes(y_test, f"{spec}/y_test.npy")
        n_classes: int | None = len(classes)
        numbered = classes.dtype.kind in "biuf" and np.array_equal(classes,
                                                                  np.arange(len(classes)))
        names = None if numbered and not isinstance(source, CsvFile) else (
            encode_labels([classes])[1])
    else:
        n_classes, names = None, None
        sample_y = np.asarray(sample_y, dtype=np.float32)
        y_test = None if y_test is None else np.asarray(y_test, dtype=np.float32)
    scaler = None
    if o.scale != "none":
        scaler = Scaler.from_statistics(cast("ScalerKind", o.scale), source.column_statistics())
        fitted = scaler
        source.transform = lambda X: np.asarray(fitted.transform(X), dtype=np.float32)
        if X_test is not None:
            X_test = np.asarray(scaler.transform(X_test), dtype=np.float32)
    feature_names = (tuple(n for j, n in enumerate(source.names) if j != source.t)
                     if isinstance(source, CsvFile) and source.names is not None else None)
    data = StreamedDataset(sample_X, sample_y, X_test, y_test,
                           name=Path(spec).stem or Path(spec).resolve().name, task=task,
                           n_classes=n_classes, class_names=names,
                           feature_names=feature_names, source=source, budget=budget)
    return data, source, None, X_test, y_test, scaler
