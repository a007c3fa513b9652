"""Scaler: standard and min-max scaling fitted on training data, and its saved state."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop.datasets import Scaler
from backprop.errors import DataError

X_TRAIN = np.array([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0], [5.0, 20.0, 5.0]], dtype=np.float32)


def test_standard_scaling_gives_zero_mean_unit_std_and_maps_constants_to_zero() -> None:
    scaler = Scaler("standard").fit(X_TRAIN)
    out = scaler.transform(X_TRAIN)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(out.std(axis=0), [1.0, 1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(out[:, 0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)


def test_minmax_scaling_maps_training_data_to_the_unit_interval() -> None:
    scaler = Scaler("minmax").fit(X_TRAIN)
    out = scaler.transform(X_TRAIN)
    expected = np.array([[0, 0, 0], [0.5, 1, 0], [1, 0.5, 0]])
    np.testing.assert_allclose(out, expected, atol=1e-7)
    # New data uses the training statistics, so it may fall outside [0, 1].
    np.testing.assert_allclose(scaler.transform(np.array([[7.0, 0.0, 6.0]])), [[1.5, -0.5, 1.0]])


def test_dtype_follows_the_input() -> None:
    scaler = Scaler().fit(X_TRAIN)
    assert scaler.transform(X_TRAIN).dtype == np.float32
    assert scaler.transform(X_TRAIN.astype(np.float64)).dtype == np.float64
    assert scaler.transform(X_TRAIN.astype(np.int64)).dtype == np.float64


def test_transform_does_not_modify_its_input() -> None:
    X = X_TRAIN.copy()
    Scaler().fit(X).transform(X)
    np.testing.assert_array_equal(X, X_TRAIN)


def test_state_round_trips_through_an_npz_file() -> None:
    scaler = Scaler("minmax").fit(X_TRAIN)
    state = scaler.to_state()
    assert state["kind"] == "minmax"
    buffer = io.BytesIO()
    np.savez(buffer, **state)  # type: ignore[arg-type]
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as archive:
        loaded = Scaler.from_state({key: archive[key] for key in archive.files})
    assert loaded.kind == "minmax"
    np.testing.assert_array_equal(loaded.transform(X_TRAIN), scaler.transform(X_TRAIN))


def test_to_state_is_a_copy() -> None:
    scaler = Scaler().fit(X_TRAIN)
    state = scaler.to_state()
    state["offset"][:] = 99  # type: ignore[index]
    assert scaler.offset is not None and scaler.offset[0] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"kind": "standard", "offset": np.zeros(2)}, "lacks scale"),
        ({"kind": "robust", "offset": np.zeros(2), "scale": np.ones(2)}, "kind 'robust'"),
        ({"kind": "standard", "offset": np.zeros(2), "scale": np.ones(3)}, "differ"),
        (
            {"kind": "standard", "offset": np.zeros(2), "scale": np.zeros(2)},
            "every scale must be > 0",
        ),
        ({"kind": "standard", "offset": np.zeros((2, 2)), "scale": np.ones(2)}, "finite 1-D"),
        ({"kind": "standard", "offset": np.array([np.nan]), "scale": np.ones(1)}, "finite 1-D"),
    ],
)
def test_from_state_refuses_a_malformed_state(state: dict[str, object], message: str) -> None:
    with pytest.raises(DataError, match=message):
        Scaler.from_state(state)  # type: ignore[arg-type]


def test_errors() -> None:
    with pytest.raises(ValueError, match="kind must be 'standard' or 'minmax'"):
        Scaler("zscore")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="not fitted"):
        Scaler().transform(X_TRAIN)
    scaler = Scaler().fit(X_TRAIN)
    with pytest.raises(DataError, match="X has 2 features but the scaler was fitted on 3"):
        scaler.transform(X_TRAIN[:, :2])
    with pytest.raises(DataError, match="must be 2-D"):
        scaler.transform(X_TRAIN[0])
    with pytest.raises(DataError, match=r"X\[1, 2\] is nan; NaN/inf is not allowed"):
        Scaler().fit(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, np.nan]]))


@settings(max_examples=40, deadline=None)
@given(
    X=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(1, 4)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    ),
    kind=st.sampled_from(["standard", "minmax"]),
)
def test_inverse_transform_undoes_transform(X: np.ndarray, kind: str) -> None:
    scaler = Scaler(kind).fit(X)  # type: ignore[arg-type]
    scaled = scaler.transform(X)
    assert np.isfinite(scaled).all()
    np.testing.assert_allclose(scaler.inverse_transform(scaled), X, rtol=1e-9, atol=1e-9)
    if kind == "minmax":
        assert scaled.min() >= -1e-12 and scaled.max() <= 1 + 1e-12
