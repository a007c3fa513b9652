"""Where streamed samples come from: a source reads blocks of rows into memory.

A :class:`Source` is cut into blocks of contiguous rows (:meth:`Source.blocks`)
and reads one block at a time; :class:`ArraySource` reads an array or a
memmap, :mod:`backprop.streaming.npy` reads .npy files, and
:class:`BatchIterable` takes (X, y) batches from an iterable as they come.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop.datasets.statistics import ColumnAccumulator, Statistics
from backprop.errors import DataError
from backprop.limits import LIMITS
from backprop.streaming.budget import BUFFER_SHARE, read_rows

#: The shuffle buffer's size, in bytes of rows, under the default memory budget.
DEFAULT_BUFFER_BYTES = LIMITS["BACKPROP_MEMORY_BUDGET"] // BUFFER_SHARE


@dataclass(frozen=True)
class Block:
    """Rows [start, stop) of one part (an array, a file or a shard) of a source."""

    part: int
    start: int
    stop: int


class Source:
    """Samples that can be read in blocks of rows; subclasses say from where."""

    n_samples: int
    n_features: int
    where: str
    dtype: np.dtype[Any]  # of the features as stored
    #: Applied to every block read for training: X rows (e.g. a fitted Scaler's
    #: transform) and targets (e.g. labels mapped to 0..k-1).
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    target_transform: Callable[[np.ndarray], np.ndarray] | None = None
    #: The shuffle buffer's samples when fit streams this source (None: the default).
    buffer_size: int | None = None
    #: The bytes its streaming may hold at once (None: BACKPROP_MEMORY_BUDGET or 128 MiB).
    memory_budget: int | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(samples, features), as an array's shape."""
        return (self.n_samples, self.n_features)

    def parts(self) -> list[int]:
        """The number of rows of each part."""
        raise NotImplementedError

    def read(self, part: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """(X rows, y rows) [start, stop) of ``part``, in memory."""
        raise NotImplementedError

    def blocks(self, block_rows: int) -> list[Block]:
        """Every part cut into blocks of at most ``block_rows`` rows, in order."""
        return [Block(p, s, min(s + block_rows, rows))
                for p, rows in enumerate(self.parts()) for s in range(0, rows, block_rows)]

    def chunks(self, block_rows: int, rng: np.random.Generator | None
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The blocks' rows, in a random block order when ``rng`` is given."""
        blocks = self.blocks(block_rows)
        order = rng.permutation(len(blocks)) if rng is not None else range(len(blocks))
        for i in order:
            block = blocks[int(i)]
            X, y = self.read(block.part, block.start, block.stop)
            if self.transform is not None:
                X = self.transform(X)
            if self.target_transform is not None:
                y = self.target_transform(y)
            yield X, y
            del X, y  # gone before the next block is read

    def read_rows(self) -> int:
        """Rows per read in a pass outside training (targets, statistics): a block of the
        memory budget's size (:func:`backprop.streaming.budget.read_rows`)."""
        return read_rows(self.n_features + 1, self.dtype.itemsize, self.memory_budget)

    def column_statistics(self) -> Statistics:
        """Per-column mean, standard deviation, min and max over every sample, read a block
        at a time into the accumulator that ``Scaler.fit`` uses for data in memory: the
        same numbers, bit for bit, as the data loaded whole would give."""
        accumulator = ColumnAccumulator(self.n_features, self.where)
        for block in self.blocks(self.read_rows()):
            X = self.read(block.part, block.start, block.stop)[0]
            accumulator.add(X)
            del X  # the next block is read only once this one is gone
        return accumulator.result()

    def targets(self) -> np.ndarray:
        """Every target, in order (targets are small: m numbers, not m × n)."""
        parts = [self.read_targets(p) for p in range(len(self.parts()))]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def read_targets(self, part: int) -> np.ndarray:
        raise NotImplementedError


def check_block(X: np.ndarray, where: str, first_row: int) -> None:
    """One-line DataError naming the row of the first NaN/inf in a block."""
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        row, col = (int(v) for v in np.argwhere(~np.isfinite(X))[0])
        raise DataError(f"{where}: row {first_row + row}, column {col} is {X[row, col]}; "
                        "NaN/inf is not allowed")


class ArraySource(Source):
    """X (m, n) — a memmap or any array — with targets y (m,) or (m, k)."""

    def __init__(self, X: Any, y: Any, where: str = "X") -> None:
        if not hasattr(X, "shape") or len(X.shape) != 2:
            raise DataError(f"{where}: expected a 2-D array of samples, got "
                            f"{getattr(X, 'shape', type(X).__name__)}")
        if len(y) != X.shape[0]:
            raise DataError(f"{where}: X has {X.shape[0]} rows but y has {len(y)}")
        self.X, self.y, self.where = X, y, where
        self.n_samples, self.n_features = int(X.shape[0]), int(X.shape[1])
        self.dtype = np.dtype(X.dtype)

    def parts(self) -> list[int]:
        return [self.n_samples]

    def read(self, part: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(self.X[start:stop])
        check_block(X, self.where, start)
        return X, np.asarray(self.y[start:stop])

    def read_targets(self, part: int) -> np.ndarray:
        return np.asarray(self.y)


class BatchIterable:
    """(X, y) batches from an iterable: a list or tuple (read again every epoch), a
    function returning a fresh iterator per epoch, or a one-shot iterator (one epoch)."""

    def __init__(self, batches: Iterable[Any] | Callable[[], Iterable[Any]]) -> None:
        self.batches = batches
        self.where = "the batches"
        self.used = False
        self.buffer_size: int | None = None
        self.memory_budget: int | None = None
        self.target_transform: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def one_shot(self) -> bool:
        """Whether the batches can be read only once (an iterator, not a list or function)."""
        return not callable(self.batches) and iter(self.batches) is self.batches

    def chunks(self, block_rows: int, rng: np.random.Generator | None
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.one_shot and self.used:
            raise DataError("the iterator of batches was used up after one epoch; give a list, "
                            "or a function that returns a fresh iterator, to train longer")
        self.used = True
        source = self.batches() if callable(self.batches) else self.batches
        for number, item in enumerate(source, start=1):
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise DataError(f"batch {number}: expected a pair (X, y), got "
                                f"{type(item).__name__}")
            X, y = np.asarray(item[0]), np.asarray(item[1])
            if X.ndim != 2 or y.ndim not in (1, 2) or len(y) != X.shape[0] or 0 in X.shape:
                raise DataError(f"batch {number}: X has shape {X.shape} and y {y.shape}; "
                                "expected (m, n_features) and m targets")
            if X.dtype.kind not in "biuf":  # y may hold labels of any kind
                raise DataError(f"batch {number}: X has dtype {X.dtype}; expected numbers")
            check_block(X, f"batch {number}", 0)
            yield X, y if self.target_transform is None else self.target_transform(y)
