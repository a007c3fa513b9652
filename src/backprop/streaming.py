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
- an iterable of (X, y) batches of any sizes: :class:`BatchIterable` (a list,
  or a function returning a fresh iterator for each epoch).

How an epoch reads them (:func:`shuffled_batches`): the source is cut into
blocks of contiguous rows (a shard is cut too), the blocks are read in a
random order, and their rows are copied into a *shuffle buffer* of
``buffer_size`` samples. When the buffer is full its rows are permuted and
handed out as batches; the rows too few to fill a last batch stay in the
buffer and mix with the next blocks. Each sample is seen exactly once per
epoch. Memory: the buffer (buffer_size × n_features numbers of the
network's dtype), one block being read (at most buffer_size / 8 rows), and
one batch; y of an array source stays where the caller keeps it. The
default buffer holds ``DEFAULT_BUFFER_BYTES`` (64 MiB) of features. A larger
buffer mixes better: with buffer_size ≥ the number of samples, every epoch is
a full random permutation, as in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

DEFAULT_BUFFER_BYTES = 64 * 2**20
#: A shard's features file: X<key>.npy, its targets y<key>.npy.
SHARD_NAME = re.compile(r"^X(?P<key>.*)\.npy$")
TEST_KEY = "_test"
#: Blocks are at most this fraction of the buffer, so that a buffer mixes ≥ 8 blocks.
BLOCKS_PER_BUFFER = 8


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
            yield self.read(block.part, block.start, block.stop)

    def targets(self) -> np.ndarray:
        """Every target, in order (targets are small: m numbers, not m × n)."""
        return np.concatenate([self.read_targets(p) for p in range(len(self.parts()))])

    def read_targets(self, part: int) -> np.ndarray:
        raise NotImplementedError


def _check_block(X: np.ndarray, where: str, first_row: int) -> None:
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

    def parts(self) -> list[int]:
        return [self.n_samples]

    def read(self, part: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(self.X[start:stop])
        _check_block(X, self.where, start)
        return X, np.asarray(self.y[start:stop])

    def read_targets(self, part: int) -> np.ndarray:
        return np.asarray(self.y)


class _NpyReader:
    """Rows of a 2-D C-order .npy file, read by window (never the whole file at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open("rb") as file:
                version = np.lib.format.read_magic(file)
                shape, fortran, dtype = (np.lib.format.read_array_header_1_0(file)
                                         if version == (1, 0)
                                         else np.lib.format.read_array_header_2_0(file))
                self.offset = file.tell()
        except (OSError, ValueError) as error:
            raise DataError(f"{path}: not a NumPy .npy file ({error})") from None
        if fortran and len(shape) > 1:
            raise DataError(f"{path}: stored in Fortran order; save it with "
                            "np.save(path, np.ascontiguousarray(X))")
        if dtype.hasobject or dtype.kind not in "biuf":
            raise DataError(f"{path}: dtype {dtype}; expected numbers")
        self.shape: tuple[int, ...] = tuple(int(s) for s in shape)
        self.dtype = dtype
        if len(self.shape) not in (1, 2) or self.shape[0] == 0:
            raise DataError(f"{path}: shape {self.shape}; expected (samples, columns)")

    @property
    def rows(self) -> int:
        return self.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) as an in-memory array: one window mapped, copied, unmapped."""
        row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        window = np.memmap(self.path, dtype=self.dtype, mode="r",
                           offset=self.offset + start * row_items * self.dtype.itemsize,
                           shape=(stop - start, *self.shape[1:]))
        rows = np.array(window)
        del window  # unmap now: only one window is ever mapped
        return rows


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

    def parts(self) -> list[int]:
        return [self.n_samples]

    def read(self, part: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.reader.read(start, stop)
        _check_block(rows, self.where, start)
        return rows[:, :-1], rows[:, -1]

    def read_targets(self, part: int) -> np.ndarray:
        block = max(1, DEFAULT_BUFFER_BYTES // (self.reader.shape[1] * self.reader.dtype.itemsize))
        return np.concatenate([self.read(0, s, min(s + block, self.n_samples))[1]
                               for s in range(0, self.n_samples, block)])


class NpyShards(Source):
    """A directory of X<key>.npy / y<key>.npy pairs (see the module's docstring)."""

    def __init__(self, directory: str | Path) -> None:
        folder = Path(directory)
        self.where = str(folder)
        if not folder.is_dir():
            raise DataError(f"{folder}: no such directory of .npy shards")
        keys = sorted(m["key"] for f in folder.iterdir() if (m := SHARD_NAME.match(f.name))
                      and m["key"] != TEST_KEY)
        if not keys:
            raise DataError(f"{folder}: no X*.npy shards (name them X_000.npy with "
                            "y_000.npy, X_001.npy with y_001.npy, ...)")
        self.shards: list[tuple[_NpyReader, _NpyReader]] = []
        for key in keys:
            X, y = self._pair(folder, key)
            if len(X.shape) != 2:
                raise DataError(f"{X.path}: shape {X.shape}; expected (samples, features)")
            if self.shards and X.shape[1] != self.shards[0][0].shape[1]:
                raise DataError(f"{X.path} has {X.shape[1]} features but "
                                f"{self.shards[0][0].path.name} has {self.shards[0][0].shape[1]}")
            self.shards.append((X, y))
        self.n_features = self.shards[0][0].shape[1]
        self.n_samples = sum(X.rows for X, _ in self.shards)
        self.test = self._pair(folder, TEST_KEY) if (folder / "X_test.npy").exists() else None

    @staticmethod
    def _pair(folder: Path, key: str) -> tuple[_NpyReader, _NpyReader]:
        y_path = folder / f"y{key}.npy"
        if not y_path.is_file():
            raise DataError(f"{folder / f'X{key}.npy'}: no targets file {y_path.name} beside it")
        X, y = _NpyReader(folder / f"X{key}.npy"), _NpyReader(y_path)
        if X.rows != y.rows:
            raise DataError(f"{X.path} has {X.rows} rows but {y.path.name} has {y.rows}")
        return X, y

    def parts(self) -> list[int]:
        return [X.rows for X, _ in self.shards]

    def read(self, part: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        X_file, y_file = self.shards[part]
        X = X_file.read(start, stop)
        _check_block(X, str(X_file.path), start)
        return X, y_file.read(start, stop)

    def read_targets(self, part: int) -> np.ndarray:
        y = self.shards[part][1]
        return y.read(0, y.rows)

    def test_arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(X_test, y_test) in memory, when the directory has them."""
        if self.test is None:
            return None
        X, y = self.test
        return X.read(0, X.rows), y.read(0, y.rows)


class BatchIterable:
    """(X, y) batches from an iterable: a list or tuple (read again every epoch), a
    function returning a fresh iterator per epoch, or a one-shot iterator (one epoch)."""

    def __init__(self, batches: Iterable[Any] | Callable[[], Iterable[Any]]) -> None:
        self.batches = batches
        self.where = "the batches"
        self.used = False

    def chunks(self, block_rows: int, rng: np.random.Generator | None
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        once = not callable(self.batches) and iter(self.batches) is self.batches
        if once and self.used:
            raise DataError("the iterator of batches was used up after one epoch; give a list, "
                            "or a function that returns a fresh iterator, to train longer")
        self.used = True
        source = self.batches() if callable(self.batches) else self.batches
        for number, item in enumerate(source, start=1):
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise DataError(f"batch {number}: expected a pair (X, y), got "
                                f"{type(item).__name__}")
            X, y = np.asarray(item[0]), np.asarray(item[1])
            if X.ndim != 2 or len(y) != X.shape[0]:
                raise DataError(f"batch {number}: X has shape {X.shape} and y {y.shape}; "
                                "expected (m, n_features) and m targets")
            _check_block(X, f"batch {number}", 0)
            yield X, y


def buffer_rows(n_features: int, itemsize: int, batch_size: int,
                buffer_size: int | None) -> int:
    """The shuffle buffer's rows: ``buffer_size``, or DEFAULT_BUFFER_BYTES of features;
    never fewer than one batch."""
    if buffer_size is None:
        buffer_size = DEFAULT_BUFFER_BYTES // max(1, n_features * itemsize)
    elif isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
        raise ValueError(f"buffer_size must be a whole number ≥ 1, got {buffer_size!r}")
    return max(buffer_size, batch_size)


def shuffled_batches(
    source: Source | BatchIterable,
    batch_size: int,
    *,
    buffer_size: int | None = None,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of (X_b, y_b) batches from ``source``, shuffled within a buffer of
    ``buffer_size`` samples by ``rng`` (None: in order, unshuffled). X_b has ``dtype``."""
    dtype = np.dtype(dtype)
    X_buf: np.ndarray | None = None
    y_buf: np.ndarray | None = None
    fill = 0
    rows = 0
    first = True

    def flush(final: bool) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        nonlocal fill
        assert X_buf is not None and y_buf is not None
        order = rng.permutation(fill) if rng is not None else np.arange(fill)
        whole = fill if final else fill - fill % batch_size
        for start in range(0, whole, batch_size):
            take = order[start:start + batch_size]
            yield X_buf[take], y_buf[take]  # gathers: copies the consumer may keep
        rest = order[whole:]
        X_buf[: rest.size] = X_buf[rest]  # the few left over mix with the next blocks
        y_buf[: rest.size] = y_buf[rest]
        fill = int(rest.size)

    for X, y in _chunks(source, batch_size, buffer_size, dtype, rng):
        if first:
            rows = buffer_rows(X.shape[1], dtype.itemsize, batch_size, buffer_size)
            X_buf = np.empty((rows, X.shape[1]), dtype=dtype)
            y_buf = np.empty((rows, *y.shape[1:]), dtype=y.dtype)
            first = False
        assert X_buf is not None and y_buf is not None
        if X.shape[1] != X_buf.shape[1]:
            raise DataError(f"{source.where}: a batch has {X.shape[1]} features, the first "
                            f"had {X_buf.shape[1]}")
        position = 0
        while position < X.shape[0]:
            take = min(rows - fill, X.shape[0] - position)
            X_buf[fill:fill + take] = X[position:position + take]
            y_buf[fill:fill + take] = y[position:position + take]
            fill += take
            position += take
            if fill == rows:
                yield from flush(final=False)
    if fill:
        yield from flush(final=True)


def _chunks(source: Source | BatchIterable, batch_size: int, buffer_size: int | None,
            dtype: np.dtype[Any], rng: np.random.Generator | None
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    if isinstance(source, BatchIterable):
        return source.chunks(0, None)
    rows = buffer_rows(source.n_features, dtype.itemsize, batch_size, buffer_size)
    return source.chunks(max(1, rows // BLOCKS_PER_BUFFER), rng)


def open_source(X: Any, y: Any = None) -> Source | BatchIterable:
    """A source for ``fit``: an (X, y) pair of arrays or memmaps; a path to a shard
    directory or a large .npy file (y None); or an iterable of (X, y) batches (y None)."""
    if isinstance(X, str | Path):
        path = Path(X)
        if path.is_dir():
            return NpyShards(path)
        if path.suffix.lower() == ".npy":
            if not path.is_file():
                raise DataError(f"{path}: no such file")
            return NpyFile(path)
        raise DataError(f"{path}: expected a directory of .npy shards or a .npy file")
    if y is None:
        return BatchIterable(X)
    return ArraySource(X, y)


def is_streamed(X: Any) -> bool:
    """Whether ``fit`` should stream X: a memmap, a path, or an iterable of batches
    (not an in-memory array, list of rows or DataFrame)."""
    if isinstance(X, np.memmap | str | Path):
        return True
    if isinstance(X, np.ndarray) or hasattr(X, "__array__") or hasattr(X, "shape"):
        return False
    if isinstance(X, list | tuple):  # rows of numbers, or a list of (X, y) batches
        return bool(X) and isinstance(X[0], tuple | list) and len(X[0]) == 2 and hasattr(
            X[0][0], "shape")
    return callable(X) or isinstance(X, Iterator | Iterable)
