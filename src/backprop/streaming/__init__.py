"""Training data larger than memory: batches read from disk, shuffled within a buffer.

Where the samples come from (a *source*):

- an array: a ``np.memmap``, ``np.load(path, mmap_mode="r")``, or any 2-D
  array, with its targets y (in memory or mapped too): :class:`ArraySource`;
- one large ``.npy`` file whose last column is the target: :class:`NpyFile`,
  read one window of rows at a time (never mapped whole, so it works under an
  address-space limit);
- a directory of ``.npy`` shards: :class:`NpyShards`. A shard is a pair of
  files ``X<key>.npy`` (m_i, n_features) and ``y<key>.npy`` (m_i,) or
  (m_i, k) with the same ``<key>``, e.g. ``X_000.npy`` + ``y_000.npy``, or
  ``X.npy`` + ``y.npy`` for one shard; ``X_test.npy`` + ``y_test.npy``, if
  present, are the test set and are not trained on;
- a CSV file, one sample per row, read a block of rows at a time: :class:`CsvFile`;
- an iterable of (X, y) batches of any sizes: :class:`BatchIterable` (a list,
  or a function returning a fresh iterator for each epoch).

How an epoch reads them (:func:`shuffled_batches`): the source is cut into
blocks of contiguous rows (a shard is cut too), the blocks are read in a
random order, and their rows are copied into a *shuffle buffer* of
``buffer_size`` samples. When the buffer is full its rows are permuted and
handed out as batches; the rows too few to fill a last batch stay in the
buffer and mix with the next blocks. Each sample is seen exactly once per
epoch. A larger buffer mixes better: with buffer_size ≥ the number of
samples, every epoch is a full random permutation, as in memory.

Memory: a *memory budget* (``memory_budget=``, else the environment variable
``BACKPROP_MEMORY_BUDGET``, else 128 MiB) bounds what streaming holds at
once: by default the buffer takes half of it, a block being read an eighth of
the buffer's rows, and every pass outside training (the targets, the column
statistics) reads blocks of the same size (:mod:`backprop.streaming.budget`).
A file streamed from disk may be of any size: only what is allocated is held
to ``BACKPROP_MAX_ARRAY_BYTES``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from backprop.errors import DataError
from backprop.files.io import check_regular_file
from backprop.streaming.batches import StreamBatches, buffer_rows, shuffled_batches
from backprop.streaming.budget import memory_budget as check_budget
from backprop.streaming.budget import plan_rows
from backprop.streaming.csv_file import CsvFile
from backprop.streaming.npy import NpyFile, NpyShards
from backprop.streaming.sources import DEFAULT_BUFFER_BYTES, ArraySource, BatchIterable, Source

__all__ = [
    "DEFAULT_BUFFER_BYTES",
    "ArraySource",
    "BatchIterable",
    "CsvFile",
    "NpyFile",
    "NpyShards",
    "Source",
    "StreamBatches",
    "buffer_rows",
    "is_streamed",
    "open_source",
    "scan",
    "shuffled_batches",
]


def open_source(X: Any, y: Any = None, *, buffer_size: int | None = None,
                memory_budget: int | None = None) -> Source | BatchIterable:
    """A source for ``fit``: an (X, y) pair of arrays or memmaps; a path to a shard
    directory, a large .npy file or a CSV file (y None); an iterable of (X, y) batches (y
    None); or a source already made (returned as it is). ``buffer_size``: the shuffle
    buffer's samples (default: half the memory budget of rows); ``memory_budget``: the
    bytes streaming may hold at once (default: BACKPROP_MEMORY_BUDGET, else 128 MiB)."""
    source: Source | BatchIterable
    if isinstance(X, Source | BatchIterable | str | Path) and y is not None:
        raise ValueError("the targets come with the source here; pass y=None")
    if memory_budget is not None:
        check_budget(memory_budget)
    if isinstance(X, Source | BatchIterable):
        source = X
    elif isinstance(X, str | Path):
        path = Path(X)
        if path.suffix.lower() == ".npy":
            source = NpyFile(path)  # refuses a folder, FIFO, device or link loop, naming it
        elif path.suffix.lower() == ".csv":
            source = CsvFile(path, memory_budget=memory_budget)
        elif path.is_dir():
            source = NpyShards(path)
        else:
            check_regular_file(path, "data file", DataError)  # names a device, FIFO, loop
            raise DataError(f"{path}: expected a directory of .npy shards, a .npy file or "
                            "a .csv file")
    elif y is None:
        source = BatchIterable(X)
    else:
        source = ArraySource(X, y)
    if memory_budget is not None:
        source.memory_budget = memory_budget
    if buffer_size is not None:
        width = getattr(source, "n_features", 1)
        plan_rows(width, 4, 1, buffer_size=buffer_size, budget=source.memory_budget)  # checks it
        source.buffer_size = buffer_size
    return source


def is_streamed(X: Any) -> bool:
    """Whether ``fit`` should stream X: a memmap, a path, a source, or an iterable of
    (X, y) batches (not an in-memory array, list of rows or DataFrame)."""
    if isinstance(X, np.memmap | str | Path | Source | BatchIterable):
        return True
    if isinstance(X, np.ndarray) or hasattr(X, "__array__") or hasattr(X, "shape"):
        return False
    if isinstance(X, list | tuple):  # rows of numbers, or a list of (X, y) batches
        return bool(X) and isinstance(X[0], tuple | list) and len(X[0]) == 2 and hasattr(
            X[0][0], "shape")
    return callable(X) or isinstance(X, Iterator | Iterable)


def scan(source: Source | BatchIterable) -> tuple[np.ndarray, int, np.dtype[Any]]:
    """(every target, the number of features, the features' dtype) of a source: for an
    iterable, one pass over its batches (which must be readable again: a list or a
    function, not a one-shot iterator)."""
    if isinstance(source, Source):
        return source.targets(), source.n_features, source.dtype
    if source.one_shot:
        raise DataError("the batches are read twice here (once for the targets and "
                        "widths); give a list, or a function that returns a fresh iterator")
    targets, widths, dtypes = [], set(), set()
    for X, y in source.chunks(0, None):
        targets.append(y)
        widths.add(X.shape[1])
        dtypes.add(X.dtype)
    if not targets:
        raise DataError("the iterable holds no batches")
    if len(widths) > 1:
        raise DataError(f"the batches have different numbers of features: {sorted(widths)}")
    return np.concatenate(targets), widths.pop(), np.result_type(*dtypes)
