"""Training really learns: XOR, a noisy line, falling loss, batching modes, reproducibility."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import backprop as bp

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


@pytest.mark.parametrize(("hidden", "activation", "loss", "output"), [
    (2, "tanh", "binary_cross_entropy", "sigmoid"),
    (4, "tanh", "binary_cross_entropy", "sigmoid"),
    (4, "sigmoid", "binary_cross_entropy", "sigmoid"),
    (4, "sigmoid", "mse", "sigmoid"),
])
def test_xor_is_solved(hidden: int, activation: str, loss: str, output: str) -> None:
    net = bp.Network(
        [bp.Dense(2, hidden, activation=activation), bp.Dense(hidden, 1, activation=output)],
        loss=loss, seed=1,
    )
    history = net.fit(XOR_X, XOR_Y, epochs=3000, batch_size=None, lr=2.0 if loss == "mse" else 0.5)
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    y_pred = net.predict(XOR_X) if loss != "mse" else (net.forward(XOR_X)[:, 0] > 0.5)
    np.testing.assert_array_equal(y_pred, XOR_Y)
    assert loss == "mse" or history["accuracy"][-1] == 1.0


def test_noisy_line_recovers_slope_and_intercept_within_one_percent() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2.0, 2.0, size=(2000, 1))
    y = 3.0 * X[:, 0] - 1.5 + rng.normal(0.0, 0.3, size=2000)
    net = bp.Network([bp.Dense(1, 1)], loss="mse", seed=0, dtype="float64")
    net.fit(X, y, epochs=30, batch_size=32, lr=0.05)
    slope, intercept = net.layers[0].W[0, 0], net.output_layer.b[0]  # type: ignore[index]
    assert slope == pytest.approx(3.0, rel=0.01)
    assert intercept == pytest.approx(-1.5, rel=0.01)
    metrics = net.evaluate(X, y)
    assert metrics["r2"] > 0.95
    assert metrics["mse"] == pytest.approx(0.09, rel=0.15)  # the noise variance


def test_online_minibatch_and_full_batch_agree_on_one_sample() -> None:
    X, y = np.array([[0.5, -1.0, 2.0]]), np.array([2])
    weights = []
    for batch_size in (1, 8, None):
        net = bp.Network(
            [bp.Dense(3, 4, activation="relu"), bp.Dense(4, 3, activation="softmax")],
            loss="cross_entropy", seed=5, dtype="float64",
        )
        net.fit(X, y, epochs=1, batch_size=batch_size, lr=0.3)
        weights.append(net.params.copy())
    np.testing.assert_array_equal(weights[0], weights[1])
    np.testing.assert_array_equal(weights[0], weights[2])


def test_online_learning_updates_after_every_sample() -> None:
    X, y = XOR_X, XOR_Y.astype(float)
    net = bp.Network([bp.Dense(2, 1, activation="sigmoid")], loss="mse", seed=0, dtype="float64")
    expected = net.copy()
    net.fit(X, y, epochs=1, batch_size=1, lr=0.7, shuffle=False)
    for i in range(4):  # four single-sample steps, each with the weights the previous left
        (dW, db), = expected.gradients(X[i : i + 1], y[i : i + 1])
        expected.layers[0].W = expected.layers[0].W - 0.7 * dW
        expected.output_layer.b = expected.output_layer.b - 0.7 * db  # type: ignore[operator]
    np.testing.assert_allclose(net.params, expected.params, rtol=1e-14)


def test_minibatch_loss_falls_on_a_multiclass_problem() -> None:
    rng = np.random.default_rng(3)
    centers = rng.normal(0.0, 3.0, size=(4, 5))
    labels = rng.integers(0, 4, size=600)
    X = centers[labels] + rng.normal(size=(600, 5))
    net = bp.Network(
        [bp.Dense(5, 16, activation="relu"), bp.Dense(16, 4, activation="softmax")],
        loss="cross_entropy", seed=0,
    )
    history = net.fit(X, labels, epochs=15, batch_size=32, lr=0.1, validation_data=(X[:100], labels[:100]))
    losses = history["loss"]
    assert losses[-1] < 0.3 * losses[0]
    assert all(b <= a * 1.05 for a, b in itertools.pairwise(losses))
    assert history["accuracy"][-1] > 0.95
    assert set(history.keys()) >= {"loss", "accuracy", "lr", "val_loss", "val_accuracy"}
    assert len(history) == 15


def test_one_hot_and_integer_labels_train_identically() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    labels = rng.integers(0, 3, size=50)
    results = []
    for y in (labels, np.eye(3)[labels]):
        net = bp.Network([bp.Dense(3, 3, activation="softmax")], loss="cross_entropy", seed=2)
        history = net.fit(X, y, epochs=3, batch_size=10, lr=0.1)
        results.append((net.params.copy(), history["accuracy"]))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def _train(seed: int, dtype: str = "float32") -> np.ndarray:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 4)), rng.integers(0, 2, size=64)
    net = bp.Network(
        [bp.Dense(4, 8, activation="tanh"), bp.Dense(8, 1, activation="sigmoid")],
        loss="binary_cross_entropy", seed=seed, dtype=dtype,
    )
    net.fit(X, y, epochs=3, batch_size=8, lr=0.2)
    return net.params.copy()


def test_a_seed_reproduces_training_bit_for_bit() -> None:
    np.testing.assert_array_equal(_train(11), _train(11))
    assert not np.array_equal(_train(11), _train(12))


def test_float32_by_default_and_float64_on_request() -> None:
    assert _train(0).dtype == np.float32
    assert _train(0, "float64").dtype == np.float64
    net = bp.Network([bp.Dense(2, 1)], dtype="float64")
    assert net.forward(np.ones((3, 2), dtype=np.float32)).dtype == np.float64


def test_fit_in_two_calls_equals_fit_in_one() -> None:
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)

    def network() -> bp.Network:
        return bp.Network([bp.Dense(3, 5, activation="tanh"), bp.Dense(5, 1)], seed=4)

    once, twice = network(), network()
    optimizer_once, optimizer_twice = bp.SGD(lr=0.05, momentum=0.9), bp.SGD(lr=0.05, momentum=0.9)
    once.fit(X, y, epochs=3, batch_size=8, optimizer=optimizer_once)
    twice.fit(X, y, epochs=2, batch_size=8, optimizer=optimizer_twice)
    twice.fit(X, y, epochs=1, batch_size=8, optimizer=optimizer_twice)
    np.testing.assert_array_equal(once.params, twice.params)


def test_a_callback_sees_every_epoch_and_can_stop_training() -> None:
    class StopAfterTwo(bp.Callback):
        def __init__(self) -> None:
            self.seen: list[int] = []
            self.batches = 0

        def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
            self.batches += 1

        def on_epoch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
            self.seen.append(state.epoch)
            state.stop_training = state.epoch == 2

    callback = StopAfterTwo()
    net = bp.Network([bp.Dense(2, 1)], seed=0)
    history = net.fit(XOR_X, XOR_Y, epochs=10, batch_size=2, lr=0.1, callbacks=[callback])
    assert callback.seen == [1, 2]
    assert callback.batches == 4
    assert len(history) == 2


def test_divergence_stops_with_a_message_and_finite_weights() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)) * 100, rng.normal(size=64) * 100
    net = bp.Network([bp.Dense(3, 8, activation="relu"), bp.Dense(8, 1)], seed=0)
    with pytest.raises(bp.DivergenceError, match=r"epoch \d+, batch \d+.*smaller learning rate"):
        net.fit(X, y, epochs=50, batch_size=8, lr=1e3)
    assert np.all(np.isfinite(net.params))


def test_verbose_prints_one_line_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    net = bp.Network([bp.Dense(2, 1, activation="sigmoid")], loss="binary_cross_entropy", seed=0)
    net.fit(XOR_X, XOR_Y, epochs=3, lr=0.1, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "accuracy=" in lines[0]
