"""Batches: the permuted copy per epoch gives the same batches, and the same training, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop import batching


def _fit(X: np.ndarray, y: np.ndarray, batch_size: int, dtype: str) -> np.ndarray:
    net = bp.Network(
        [bp.Dense(X.shape[1], 6, activation="relu"), bp.Dense(6, 3, activation="softmax")],
        loss="cross_entropy",
        seed=1,
        dtype=dtype,
    )
    net.fit(X, y, epochs=3, batch_size=batch_size, optimizer=bp.Adam(lr=0.01))
    return net.params.copy()


@settings(max_examples=15, deadline=None)
@given(
    m=st.integers(2, 60),
    batch_size=st.integers(1, 70),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_training_on_the_permuted_copy_equals_training_batch_by_batch(
    m: int, batch_size: int, dtype: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 4))
    y = rng.integers(0, 3, m)
    gathered = _fit(X, y, batch_size, dtype)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batching, "PERMUTED_COPY_MAX_BYTES", 1 << 30)
        copied = _fit(X, y, batch_size, dtype)
    np.testing.assert_array_equal(copied, gathered)


def test_the_batches_are_slices_of_one_copy_in_the_epochs_order() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batching, "PERMUTED_COPY_MAX_BYTES", X.nbytes + Y.nbytes)
        batches = batching.Batches(X, Y, batch_size=4, shuffle=True)
    assert batches.permuted is not None
    for _ in range(2):
        epoch = batches.epoch(np.random.default_rng(5))
        assert [len(which) for which in epoch] == [4, 4, 2]  # type: ignore[arg-type]
        for which in epoch:
            X_b, Y_b = batches.gather(which)
            np.testing.assert_array_equal(X_b, X[which])
            np.testing.assert_array_equal(Y_b, Y[which])
            assert np.shares_memory(X_b, batches.permuted[0])  # a view, not a gather
    # an index array from elsewhere is still gathered by its indices
    X_b, Y_b = batches.gather(np.array([9, 0]))
    np.testing.assert_array_equal(X_b, X[[9, 0]])


def test_data_larger_than_the_limit_is_gathered_batch_by_batch() -> None:
    X, Y = np.zeros((10, 3)), np.zeros((10, 2))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batching, "PERMUTED_COPY_MAX_BYTES", X.nbytes + Y.nbytes - 1)
        assert batching.Batches(X, Y, batch_size=4, shuffle=True).permuted is None
    assert batching.Batches(X, Y, batch_size=4, shuffle=True).permuted is None  # off by default
