"""The column-statistics accumulator: the same rows give the same statistics, bit for bit,
whether they are scaled in memory or streamed from disk in blocks of any size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop.datasets import Scaler
from backprop.datasets.statistics import ColumnAccumulator, block_rows, column_statistics
from backprop.errors import DataError
from backprop.streaming import NpyShards


def wide_data(m: int, n: int, seed: int = 0) -> np.ndarray:
    """Columns of very different offsets and spreads, where summation order shows."""
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-3, 4, size=n)
    offsets = 10.0 ** rng.uniform(-2, 5, size=n)
    return (rng.normal(size=(m, n)) * scales + offsets).astype(np.float32)


def test_data_within_one_block_gets_exactly_numpys_mean_and_std() -> None:
    X = wide_data(1000, 7)
    stats = column_statistics(X)
    as_float64 = X.astype(np.float64)
    assert np.array_equal(stats.mean, as_float64.mean(axis=0))
    assert np.array_equal(stats.std, as_float64.std(axis=0))
    assert np.array_equal(stats.min, as_float64.min(axis=0))
    assert np.array_equal(stats.max, as_float64.max(axis=0))


def test_any_cut_of_the_rows_gives_the_same_statistics_bit_for_bit() -> None:
    n = 300
    m = 5 * block_rows(n) + 123  # several blocks and a partial one
    X = wide_data(m, n)
    whole = column_statistics(X)
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.choice(np.arange(1, m), size=40, replace=False))
    accumulator = ColumnAccumulator(n)
    for piece in np.split(X, cuts):
        accumulator.add(piece)
    accumulator.add(X[:0])  # an empty piece changes nothing
    pieces = accumulator.result()
    for name in ("mean", "std", "min", "max"):
        assert np.array_equal(getattr(whole, name), getattr(pieces, name)), name
    assert whole.count == pieces.count == m
    # and they are right: within float64 rounding of the two-pass formulas
    as_float64 = X.astype(np.float64)
    assert np.allclose(whole.mean, as_float64.mean(axis=0), rtol=1e-12)
    assert np.allclose(whole.std, as_float64.std(axis=0), rtol=1e-9)


def test_scaler_fit_in_memory_equals_the_scaler_of_shards_streamed(tmp_path: Path) -> None:
    """Scaler.fit on the array and the statistics of the same rows as shards of odd sizes,
    read in blocks of the budget's size: the same offset and scale, bit for bit."""
    n = 40
    sizes = [block_rows(n) + 17, 3, 2 * block_rows(n) - 5, 1000]
    X = wide_data(sum(sizes), n, seed=2)
    start = 0
    for i, size in enumerate(sizes):
        np.save(tmp_path / f"X_{i:03d}.npy", X[start:start + size])
        np.save(tmp_path / f"y_{i:03d}.npy", np.zeros(size))
        start += size
    shards = NpyShards(tmp_path)
    shards.memory_budget = 16 << 20  # reads blocks of 1 MiB: not the accumulator's blocks
    for kind in ("standard", "minmax"):
        in_memory = Scaler(kind).fit(X)
        streamed = Scaler.from_statistics(kind, shards.column_statistics())
        assert in_memory.offset is not None and streamed.offset is not None
        assert np.array_equal(in_memory.offset, streamed.offset)
        assert np.array_equal(in_memory.scale, streamed.scale)


def test_nan_is_named_by_its_row_across_blocks() -> None:
    n = 4
    X = np.ones((3 * block_rows(n), n))
    X[2 * block_rows(n) + 5, 3] = np.nan
    with pytest.raises(DataError, match=rf"X\[{2 * block_rows(n) + 5}, 3\] is nan"):
        column_statistics(X)
    with pytest.raises(DataError, match="has no rows"):
        ColumnAccumulator(3).result()
