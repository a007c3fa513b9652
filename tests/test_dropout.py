"""Dropout: inverted dropout in training, the identity at predict time."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp


def _net(rate: float = 0.5, seed: int = 0, dtype: str = "float64") -> bp.Network:
    return bp.Network(
        [bp.Dense(4, 6, activation="tanh"), bp.Dropout(6, rate),
         bp.Dense(6, 5, activation="relu"), bp.Dropout(5, rate),
         bp.Dense(5, 3, activation="softmax")],
        loss="cross_entropy", seed=seed, dtype=dtype,
    )


def _data(m: int = 13, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, 4)), rng.integers(0, 3, size=m)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropout_network_passes_gradcheck(rate: float) -> None:
    net = _net(rate)
    X, y = _data()
    state = net.rng.bit_generator.state
    report = bp.gradcheck(net, X, y)
    assert report.passed, str(report)
    assert report.relative_error < 1e-6
    assert [(t.layer, t.name) for t in report.tensors] == [
        (1, "W"), (1, "b"), (3, "W"), (3, "b"), (5, "W"), (5, "b")]
    assert net.rng.bit_generator.state == state  # gradcheck worked on a copy
    assert not any(getattr(layer, "freeze_mask", False) for layer in net.layers)


def test_gradcheck_uses_a_real_mask() -> None:
    """The frozen mask drops units: the check would fail without the mask in backward."""
    net = bp.Network([bp.Dense(3, 8, activation="tanh"), bp.Dropout(8, 0.5), bp.Dense(8, 1)],
                     seed=2, dtype="float64")
    X = np.random.default_rng(0).normal(size=(6, 3))
    copy = net.copy()
    copy.forward_batch(X, training=True)
    dropout = copy.layers[1]
    assert isinstance(dropout, bp.Dropout) and dropout.mask is not None
    assert 0 < np.count_nonzero(dropout.mask == 0) < dropout.mask.size
    assert bp.gradcheck(net, X, np.ones(6)).passed


def test_predict_is_deterministic_and_equals_the_network_without_dropout() -> None:
    net = _net(0.5)
    plain = bp.Network(
        [bp.Dense(4, 6, activation="tanh"), bp.Dense(6, 5, activation="relu"),
         bp.Dense(5, 3, activation="softmax")],
        loss="cross_entropy", dtype="float64",
    )
    for mine, theirs in zip([net.layers[0], net.layers[2], net.layers[4]], plain.layers, strict=True):
        assert isinstance(mine, bp.Dense) and isinstance(theirs, bp.Dense)
        theirs.W, theirs.b = mine.W, mine.b
    X, y = _data(50)
    first = net.forward(X)
    np.testing.assert_array_equal(first, net.forward(X))
    np.testing.assert_array_equal(first, plain.forward(X))
    np.testing.assert_array_equal(net.predict(X), plain.predict(X))
    assert net.evaluate(X, y) == plain.evaluate(X, y)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.8])
def test_training_drops_about_rate_and_scales_the_kept_units(rate: float) -> None:
    layer = bp.Dropout(200, rate)
    net = bp.Network([bp.Dense(200, 200), layer, bp.Dense(200, 1)], seed=0, dtype="float64")
    X = np.random.default_rng(0).uniform(1.0, 2.0, size=(500, 200))
    a = layer.forward(X, training=True)
    dropped = a == 0.0
    assert abs(dropped.mean() - rate) < 0.01
    np.testing.assert_allclose(a[~dropped], X[~dropped] / (1.0 - rate), rtol=1e-15)
    # the expected value of every unit is preserved
    assert abs(a.mean() / X.mean() - 1.0) < 0.01
    # backward: the same mask
    grad = np.ones_like(X)
    dx = layer.backward(grad)
    assert dx is not None
    np.testing.assert_array_equal(dx, np.where(dropped, 0.0, 1.0 / (1.0 - rate)))
    assert net.rng is layer._rng


def test_predict_time_dropout_is_the_identity() -> None:
    layer = bp.Dropout(3, 0.5)
    bp.Network([bp.Dense(3, 3), layer, bp.Dense(3, 1)], seed=0)
    X = np.ones((4, 3), dtype=np.float32)
    assert layer.forward(X, training=False) is X
    assert layer.backward(X) is X


def test_dropout_on_the_inputs_passes_no_gradient_down_to_the_data() -> None:
    layer = bp.Dropout(3, 0.5)
    net = bp.Network([layer, bp.Dense(3, 1)], seed=0, dtype="float64")
    X = np.ones((4, 3))
    net.gradients(X, np.zeros(4))
    assert not layer.needs_input_gradient
    assert layer.backward(X) is None


def test_seed_reproduces_training_bit_for_bit() -> None:
    X, y = _data(40)
    runs = []
    for _ in range(2):
        net = _net(0.5, seed=7, dtype="float32")
        history = net.fit(X, y, epochs=5, batch_size=8, optimizer=bp.Adam(lr=0.01))
        runs.append((net.params.copy(), history["loss"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    other = _net(0.5, seed=8, dtype="float32")
    other.params[...] = _net(0.5, seed=7, dtype="float32").params
    other.fit(X, y, epochs=5, batch_size=8, optimizer=bp.Adam(lr=0.01))
    assert not np.array_equal(other.params, runs[0][0])  # another seed, other masks


def test_frozen_mask_is_reused() -> None:
    layer = bp.Dropout(10, 0.5)
    bp.Network([layer, bp.Dense(10, 1)], seed=0)
    X = np.ones((6, 10), dtype=np.float32)
    first = layer.forward(X, training=True).copy()
    assert not np.array_equal(first, layer.forward(X, training=True))
    layer.freeze_mask = True
    kept = layer.forward(X, training=True).copy()
    np.testing.assert_array_equal(kept, layer.forward(X, training=True))


def test_a_network_with_dropout_learns() -> None:
    X, y = _data(120, seed=3)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    net = bp.Network([bp.Dense(4, 32, activation="relu"), bp.Dropout(32, 0.2),
                      bp.Dense(32, 2, activation="softmax")], loss="cross_entropy", seed=0)
    before = net.evaluate(X, y)["loss"]
    net.fit(X, y, epochs=60, batch_size=16, optimizer=bp.Adam(lr=0.01))
    after = net.evaluate(X, y)
    assert after["loss"] < 0.5 * before
    assert after["accuracy"] > 0.9


def test_save_and_load_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    net = _net(0.3)
    path = tmp_path / "dropout.npz"
    net.save(str(path))
    loaded = bp.load(path)
    assert repr(loaded.layers[1]) == "Dropout(6, rate=0.3)"
    X, _ = _data()
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((4, 1.0), ValueError, r"rate must be in \[0, 1\)"),
        ((4, -0.1), ValueError, r"rate must be in \[0, 1\)"),
        ((4, "0.5"), TypeError, "rate must be a number"),
        ((4, True), TypeError, "rate must be a number"),
        ((0, 0.5), ValueError, "n must be positive"),
    ],
)
def test_bad_arguments(args: tuple[object, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        bp.Dropout(*args)  # type: ignore[arg-type]


def test_dropout_cannot_be_the_output_layer() -> None:
    with pytest.raises(TypeError, match="last layer must be a Dense"):
        bp.Network([bp.Dense(2, 3), bp.Dropout(3, 0.5)])
