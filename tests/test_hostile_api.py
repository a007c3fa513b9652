"""The Python API against hostile arguments: every one refused with a one-line error naming
the argument, before any training; divergence that stays finite is stopped too."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.errors import DivergenceError, OptionError, OptionTypeError


def xor_data(m: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(m, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def relu_net(dtype: str = "float32") -> bp.Network:
    return bp.Network([bp.Dense(2, 32, activation="relu"), bp.Dense(32, 32, activation="relu"),
                       bp.Dense(32, 2, activation="softmax")], loss="cross_entropy", seed=0,
                      dtype=dtype)


class CountEpochs(bp.Callback):
    def __init__(self) -> None:
        self.epochs = 0

    def on_epoch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        self.epochs += 1


@pytest.mark.parametrize(("name", "fragment"), [
    ("ck-{step}.npz", "names {step}"), ("ck-{}.npz", "names {}"),
    ("ck-{epoch.real}.npz", "names {epoch.real}"), ("ck-{.npz", "expected '}'"),
    ("ck-{epoch:q}.npz", "bad {epoch} format"),
])
def test_a_checkpoint_placeholder_other_than_epoch_is_refused_before_training(
    tmp_path: Path, name: str, fragment: str
) -> None:
    with pytest.raises(OptionError, match="ModelCheckpoint path") as caught:
        bp.ModelCheckpoint(tmp_path / name)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_checkpoint_placeholders_that_are_fine(tmp_path: Path) -> None:
    X, y = xor_data()
    counter = CountEpochs()
    save = bp.ModelCheckpoint(tmp_path / "e{epoch:02d}-{{literal}}.npz", every=1)
    relu_net().fit(X, y, epochs=2, lr=0.01, callbacks=[save, counter])
    assert counter.epochs == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e01-{literal}.npz",
                                                           "e02-{literal}.npz"]


@pytest.mark.parametrize("callbacks", [[1], [bp.History(), "print"], [None]])
def test_a_callback_that_is_not_one_is_named_by_position(callbacks: list[object]) -> None:
    X, y = xor_data()
    with pytest.raises(OptionTypeError, match=rf"callbacks\[{len(callbacks) - 1}\] is .*not a "
                                              "Callback"):
        relu_net().fit(X, y, epochs=1, callbacks=callbacks)  # type: ignore[arg-type]


@pytest.mark.parametrize(("setting", "value"), [
    ("step", math.nan), ("step", math.inf), ("step", -1e-5), ("step", 0.0),
    ("tolerance", math.nan), ("tolerance", math.inf), ("tolerance", 0.0),
])
def test_gradcheck_refuses_non_finite_and_non_positive_settings(setting: str,
                                                                value: float) -> None:
    X, y = xor_data(4)
    net = relu_net("float64")
    with pytest.raises(OptionError, match=f"gradcheck {setting} must be a finite number > 0"):
        bp.gradcheck(net, X, y, **{setting: value})


def test_adam_at_lr_1e30_is_stopped_with_finite_weights() -> None:
    X, y = xor_data()
    net = relu_net()
    with pytest.raises(DivergenceError, match="training diverged"):
        net.fit(X, y, epochs=20, batch_size=16, optimizer=bp.Adam(lr=1e30))
    assert np.isfinite(net.params).all()


def test_a_loss_that_grows_a_thousandfold_but_stays_finite_is_stopped() -> None:
    X, y = xor_data()
    net = relu_net()
    counter = CountEpochs()
    with pytest.raises(DivergenceError, match=r"the loss grew from .* over 1000 times its "
                                              r"start; try a smaller learning rate \(now 10\)"):
        net.fit(X, y, epochs=20, batch_size=16, optimizer=bp.SGD(lr=10.0), callbacks=[counter])
    assert counter.epochs == 1  # the other callbacks saw the epoch that exploded
    assert net.history is not None and net.history["loss"][0] > 1000 * 0.5


class FirstBatchLoss(bp.Callback):
    def __init__(self) -> None:
        self.loss: float | None = None

    def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        if self.loss is None:
            self.loss = logs["loss"]


def test_a_loss_explosion_in_callbacks_replaces_the_default_guard() -> None:
    """The same exploding run: LossExplosion(factor=inf) lets it run every epoch; a factor
    between the first epoch's growth and a later, larger one stops it at that later epoch."""
    X, y = xor_data()
    first = FirstBatchLoss()
    history = relu_net().fit(X, y, epochs=6, batch_size=16, optimizer=bp.SGD(lr=10.0),
                             callbacks=[first, bp.LossExplosion(factor=math.inf)])
    assert first.loss is not None
    growth = [loss / max(first.loss, 1e-3) for loss in history["loss"]]
    assert len(growth) == 6 and growth[0] > 1000  # the default guard stops after epoch 1
    later = next(e for e in range(1, 6) if growth[e] > growth[0])
    counter = CountEpochs()
    factor = (growth[0] + growth[later]) / 2
    with pytest.raises(DivergenceError, match=f"training diverged at epoch {later + 1}: .* over "
                                              f"{factor:g} times its start"):
        relu_net().fit(X, y, epochs=6, batch_size=16, optimizer=bp.SGD(lr=10.0),
                       callbacks=[counter, bp.LossExplosion(factor=factor)])
    assert counter.epochs == later + 1
    for bad, error in [(1.0, OptionError), (math.nan, OptionError), ("10", OptionTypeError)]:
        with pytest.raises(error, match="factor must be a number"):
            bp.LossExplosion(factor=bad)  # type: ignore[arg-type]


def test_a_good_run_is_not_stopped_by_the_explosion_check() -> None:
    X, y = xor_data()
    net = relu_net()
    history = net.fit(X, y, epochs=30, batch_size=16, optimizer=bp.Adam(lr=0.01))
    assert history["loss"][-1] < history["loss"][0]
