"""Checkpoints: ModelCheckpoint files, bit-for-bit resume, and the last good file after divergence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import backprop as bp


def data(m: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(m, 4))
    return X, (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)


def make_net(dtype: str = "float64") -> bp.Network:
    return bp.Network(
        [
            bp.Dense(4, 10, activation="relu"),
            bp.Dropout(10, 0.3),
            bp.Dense(10, 6, activation="tanh"),
            bp.Dense(6, 2, activation="softmax"),
        ],
        loss="cross_entropy", seed=11, dtype=dtype,
    )


class Interrupt(bp.Callback):
    """Raises KeyboardInterrupt at the end of epoch ``after`` (a user pressing Ctrl-C)."""

    def __init__(self, after: int) -> None:
        self.after = after

    def on_epoch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        if state.epoch == self.after:
            raise KeyboardInterrupt


OPTIMIZERS: dict[str, Callable[[], bp.Optimizer]] = {
    "sgd_momentum": lambda: bp.SGD(lr=0.05, momentum=0.9),
    "nesterov_wd": lambda: bp.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda: bp.Adam(lr=0.01),
    "adamw": lambda: bp.AdamW(lr=0.01),
    "rmsprop": lambda: bp.RMSProp(lr=0.005, momentum=0.5),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("interrupt_after", [1, 4])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_an_interrupted_run_resumed_equals_the_uninterrupted_run_bit_for_bit(
    tmp_path: Path, name: str, interrupt_after: int, dtype: str
) -> None:
    X, y = data()
    epochs = 7
    options = dict(
        epochs=epochs, batch_size=8, shuffle=True, validation_split=0.2,
        schedule=bp.LinearWarmup(2, bp.CosineAnnealing(T_max=5)),
    )
    reference = make_net(dtype)
    full = reference.fit(X, y, optimizer=OPTIMIZERS[name](), **options)  # type: ignore[arg-type]

    path = tmp_path / "run.npz"
    net = make_net(dtype)
    with pytest.raises(KeyboardInterrupt):
        net.fit(
            X, y, optimizer=OPTIMIZERS[name](),
            callbacks=[bp.ModelCheckpoint(path, every=1), Interrupt(interrupt_after)],
            **options,  # type: ignore[arg-type]
        )
    # A new process: a fresh network and optimizer, everything else from the file.
    resumed_net = make_net(dtype)
    resumed = resumed_net.fit(
        X, y, optimizer=OPTIMIZERS[name](), resume_from=path,
        callbacks=[bp.ModelCheckpoint(path, every=1)], **options,  # type: ignore[arg-type]
    )
    np.testing.assert_array_equal(resumed_net.params, reference.params)
    assert resumed.epochs == list(range(1, epochs + 1))
    for key in ("loss", "accuracy", "val_loss", "lr"):
        assert resumed[key] == full[key]
    assert resumed_net.rng.bit_generator.state == reference.rng.bit_generator.state


class InterruptMidEpoch(bp.Callback):
    """Raises KeyboardInterrupt in the middle of an epoch, after some of its updates."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        if (state.epoch, state.batch) == (self.epoch, self.batch):
            raise KeyboardInterrupt


def test_an_interruption_mid_epoch_resumes_from_the_last_completed_epoch(tmp_path: Path) -> None:
    X, y = data()
    options = dict(epochs=5, batch_size=8, clip_norm=1.0, schedule=bp.StepDecay(2, 0.5))
    reference = make_net()
    reference.fit(X, y, optimizer=bp.SGD(lr=0.1, momentum=0.9), **options)  # type: ignore[arg-type]
    path = tmp_path / "run.npz"
    net = make_net()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, optimizer=bp.SGD(lr=0.1, momentum=0.9),
                callbacks=[bp.ModelCheckpoint(path), InterruptMidEpoch(3, 4)],
                **options)  # type: ignore[arg-type]
    assert bp.load_checkpoint(path)[1].epoch == 2
    again = make_net()
    again.fit(X, y, optimizer=bp.SGD(lr=0.1, momentum=0.9), resume_from=path,
              **options)  # type: ignore[arg-type]
    np.testing.assert_array_equal(again.params, reference.params)


def test_resume_without_an_optimizer_rebuilds_it_from_the_checkpoint(tmp_path: Path) -> None:
    # The rebuilt Adam's lr is the last scheduled one: the schedule's base lr
    # (optimizer.initial_lr) must come from the checkpoint.
    X, y = data()
    options = dict(epochs=5, batch_size=10, schedule=bp.ExponentialDecay(0.5))
    reference = make_net()
    full = reference.fit(X, y, optimizer=bp.Adam(lr=0.02), **options)  # type: ignore[arg-type]
    path = tmp_path / "run.npz"
    net = make_net()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, optimizer=bp.Adam(lr=0.02),
                callbacks=[bp.ModelCheckpoint(path), Interrupt(2)], **options)  # type: ignore[arg-type]
    again = make_net()
    resumed = again.fit(X, y, resume_from=path, **options)  # type: ignore[arg-type]
    np.testing.assert_array_equal(again.params, reference.params)
    assert resumed["lr"] == full["lr"] == [0.02 * 0.5**e for e in range(5)]


def test_batchnorm_running_statistics_resume_exactly(tmp_path: Path) -> None:
    X, y = data()

    def bn_net() -> bp.Network:
        return bp.Network(
            [bp.Dense(4, 8, activation="relu"), bp.BatchNorm(8), bp.Dense(8, 2, activation="softmax")],
            loss="cross_entropy", seed=2, dtype="float32",
        )

    reference = bn_net()
    reference.fit(X, y, epochs=4, batch_size=16, optimizer=bp.Adam(lr=0.01))
    path = tmp_path / "bn.npz"
    net = bn_net()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=4, batch_size=16, optimizer=bp.Adam(lr=0.01),
                callbacks=[bp.ModelCheckpoint(path), Interrupt(2)])
    again = bn_net()
    again.fit(X, y, epochs=4, batch_size=16, optimizer=bp.Adam(lr=0.01), resume_from=path)
    np.testing.assert_array_equal(again.params, reference.params)
    for layer, ref in zip(again.layers, reference.layers, strict=True):
        for key, value in layer.state_arrays().items():
            np.testing.assert_array_equal(value, ref.state_arrays()[key])


def test_a_checkpoint_loads_as_a_plain_model_and_with_its_training_state(tmp_path: Path) -> None:
    X, y = data()
    net = make_net()
    opt = bp.Adam(lr=0.01)
    path = tmp_path / "ckpt.npz"
    history = net.fit(X, y, epochs=3, batch_size=10, optimizer=opt,
                      schedule=bp.ExponentialDecay(0.5), callbacks=[bp.ModelCheckpoint(path)])
    plain = bp.load(path)
    np.testing.assert_array_equal(plain.params, net.params)
    np.testing.assert_array_equal(plain.forward(X), net.forward(X))
    loaded, state = bp.load_checkpoint(path)
    np.testing.assert_array_equal(loaded.params, net.params)
    assert state.epoch == 3
    assert state.history["loss"] == history["loss"]
    assert state.history_epochs == [1, 2, 3]
    assert state.optimizer == opt.config()
    assert state.optimizer_t == opt.t == 15
    assert state.initial_lr == 0.01
    assert state.rng_state == net.rng.bit_generator.state
    assert set(state.optimizer_arrays) == {"exp_avg", "exp_avg_sq"}
    np.testing.assert_array_equal(state.optimizer_arrays["exp_avg"], opt.state_dict()["arrays"]["exp_avg"])


def test_a_plain_model_file_cannot_resume(tmp_path: Path) -> None:
    X, y = data()
    net = make_net()
    path = tmp_path / "model.npz"
    net.save(str(path))
    with pytest.raises(bp.ModelFileError, match="without training state"):
        bp.load_checkpoint(path)
    with pytest.raises(bp.ModelFileError, match="without training state"):
        make_net().fit(X, y, epochs=2, resume_from=path)


def test_resume_checks_architecture_and_optimizer(tmp_path: Path) -> None:
    X, y = data()
    path = tmp_path / "run.npz"
    make_net().fit(X, y, epochs=1, optimizer=bp.Adam(), callbacks=[bp.ModelCheckpoint(path)])
    with pytest.raises(ValueError, match="optimizer 'adam'"):
        make_net().fit(X, y, epochs=2, optimizer=bp.SGD(lr=0.1), resume_from=path)
    other = bp.Network([bp.Dense(4, 3, activation="tanh"), bp.Dense(3, 2, activation="softmax")],
                       loss="cross_entropy", seed=0, dtype="float64")
    with pytest.raises(ValueError, match="another architecture"):
        other.fit(X, y, epochs=2, resume_from=path)


def test_resume_of_a_finished_run_trains_nothing_more(tmp_path: Path) -> None:
    X, y = data()
    path = tmp_path / "run.npz"
    net = make_net()
    net.fit(X, y, epochs=3, optimizer=bp.Adam(), callbacks=[bp.ModelCheckpoint(path)])
    again = make_net()
    history = again.fit(X, y, epochs=3, resume_from=path)
    np.testing.assert_array_equal(again.params, net.params)
    assert history.epochs == [1, 2, 3]


class Curve(bp.Callback):
    """Overwrites logs["val_loss"] with a crafted curve and keeps the weights of every epoch."""

    def __init__(self, curve: list[float]) -> None:
        self.curve = curve
        self.params: list[np.ndarray] = []

    def on_epoch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        logs["val_loss"] = self.curve[state.epoch - 1]
        # The history was written before the callbacks ran: record the value there too.
        state.history.history.setdefault("val_loss", []).append(logs["val_loss"])
        self.params.append(state.network.params.copy())


class Saves(bp.ModelCheckpoint):
    """A ModelCheckpoint that records the epochs it saved at."""

    saved: list[int]

    def save(self, state: bp.TrainingState) -> None:
        self.saved = [*getattr(self, "saved", []), state.epoch]
        super().save(state)


def test_save_best_only_keeps_the_best_epoch(tmp_path: Path) -> None:
    X, y = data()
    path = tmp_path / "best.npz"
    curve = Curve([3.0, 2.0, 2.5, 1.0, 1.5])
    save = bp.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    make_net().fit(X, y, epochs=5, batch_size=10, lr=0.1, callbacks=[curve, save])
    assert (save.best, save.best_epoch, save.last_saved_epoch) == (1.0, 4, 4)
    loaded, state = bp.load_checkpoint(path)
    assert state.epoch == 4
    np.testing.assert_array_equal(loaded.params, curve.params[3])


def test_every_n_epochs_and_epoch_in_the_file_name(tmp_path: Path) -> None:
    X, y = data()
    save = bp.ModelCheckpoint(tmp_path / "e{epoch:03d}.npz", every=2)
    make_net().fit(X, y, epochs=5, batch_size=10, lr=0.1, callbacks=[save])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e002.npz", "e004.npz"]
    assert save.last_saved_epoch == 4


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"every": 0}, ValueError),
        ({"every": 1.5}, TypeError),
        ({"every": True}, TypeError),
        ({"monitor": ""}, TypeError),
        ({"mode": "up"}, ValueError),
        ({"save_best_only": True}, ValueError),
        ({"save_best_only": True, "monitor": "val_loss", "every": 2}, ValueError),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        bp.ModelCheckpoint(tmp_path / "x.npz", **kwargs)  # type: ignore[arg-type]


def test_a_missing_monitored_key_is_a_clear_error(tmp_path: Path) -> None:
    X, y = data()
    with pytest.raises(ValueError, match=r"val_loss.*available"):
        make_net().fit(X, y, epochs=1, callbacks=[bp.ModelCheckpoint(tmp_path / "x.npz", monitor="val_loss")])


class Snapshot(bp.Callback):
    """Keeps a copy of the weights at the end of every completed epoch."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []

    def on_epoch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        self.params.append(state.network.params.copy())


@pytest.mark.parametrize(("dtype", "batch_size"), [("float32", 32), ("float64", 16)])
def test_divergence_leaves_finite_weights_and_the_last_good_checkpoint(
    tmp_path: Path, dtype: str, batch_size: int
) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.normal(size=64)
    net = bp.Network(
        [bp.Dense(3, 16, activation="relu"), bp.Dense(16, 1, activation="linear")],
        loss="mse", seed=0, dtype=dtype,
    )
    path = tmp_path / "last.npz"
    snapshots = Snapshot()
    with pytest.raises(
        bp.DivergenceError,
        match=r"^training diverged at epoch (2, batch 1: non-finite (loss|gradient) in "
        r"(the loss of the output layer \(layer 2\)|layer [12] [Wb]);|1: the loss grew)",
    ) as caught:
        net.fit(X, y, epochs=50, batch_size=batch_size, lr=1e3,
                callbacks=[bp.ModelCheckpoint(path, every=1), snapshots])
    assert "try a smaller learning rate (now 1000)" in str(caught.value)
    assert np.all(np.isfinite(net.params))
    assert len(snapshots.params) == 1
    loaded, state = bp.load_checkpoint(path)  # the checkpoint of epoch 1, the last good one
    assert state.epoch == 1
    assert np.all(np.isfinite(loaded.params))
    np.testing.assert_array_equal(loaded.params, snapshots.params[-1])
    np.testing.assert_array_equal(bp.load(path).params, snapshots.params[-1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.npz"]  # no temporary left


def test_an_update_that_overflows_is_undone_and_named() -> None:
    # Loss ½·(10¹⁸)² and gradient 10³⁶ fit in float32; η·g = 10³⁹ does not.
    net = bp.Network([bp.Dense(1, 1, activation="linear")], loss="mse", seed=0, dtype="float32")
    net.layers[0].W[...] = 1.0
    net.layers[0].b[...] = 0.0
    before = net.params.copy()
    with pytest.raises(
        bp.DivergenceError,
        match=r"epoch 1, batch 1: the update made layer 1 W non-finite \(the gradients were finite\)",
    ):
        net.fit(np.array([[1e18]]), np.array([0.0]), epochs=3, batch_size=None, lr=1e3)
    np.testing.assert_array_equal(net.params, before)


def _rewrite(path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    change(arrays)
    np.savez(path, **arrays)  # type: ignore[arg-type]


def test_optimizer_arrays_in_a_file_without_training_state_are_still_rejected(
    tmp_path: Path,
) -> None:
    X, y = data()
    path = tmp_path / "run.npz"
    make_net().fit(X, y, epochs=1, optimizer=bp.Adam(), callbacks=[bp.ModelCheckpoint(path)])
    _rewrite(path, lambda arrays: arrays.pop("__training__"))
    with pytest.raises(bp.ModelFileError, match=r"does not use.*optimizer\.exp_avg"):
        bp.load(path)


def test_unreadable_training_state_is_a_model_file_error(tmp_path: Path) -> None:
    X, y = data()
    path = tmp_path / "run.npz"
    make_net().fit(X, y, epochs=1, optimizer=bp.Adam(), callbacks=[bp.ModelCheckpoint(path)])

    def garble(arrays: dict[str, np.ndarray]) -> None:
        arrays["__training__"] = np.frombuffer(b'{"epoch": "x"}', dtype=np.uint8)

    _rewrite(path, garble)
    assert np.all(np.isfinite(bp.load(path).params))  # a plain load does not read it
    with pytest.raises(bp.ModelFileError, match="unreadable training state"):
        bp.load_checkpoint(path)


def test_save_best_only_remembers_the_best_across_a_resume(tmp_path: Path) -> None:
    X, y = data()
    path = tmp_path / "best.npz"
    first = Curve([3.0, 1.0, 2.0, 2.5, 0.5])
    with pytest.raises(KeyboardInterrupt):
        make_net().fit(
            X, y, epochs=5, batch_size=10, optimizer=bp.SGD(lr=0.1),
            callbacks=[first, bp.ModelCheckpoint(path, monitor="val_loss", save_best_only=True),
                       Interrupt(3)],
        )
    assert bp.load_checkpoint(path)[1].epoch == 2
    # Resumed from the best file (epoch 2): epoch 3's 2.0 does not beat the restored best 1.0.
    second = Curve([3.0, 1.0, 2.0, 2.5, 0.5])
    save = Saves(path, monitor="val_loss", save_best_only=True)
    make_net().fit(X, y, epochs=5, batch_size=10, optimizer=bp.SGD(lr=0.1),
                   callbacks=[second, save], resume_from=path)
    assert save.saved == [5]
    assert (save.best, save.best_epoch, save.last_saved_epoch) == (0.5, 5, 5)
    loaded, state = bp.load_checkpoint(path)
    assert state.epoch == 5
    assert state.history["val_loss"] == [3.0, 1.0, 2.0, 2.5, 0.5]
    assert state.history_epochs == [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(loaded.params, second.params[-1])
