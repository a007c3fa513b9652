"""Sources read from .npy files: one large file, or a directory of X/y shards.

A file is read one window of rows at a time (a memory map of just that
window, copied and unmapped), never mapped whole, so it works under an
address-space limit, and a file of any size is accepted: nothing the header
declares is allocated (a header that declares more bytes than the file holds
is refused). Shards: ``X<key>.npy`` (m_i, n_features) with ``y<key>.npy``
(m_i,) or (m_i, k), e.g. ``X_000.npy`` + ``y_000.npy``, in sorted key order;
``X_test.npy`` + ``y_test.npy`` are the test set, loaded whole (and so held to
``BACKPROP_MAX_ARRAY_BYTES``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from backprop.errors import DataError
from backprop.files.io import check_allocation, open_npy
from backprop.streaming.sources import Source, check_block

#: A shard's features file: X<key>.npy, its targets y<key>.npy.
SHARD_NAME = re.compile(r"^X(?P<key>.*)\.npy$")
TEST_KEY = "_test"
#: A shard's targets file.
TARGETS_NAME = re.compile(r"^y(?P<key>.*)\.npy$")


def _number_kind(dtype: np.dtype[Any]) -> str:
    """Whether an array of ``dtype`` holds whole numbers (labels) or floats (values)."""
    return "floats" if dtype.kind == "f" else "whole numbers"


class _NpyReader:
    """Rows of a 2-D C-order .npy file, read by window (never the whole file at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        header = open_npy(path, ".npy file", DataError)  # a regular file, its size checked
        self.offset = header.offset
        shape, dtype = header.shape, header.dtype
        if header.fortran_order and len(shape) > 1:
            raise DataError(f"{path}: stored in Fortran order; save it with "
                            "np.save(path, np.ascontiguousarray(X))")
        if dtype.kind not in "biuf":
            raise DataError(f"{path}: dtype {dtype}; expected numbers")
        self.shape: tuple[int, ...] = shape
        self.dtype = dtype
        if len(shape) not in (1, 2) or 0 in shape:
            raise DataError(f"{path}: shape {shape}; expected (samples, columns), none empty")

    @property
    def rows(self) -> int:
        return self.shape[0]

    def _window(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) mapped from the file (not read yet)."""
        row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        try:
            return np.memmap(self.path, dtype=self.dtype, mode="r",
                             offset=self.offset + start * row_items * self.dtype.itemsize,
                             shape=(stop - start, *self.shape[1:]))
        except (OSError, ValueError) as error:  # the file changed since its header was read
            raise DataError(f"{self.path}: cannot read rows {start} to {stop} ({error})"
                            ) from None

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) as an in-memory array: one window mapped, copied, unmapped."""
        window = self._window(start, stop)
        rows = np.array(window)
        del window  # unmap now: only one window is ever mapped
        return rows

    def read_column(self, start: int, stop: int, column: int) -> np.ndarray:
        """One column of rows [start, stop), copied out of the window (the rest not read
        into memory)."""
        window = self._window(start, stop)
        values = np.array(window[:, column])
        del window
        return values

    def read_all(self) -> np.ndarray:
        """The whole file in memory, held to BACKPROP_MAX_ARRAY_BYTES."""
        nbytes = int(np.prod(self.shape, dtype=object)) * self.dtype.itemsize
        check_allocation(str(self.path), self.shape, nbytes, DataError)
        return self.read(0, self.rows)


class NpyFile(Source):
    """One large .npy file (m, n_features + 1) whose last column is the target."""

    def __init__(self, path: str | Path) -> None:
        self.reader = _NpyReader(Path(path))
        self.where = str(path)
        if len(self.reader.shape) != 2 or self.reader.shape[1] < 2:
            raise DataError(f"{path}: shape {self.reader.shape}; expected (samples, features + "
                            "1 target column), the target last")
        self.n_samples = self.reader.rows
        self.n_features = self.reader.shape[1] - 1
        self.dtype = self.reader.dtype

    def parts(self) -> list[int]:
        return [self.n_samples]

    def read(self, part: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.reader.read(start, stop)
        check_block(rows, self.where, start)
        return rows[:, :-1], rows[:, -1].copy()  # the targets outlive the block: a copy

    def read_targets(self, part: int) -> np.ndarray:
        """The last column, read a window at a time: only the column is copied."""
        step, last = self.read_rows(), self.reader.shape[1] - 1
        targets = np.empty(self.n_samples, dtype=self.dtype)
        for start in range(0, self.n_samples, step):
            stop = min(start + step, self.n_samples)
            targets[start:stop] = self.reader.read_column(start, stop, last)
        return targets


class NpyShards(Source):
    """A directory of X<key>.npy / y<key>.npy pairs (see the module's docstring)."""

    def __init__(self, directory: str | Path) -> None:
        folder = Path(directory)
        self.where = str(folder)
        if not folder.is_dir():
            raise DataError(f"{folder}: no such directory of .npy shards")
        try:
            names = [f.name for f in folder.iterdir()]
        except OSError as error:
            raise DataError(f"cannot read folder {folder}: {error.strerror or error}") from None
        if not names:
            raise DataError(f"{folder} is an empty folder; expected .npy shards (X_000.npy "
                            "with y_000.npy, X_001.npy with y_001.npy, ...)")
        keys = {m["key"] for name in names if (m := SHARD_NAME.match(name))}
        for name in names:  # a targets file without its features is a shard half missing
            if (m := TARGETS_NAME.match(name)) and m["key"] not in keys:
                raise DataError(f"{folder / name}: no features file X{m['key']}.npy beside it")
        if not keys - {TEST_KEY}:
            raise DataError(f"{folder}: no X*.npy shards (name them X_000.npy with "
                            "y_000.npy, X_001.npy with y_001.npy, ...)")
        self.shards: list[tuple[_NpyReader, _NpyReader]] = []
        for key in sorted(keys - {TEST_KEY}):
            self.shards.append(self._pair(folder, key))
        self.n_features = self.shards[0][0].shape[1]
        self.dtype = self.shards[0][0].dtype
        self.n_samples = sum(X.rows for X, _ in self.shards)
        self.test = self._pair(folder, TEST_KEY) if TEST_KEY in keys else None

    def _pair(self, folder: Path, key: str) -> tuple[_NpyReader, _NpyReader]:
        """Shard ``key``'s files, checked against each other and against the first shard."""
        y_path = folder / f"y{key}.npy"
        if not y_path.exists() and not y_path.is_symlink():
            raise DataError(f"{folder / f'X{key}.npy'}: no targets file {y_path.name} beside it")
        X, y = _NpyReader(folder / f"X{key}.npy"), _NpyReader(y_path)
        if len(X.shape) != 2:
            raise DataError(f"{X.path}: shape {X.shape}; expected (samples, features)")
        if X.rows != y.rows:
            raise DataError(f"{X.path} has {X.rows} rows but {y.path.name} has {y.rows}")
        if self.shards:
            first_X, first_y = self.shards[0]
            if X.shape[1] != first_X.shape[1]:
                raise DataError(f"{X.path} has {X.shape[1]} features but "
                                f"{first_X.path.name} has {first_X.shape[1]}")
            if y.shape[1:] != first_y.shape[1:]:
                raise DataError(f"{y.path} has targets of shape {y.shape[1:]} per row but "
                                f"{first_y.path.name} has {first_y.shape[1:]}")
            if _number_kind(y.dtype) != _number_kind(first_y.dtype):
                raise DataError(f"{y.path} holds {_number_kind(y.dtype)} ({y.dtype}) but "
                                f"{first_y.path.name} holds {_number_kind(first_y.dtype)} "
                                f"({first_y.dtype}); save every y shard with one dtype")
        return X, y

    def parts(self) -> list[int]:
        return [X.rows for X, _ in self.shards]

    def read(self, part: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        X_file, y_file = self.shards[part]
        X = X_file.read(start, stop)
        check_block(X, str(X_file.path), start)
        return X, y_file.read(start, stop)

    def read_targets(self, part: int) -> np.ndarray:
        y = self.shards[part][1]
        return y.read(0, y.rows)

    def test_arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(X_test, y_test) in memory, when the directory has them."""
        if self.test is None:
            return None
        X, y = self.test
        return X.read_all(), y.read_all()
