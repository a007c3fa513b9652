"""backprop.streaming: sources read in blocks, batches shuffled within a bounded buffer."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from backprop.errors import DataError
from backprop.streaming import (
    ArraySource,
    BatchIterable,
    NpyFile,
    NpyShards,
    is_streamed,
    open_source,
    shuffled_batches,
)


def numbered(m: int, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Row i of X is i in every column, and y[i] = i: every sample says who it is."""
    X = np.repeat(np.arange(m, dtype=np.float32)[:, None], n, axis=1)
    return X, np.arange(m, dtype=np.int64)


def epoch_rows(batches: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    for X, y in batches:
        assert np.array_equal(X[:, 0].astype(np.int64), y)  # rows stay with their targets
    return np.concatenate([y for _, y in batches])


@pytest.mark.parametrize("buffer_size", [7, 64, 1000])
def test_every_sample_once_per_epoch_in_batches_of_the_size_asked(buffer_size: int) -> None:
    X, y = numbered(500)
    batches = list(shuffled_batches(ArraySource(X, y), 32, buffer_size=buffer_size,
                                    rng=np.random.default_rng(0)))
    seen = epoch_rows(batches)
    assert sorted(seen.tolist()) == list(range(500))
    assert [len(b[1]) for b in batches[:-1]] == [32] * (len(batches) - 1)
    assert len(batches) == 16  # ⌈500 / 32⌉: only the last batch is short
    assert not np.array_equal(seen, np.arange(500))


def test_without_a_generator_the_batches_come_in_order() -> None:
    X, y = numbered(100)
    seen = epoch_rows(list(shuffled_batches(ArraySource(X, y), 10, buffer_size=30)))
    assert np.array_equal(seen, np.arange(100))


def test_a_buffer_mixes_blocks_read_in_random_order() -> None:
    X, y = numbered(4000)
    seen = epoch_rows(list(shuffled_batches(ArraySource(X, y), 50, buffer_size=400,
                                            rng=np.random.default_rng(1))))
    # blocks of 400 / 8 = 50 rows are read in random order: the first buffer holds 8 blocks
    first = seen[:400]
    assert len(np.unique(first // 50)) >= 6
    # a whole buffer is shuffled: far from the order of any single block
    assert np.abs(np.diff(first)).mean() > 50


def test_a_buffer_as_large_as_the_data_is_a_full_permutation() -> None:
    X, y = numbered(300)
    rng = np.random.default_rng(2)
    seen = epoch_rows(list(shuffled_batches(ArraySource(X, y), 300, buffer_size=300, rng=rng)))
    # one block order of 8 blocks, then one permutation of the 300 rows
    assert sorted(seen.tolist()) == list(range(300))
    assert np.corrcoef(seen, np.arange(300))[0, 1] < 0.3


def test_memory_stays_within_the_buffer_on_a_memmap_many_times_larger(tmp_path: Path) -> None:
    m, n = 40_000, 64  # 10 MB of float32 features
    X, y = numbered(m, n)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert is_streamed(mapped)
    buffer = 2_000  # 500 kB of rows
    tracemalloc.start()
    try:
        count = 0
        for X_b, _ in shuffled_batches(ArraySource(mapped, y), 100, buffer_size=buffer,
                                       rng=np.random.default_rng(0)):
            count += X_b.shape[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == m
    data_bytes = m * n * 4
    buffer_bytes = buffer * n * 4
    assert peak < 4 * buffer_bytes, (peak, buffer_bytes)  # buffer + one block + a batch
    assert peak < data_bytes / 5


def test_one_large_npy_file_has_its_target_in_the_last_column(tmp_path: Path) -> None:
    X, y = numbered(250, 4)
    np.save(tmp_path / "big.npy", np.column_stack([X, y.astype(np.float32)]))
    source = open_source(tmp_path / "big.npy")
    assert isinstance(source, NpyFile)
    assert (source.n_samples, source.n_features) == (250, 4)
    assert np.array_equal(source.targets(), y)
    seen = epoch_rows([(Xb, yb.astype(np.int64)) for Xb, yb in
                       shuffled_batches(source, 16, buffer_size=40, rng=np.random.default_rng(3))])
    assert sorted(seen.tolist()) == list(range(250))


def write_shards(folder: Path, sizes: list[int], n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    X, y = numbered(sum(sizes), n)
    start = 0
    for i, size in enumerate(sizes):
        np.save(folder / f"X_{i:03d}.npy", X[start:start + size])
        np.save(folder / f"y_{i:03d}.npy", y[start:start + size])
        start += size
    return X, y


def test_a_directory_of_shards_is_read_in_name_order_with_its_test_set(tmp_path: Path) -> None:
    X, y = write_shards(tmp_path, [100, 37, 163])
    np.save(tmp_path / "X_test.npy", X[:5] + 1000)
    np.save(tmp_path / "y_test.npy", y[:5] + 1000)
    source = open_source(tmp_path)
    assert isinstance(source, NpyShards)
    assert (source.n_samples, source.n_features) == (300, 3)
    assert np.array_equal(source.targets(), y)  # the test pair is not a shard
    test = source.test_arrays()
    assert test is not None and np.array_equal(test[1], y[:5] + 1000)
    seen = epoch_rows(list(shuffled_batches(source, 20, buffer_size=60,
                                            rng=np.random.default_rng(4))))
    assert sorted(seen.tolist()) == list(range(300))


def test_an_iterable_of_batches_is_rebatched_and_a_one_shot_iterator_says_so() -> None:
    X, y = numbered(90)
    parts = [(X[i:i + 13], y[i:i + 13]) for i in range(0, 90, 13)]
    assert is_streamed(parts) and not is_streamed(X) and not is_streamed(X.tolist())
    seen = epoch_rows(list(shuffled_batches(BatchIterable(parts), 20, buffer_size=40,
                                            rng=np.random.default_rng(5))))
    assert sorted(seen.tolist()) == list(range(90))
    fresh = BatchIterable(lambda: iter(parts))
    for _ in range(2):
        assert len(list(shuffled_batches(fresh, 30))) == 3
    once = BatchIterable(iter(parts))
    assert len(list(shuffled_batches(once, 30))) == 3
    with pytest.raises(DataError, match="used up after one epoch"):
        list(shuffled_batches(once, 30))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"X_000.npy": np.zeros((3, 2))}, "no targets file y_000.npy beside it"),
        ({"X_000.npy": np.zeros((3, 2)), "y_000.npy": np.zeros(4)}, "has 3 rows but y_000.npy has 4"),
        ({"X_0.npy": np.zeros((3, 2)), "y_0.npy": np.zeros(3), "X_1.npy": np.zeros((3, 5)),
          "y_1.npy": np.zeros(3)}, "X_1.npy has 5 features but X_0.npy has 2"),
        ({"notes.npy": np.zeros(3)}, "no X*.npy shards"),
        ({"X_0.npy": np.zeros(3), "y_0.npy": np.zeros(3)}, "expected (samples, features)"),
    ],
)
def test_a_bad_shard_directory_is_refused_naming_the_file(
        tmp_path: Path, files: dict[str, np.ndarray], message: str) -> None:
    for name, array in files.items():
        np.save(tmp_path / name, array)
    with pytest.raises(DataError) as caught:
        NpyShards(tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_nan_in_a_shard_is_named_by_file_and_row(tmp_path: Path) -> None:
    X, _ = write_shards(tmp_path, [10, 10])
    bad = X[10:20].copy()
    bad[7, 1] = np.nan
    np.save(tmp_path / "X_001.npy", bad)
    with pytest.raises(DataError, match=r"X_001.npy: row 7, column 1 is nan"):
        list(shuffled_batches(NpyShards(tmp_path), 4))


def test_a_bad_buffer_size_is_refused() -> None:
    X, y = numbered(10)
    with pytest.raises(ValueError, match="buffer_size must be a whole number"):
        list(shuffled_batches(ArraySource(X, y), 4, buffer_size=0))
