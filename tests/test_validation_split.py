"""fit(validation_split=f): the last f of the samples, before shuffling, validate."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp


def data(m: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(m, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def make_net() -> bp.Network:
    return bp.Network(
        [bp.Dense(3, 5, activation="tanh"), bp.Dense(5, 2, activation="softmax")],
        loss="cross_entropy", seed=3, dtype="float64",
    )


def test_the_last_fraction_validates_and_the_rest_trains() -> None:
    X, y = data(50)
    split_net, explicit_net = make_net(), make_net()
    h1 = split_net.fit(X, y, epochs=4, batch_size=8, lr=0.3, validation_split=0.2)
    h2 = explicit_net.fit(X[:40], y[:40], epochs=4, batch_size=8, lr=0.3, validation_data=(X[40:], y[40:]))
    np.testing.assert_array_equal(split_net.params, explicit_net.params)  # same shuffles too
    assert h1["val_loss"] == h2["val_loss"] and h1["val_accuracy"] == h2["val_accuracy"]
    assert h1["loss"] == h2["loss"]


def test_the_split_point_is_keras_s() -> None:
    X, y = data(7)  # int(7 · 0.7) = 4 train, 3 validate
    a, b = make_net(), make_net()
    a.fit(X, y, epochs=2, batch_size=None, lr=0.3, validation_split=0.3)
    b.fit(X[:4], y[:4], epochs=2, batch_size=None, lr=0.3)
    np.testing.assert_array_equal(a.params, b.params)


def test_a_numpy_float_is_a_fraction() -> None:
    X, y = data(50)
    history = make_net().fit(X, y, epochs=1, validation_split=np.float32(0.2))
    assert "val_loss" in history


def test_full_batch_means_the_training_part() -> None:
    X, y = data(10)
    seen: list[float] = []

    class Sizes(bp.Callback):
        def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
            seen.append(logs["batch_size"])

    make_net().fit(X, y, epochs=1, batch_size=None, validation_split=0.5, callbacks=[Sizes()])
    assert seen == [5.0]


@pytest.mark.parametrize(("split", "error", "message"), [
    (0.0, ValueError, r"validation_split must be in \(0, 1\), got 0.0"),
    (1.0, ValueError, r"validation_split must be in \(0, 1\), got 1.0"),
    (-0.2, ValueError, r"validation_split must be in \(0, 1\), got -0.2"),
    (1.5, ValueError, r"validation_split must be in \(0, 1\), got 1.5"),
    (float("nan"), ValueError, r"validation_split must be in \(0, 1\), got nan"),
    ("0.2", TypeError, "validation_split must be a number, got '0.2'"),
    (True, TypeError, "validation_split must be a number, got True"),
    (1e-17, ValueError, r"validation_split=1e-17 of 50 samples leaves no validation samples"),
    (0.999, ValueError, r"validation_split=0.999 of 50 samples leaves no training samples"),
])
def test_bad_validation_split(split: object, error: type[Exception], message: str) -> None:
    X, y = data(50)
    with pytest.raises(error, match=message):
        make_net().fit(X, y, validation_split=split)  # type: ignore[arg-type]


def test_validation_split_and_validation_data_together_are_refused() -> None:
    X, y = data(50)
    with pytest.raises(ValueError, match="give validation_data or validation_split, not both"):
        make_net().fit(X, y, validation_split=0.2, validation_data=(X, y))
