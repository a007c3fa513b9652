"""Seeded train/test splits, stratified by class for classification."""

from __future__ import annotations

import math
import numbers

import numpy as np
import numpy.typing as npt

from backprop.errors import OptionError

Index = npt.NDArray[np.intp]


def check_test_fraction(test_fraction: float, where: str) -> float:
    """``test_fraction`` as a float in [0, 1), or a one-line ValueError."""
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real):
        raise OptionError(
            f"{where}: test_fraction must be a number in [0, 1), got {test_fraction!r}"
        )
    value = float(test_fraction)
    if not 0.0 <= value < 1.0:
        raise OptionError(f"{where}: test_fraction must be in [0, 1), got {test_fraction!r}")
    return value


def n_test_samples(m: int, test_fraction: float, where: str) -> int:
    """How many of m samples go to the test set: ceil(m * test_fraction), 0 for 0.

    ValueError when a nonzero fraction would leave either side empty.
    """
    if test_fraction == 0.0:
        return 0
    n_test = max(1, math.ceil(m * test_fraction - 1e-9))
    if n_test >= m:
        raise OptionError(
            f"{where}: test_fraction={test_fraction} of {m} samples leaves no training samples"
        )
    return n_test


def split_indices(
    m: int,
    test_fraction: float,
    rng: np.random.Generator,
    labels: npt.NDArray[np.int64] | None = None,
    where: str = "split",
) -> tuple[Index, Index]:
    """Shuffled (train, test) row indices of m samples.

    With ``labels`` the split is stratified: each class gives the test set
    its share of n_test (largest remainders get the leftover samples), so
    class proportions match on both sides. Both index arrays are in random
    order. test is empty when test_fraction is 0.
    """
    n_test = n_test_samples(m, test_fraction, where)
    perm = rng.permutation(m)
    if n_test == 0:
        return perm, perm[:0]
    if labels is None:
        return perm[n_test:], perm[:n_test]
    shuffled = labels[perm]
    classes, counts = np.unique(shuffled, return_counts=True)
    quota = counts * (n_test / m)
    take = np.floor(quota).astype(np.int64)
    leftover = n_test - int(take.sum())
    take[np.argsort(-(quota - take), kind="stable")[:leftover]] += 1
    in_test = np.zeros(m, dtype=bool)
    for cls, k in zip(classes, take, strict=True):
        in_test[np.flatnonzero(shuffled == cls)[:k]] = True
    return perm[~in_test], perm[in_test]
