"""scikit-learn's bundled 8x8 handwritten digits (1,797 images; no download)."""

from __future__ import annotations

import numpy as np

from backprop.datasets.base import Dataset
from backprop.datasets.split import check_test_fraction, split_indices
from backprop.errors import DataError
from backprop.validation import check_seed


def load_digits(*, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """The 8x8 digits from scikit-learn, pixels scaled from 0..16 to [0, 1].

    X: float32 (m, 64), image_shape (8, 8); y: int64 digits 0..9. A seeded,
    stratified ``test_fraction`` of the 1,797 images is the test set (0 for
    none). Needs scikit-learn, imported only here.
    """
    test_fraction = check_test_fraction(test_fraction, "load_digits")
    check_seed(seed, "load_digits: seed")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise DataError(
            "the digits dataset comes with scikit-learn, which is not installed: "
            "pip install scikit-learn"
        ) from None
    bunch = sklearn_load_digits()
    X = (np.asarray(bunch.data, dtype=np.float64) / 16.0).astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    train, test = split_indices(len(y), test_fraction, np.random.default_rng(seed), labels=y)
    return Dataset(
        X[train],
        y[train],
        X[test] if test.size else None,
        y[test] if test.size else None,
        name="digits",
        task="classification",
        n_classes=10,
        image_shape=(8, 8),
    )
