"""EarlyStopping: stops at exactly the right epoch and restores the best weights bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from ticks import Ticks


def data(m: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(m, 3))
    return X, (X[:, 0] - X[:, 2] + 0.5 * rng.normal(size=m) > 0).astype(int)


def make_net() -> bp.Network:
    return bp.Network(
        [bp.Dense(3, 8, activation="tanh"), bp.Dense(8, 2, activation="softmax")],
        loss="cross_entropy", seed=1, dtype="float64",
    )


class Inject(bp.Callback):
    """Overwrites logs[key] with a crafted curve and keeps the weights of every epoch."""

    def __init__(self, key: str, curve: list[float]) -> None:
        self.key, self.curve = key, curve
        self.params: list[np.ndarray] = []

    def on_epoch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        logs[self.key] = self.curve[state.epoch - 1]
        self.params.append(state.network.params.copy())


def run(
    key: str, curve: list[float], stop: bp.EarlyStopping, epochs: int | None = None
) -> tuple[bp.Network, Inject, bp.History]:
    X, y = data()
    net, inject = make_net(), Inject(key, curve)
    history = net.fit(X, y, epochs=epochs or len(curve), batch_size=16, lr=0.2,
                      callbacks=[inject, stop])  # the injector runs first
    return net, inject, history


def test_stops_after_patience_epochs_without_improvement_and_restores_the_best() -> None:
    curve = [1.0, 0.8, 0.85, 0.7, 0.72, 0.71, 0.75, 0.6, 0.5, 0.4]
    stop = bp.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    net, inject, history = run("val_loss", curve, stop)
    assert len(history) == 7 and stop.stopped_epoch == 7
    assert stop.best_epoch == 4 and stop.best == 0.7
    np.testing.assert_array_equal(net.params, inject.params[3])  # bit for bit
    assert not np.array_equal(net.params, inject.params[6])
    assert np.shares_memory(net.layers[0].W, net.params)  # restored in place: views intact


def test_without_restore_the_last_weights_stay() -> None:
    curve = [1.0, 0.8, 0.85, 0.7, 0.72, 0.71, 0.75, 0.6]
    net, inject, _ = run("val_loss", curve, bp.EarlyStopping(patience=3))
    np.testing.assert_array_equal(net.params, inject.params[6])


def test_min_delta_decides_what_counts_as_improvement() -> None:
    curve = [1.0, 0.97, 0.96, 0.9, 0.89, 0.88]
    stop = bp.EarlyStopping(patience=2, min_delta=0.05)
    _, _, history = run("val_loss", curve, stop)
    assert len(history) == 3 and stop.stopped_epoch == 3 and stop.best_epoch == 1
    stop = bp.EarlyStopping(patience=2)
    _, _, history = run("val_loss", curve, stop)
    assert len(history) == 6 and stop.stopped_epoch == 0 and stop.best_epoch == 6


def test_patience_zero_stops_at_the_first_epoch_without_improvement() -> None:
    stop = bp.EarlyStopping(patience=0)
    _, _, history = run("val_loss", [3.0, 2.0, 2.0, 1.0], stop)
    assert len(history) == 3 and stop.best_epoch == 2


@pytest.mark.parametrize("key", ["val_accuracy", "accuracy", "val_r2"])
def test_accuracy_and_r2_are_maximized(key: str) -> None:
    curve = [0.5, 0.6, 0.7, 0.65, 0.7, 0.69, 0.9, 0.95]
    stop = bp.EarlyStopping(monitor=key, patience=3, restore_best_weights=True)
    assert stop.mode == "max"
    net, inject, history = run(key, curve, stop)
    assert len(history) == 6 and stop.best_epoch == 3 and stop.best == 0.7
    np.testing.assert_array_equal(net.params, inject.params[2])


def test_an_explicit_mode_overrides_the_name() -> None:
    assert bp.EarlyStopping(monitor="val_accuracy", mode="min").mode == "min"
    assert bp.EarlyStopping(monitor="loss").mode == "min"
    stop = bp.EarlyStopping(monitor="loss", mode="max", patience=1)
    _, _, history = run("loss", [1.0, 2.0, 1.5, 3.0], stop)
    assert len(history) == 3 and stop.best_epoch == 2


def test_best_weights_are_restored_when_training_runs_to_the_end() -> None:
    curve = [1.0, 0.5, 0.6, 0.7]
    stop = bp.EarlyStopping(patience=10, restore_best_weights=True)
    net, inject, history = run("val_loss", curve, stop)
    assert len(history) == 4 and stop.stopped_epoch == 0
    np.testing.assert_array_equal(net.params, inject.params[1])


def test_a_second_fit_starts_afresh() -> None:
    stop = bp.EarlyStopping(patience=1)
    run("val_loss", [1.0, 2.0, 3.0], stop)
    assert stop.stopped_epoch == 2
    run("val_loss", [5.0, 4.0, 3.0], stop)
    assert stop.stopped_epoch == 0 and stop.best == 3.0 and stop.best_epoch == 3


def test_on_real_training_the_restored_weights_give_the_best_val_loss() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + rng.normal(size=80) > 0).astype(int)  # noisy labels: val loss turns up
    net = bp.Network(
        [bp.Dense(3, 32, activation="tanh"), bp.Dense(32, 2, activation="softmax")],
        loss="cross_entropy", seed=0, dtype="float64",
    )
    stop = bp.EarlyStopping(patience=5, restore_best_weights=True)
    history = net.fit(X, y, epochs=500, batch_size=8, optimizer=bp.Adam(lr=0.05),
                      validation_split=0.25, callbacks=[stop])
    val = history["val_loss"]
    assert stop.stopped_epoch == len(history) < 500  # stopped early
    assert stop.best_epoch == int(np.argmin(val)) + 1
    assert len(history) - stop.best_epoch == 5
    assert net.evaluate(X[60:], y[60:])["loss"] == val[stop.best_epoch - 1]  # bit for bit


def test_a_missing_key_is_a_clear_error_listing_the_available_ones() -> None:
    X, y = data()
    with pytest.raises(ValueError, match=(
        r"EarlyStopping monitors 'val_loss', which is not in the epoch logs; "
        r"available: loss, accuracy, lr, time \(give validation_data or validation_split"
    )):
        make_net().fit(X, y, epochs=3, callbacks=[bp.EarlyStopping()])
    with pytest.raises(ValueError, match=r"monitors 'los', .*available: loss, accuracy, lr, time, val_loss, val_accuracy$"):
        make_net().fit(X, y, epochs=3, validation_split=0.2, callbacks=[bp.EarlyStopping(monitor="los")])


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"mode": "best"}, ValueError, "mode must be 'auto', 'min' or 'max', got 'best'"),
    ({"patience": -1}, ValueError, "patience must be ≥ 0, got -1"),
    ({"patience": 1.5}, TypeError, "patience must be an integer, got 1.5"),
    ({"min_delta": -0.1}, ValueError, "min_delta must be a finite number ≥ 0"),
    ({"monitor": ""}, TypeError, "monitor must be a metric name"),
])
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        bp.EarlyStopping(**kwargs)  # type: ignore[arg-type]



class CountBatches(bp.Callback):
    def __init__(self) -> None:
        self.batches: list[tuple[int, int]] = []

    def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        self.batches.append((state.epoch, state.batch))


def test_time_limit_stops_within_the_batch_that_reaches_it() -> None:
    X, y = data()  # 60 samples in batches of 10: six batches an epoch
    limit, count = bp.TimeLimit(8.5, clock=Ticks()), CountBatches()
    history = make_net().fit(X, y, epochs=5, batch_size=10, lr=0.1, callbacks=[count, limit])
    # the clock reads 1 at the start and 1 + b after batch b: 9 - 1 ≥ 8.5 first after the 9th
    assert count.batches == [(1, b) for b in range(1, 7)] + [(2, 1), (2, 2), (2, 3)]
    assert limit.stopped_epoch == 2 and len(history) == 2  # the stopped epoch is logged


def test_time_limit_never_stops_a_run_within_it_and_refuses_a_bad_limit() -> None:
    X, y = data()
    limit = bp.TimeLimit(1000.0, clock=Ticks())
    history = make_net().fit(X, y, epochs=3, batch_size=10, lr=0.1, callbacks=[limit])
    assert len(history) == 3 and limit.stopped_epoch == 0
    for bad in (0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="seconds must be a finite number > 0"):
            bp.TimeLimit(bad)
    with pytest.raises(TypeError, match="seconds must be a number"):
        bp.TimeLimit("1s")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="clock must be a function"):
        bp.TimeLimit(1.0, clock=3)  # type: ignore[arg-type]
