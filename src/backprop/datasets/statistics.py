"""Per-column statistics of samples summed block by block: one accumulator for data in
memory and data streamed from disk, so that both give the same numbers, bit for bit.

Rows arrive in pieces of any size (an array's slices, blocks of a file, shards); they are
copied into a float64 block of :data:`BLOCK_BYTES`, and each full block b is folded into
the running count n, mean μ and sum of squared deviations M2 of the rows before it (a) by
Chan, Golub and LeVeque's pairwise update:

    n = n_a + n_b    δ = μ_b − μ_a    μ = μ_a + δ·n_b/n    M2 = M2_a + M2_b + δ²·n_a·n_b/n

The blocks' bounds depend only on the number of rows and the width, never on how the rows
arrived, so the same rows give the same mean, standard deviation √(M2/n), min and max to
the last bit. The first block is taken as it is (μ = its mean, M2 = its sum of squared
deviations), so data that fits in one block gets exactly NumPy's mean(axis=0) and
std(axis=0). Memory: the block and one temporary of its size (8 MiB), whatever the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from backprop.errors import DataError

Float64Array = npt.NDArray[np.float64]

#: The float64 block that rows are gathered into before they are summed.
BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class Statistics:
    """Each column's mean, standard deviation (population: √(M2/n)), min and max, (n,) each,
    over ``count`` samples."""

    count: int
    mean: Float64Array
    std: Float64Array
    min: Float64Array
    max: Float64Array


class ColumnAccumulator:
    """Statistics of rows given piece by piece (:meth:`add`), read out by :meth:`result`.

    ``where`` names the data in a NaN/inf error ("X" gives "X[12, 3] is nan").
    """

    def __init__(self, n_features: int, where: str = "X") -> None:
        self.n_features = n_features
        self.where = where
        self.block_rows = block_rows(n_features)
        self._block: Float64Array | None = None  # allocated on the first rows
        self._fill = 0
        self._first_row = 0  # the first row of the block, counted over every row added
        self.count = 0
        self.mean = np.zeros(n_features)
        self.m2 = np.zeros(n_features)
        self.low = np.full(n_features, np.inf)
        self.high = np.full(n_features, -np.inf)

    def add(self, rows: Any) -> None:
        """Take in ``rows`` (m, n_features) of any number type; any m, 0 included."""
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise DataError(f"{self.where}: rows of shape {rows.shape}; expected "
                            f"(samples, {self.n_features})")
        if self._block is None:
            self._block = np.empty((self.block_rows, self.n_features))
        position = 0
        while position < rows.shape[0]:
            take = min(self.block_rows - self._fill, rows.shape[0] - position)
            self._block[self._fill:self._fill + take] = rows[position:position + take]
            self._fill += take
            position += take
            if self._fill == self.block_rows:
                self._fold(self._block)

    def result(self) -> Statistics:
        """The statistics of every row added so far (DataError when there is none)."""
        if self._fill:
            assert self._block is not None
            self._fold(self._block[:self._fill])
        if self.count == 0:
            raise DataError(f"{self.where} has no rows")
        return Statistics(self.count, self.mean.copy(), np.sqrt(self.m2 / self.count),
                          self.low.copy(), self.high.copy())

    def _fold(self, X: Float64Array) -> None:
        """Merge the block X into (n, μ, M2, min, max); the block may be reused afterwards."""
        finite = np.isfinite(X)
        if not finite.all():
            i, j = (int(v) for v in np.argwhere(~finite)[0])
            raise DataError(f"{self.where}[{self._first_row + i}, {j}] is {X[i, j]}; "
                            "NaN/inf is not allowed")
        del finite
        n = X.shape[0]
        block_mean = X.mean(axis=0)
        deviations = X - block_mean
        np.multiply(deviations, deviations, out=deviations)
        block_m2 = deviations.sum(axis=0)  # Σ (x − μ_b)², as NumPy's std sums it
        del deviations
        if self.count == 0:
            self.mean, self.m2 = block_mean, block_m2
        else:
            total = self.count + n
            delta = block_mean - self.mean  # δ = μ_b − μ_a
            self.mean = self.mean + delta * (n / total)
            self.m2 = self.m2 + block_m2 + delta * delta * (self.count * n / total)
        self.count += n
        np.minimum(self.low, X.min(axis=0), out=self.low)
        np.maximum(self.high, X.max(axis=0), out=self.high)
        self._first_row += n
        self._fill = 0


def block_rows(n_features: int) -> int:
    """The rows of one block: BLOCK_BYTES of float64 at this width (at least one row)."""
    return max(1, BLOCK_BYTES // (8 * max(1, n_features)))


def column_statistics(X: Any, where: str = "X") -> Statistics:
    """The statistics of an array in memory (m, n_features), read a block at a time."""
    accumulator = ColumnAccumulator(X.shape[1], where)
    step = accumulator.block_rows
    for start in range(0, X.shape[0], step):
        accumulator.add(X[start:start + step])
    return accumulator.result()
