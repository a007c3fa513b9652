"""What the estimators take beyond scikit-learn's MLP: any activation of the registry (a
user's own included), the validation loss and early stopping on it, the best weights,
the library's callbacks, a progress bar, and a warning when the loss explodes."""

from __future__ import annotations

import io
import math
import pickle
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")
pytest.importorskip("scipy", reason="the estimators need SciPy: pip install 'backprop-mlp[sklearn]'")

from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import backprop as bp
from backprop.nn.activations import Softmax, hidden_activation_names
from backprop.sklearn import LossExplosionWarning, MLPClassifier, MLPRegressor
from backprop.sklearn import progress as progress_module
from backprop.sklearn.monitoring import HeldOut
from backprop.sklearn.objective import penalized_backprop
from scaled_softsign import ScaledSoftsign, register
from ticks import Ticks


@pytest.fixture(scope="module", autouse=True)
def registered() -> Iterator[None]:
    register()
    yield


def blobs(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=n, centers=3, n_features=4, random_state=seed)
    return StandardScaler().fit_transform(X), y


def noisy_regression(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Few noisy samples, for a network large enough to overfit them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, X[:, 0] - 0.5 * X[:, 1] + rng.normal(scale=1.0, size=n)


def quiet_fit(estimator: Any, X: Any, y: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


# -- the parameters: get_params, set_params, the table's checks --------------------------------
NEW_DEFAULTS = {"early_stopping_metric": "score", "restore_best_weights": False,
                "callbacks": None, "dropout": 0.0, "batch_norm": False}


@pytest.mark.parametrize("estimator", [MLPClassifier(), MLPRegressor()])
def test_the_new_parameters_are_parameters_with_defaults_that_change_nothing(
        estimator: MLPClassifier | MLPRegressor) -> None:
    params = estimator.get_params()
    assert {k: params[k] for k in NEW_DEFAULTS} == NEW_DEFAULTS
    estimator.set_params(early_stopping_metric="loss", restore_best_weights=True,
                         callbacks=[bp.TimeLimit(60.0)])
    assert estimator.get_params()["early_stopping_metric"] == "loss"
    X, y = blobs(n=60)
    fitted = quiet_fit(type(estimator)((5,), max_iter=3, random_state=0), X, y)
    assert fitted.validation_loss_curve_ is None and fitted.callbacks_ == []


BAD = [
    ("activation", "rleu", "a hidden activation of the library by name"),
    ("activation", "softmax", "a hidden activation of the library by name"),
    ("activation", 3, "identity, logistic, tanh, relu"),
    ("early_stopping_metric", "accuracy", "one of score, loss"),
    ("restore_best_weights", "yes", "True or False"),
    ("callbacks", bp.TimeLimit(1.0), "None or a list of backprop.Callback objects"),
    ("callbacks", [print], "None or a list of backprop.Callback objects"),
]


@pytest.mark.parametrize(("name", "value", "accepted"), BAD)
def test_a_bad_value_is_scikit_learns_error_naming_the_parameter_and_its_values(
        name: str, value: object, accepted: str) -> None:
    X, y = blobs(n=20)
    with pytest.raises(ValueError, match=f"MLPClassifier: {name} must be .*{accepted}") as error:
        MLPClassifier(**{name: value}).fit(X, y)  # type: ignore[arg-type]
    assert isinstance(error.value, TypeError)  # both, as scikit-learn's parameter errors are
    assert repr(value) in str(error.value)


# -- activation: the registry's, by name or as an object ----------------------------------------
def test_every_hidden_activation_of_the_registry_is_taken_by_name() -> None:
    X, y = blobs(n=60)
    names = hidden_activation_names()
    assert "scaled_softsign" in names and "leaky_relu" in names
    for name in names:
        clf = quiet_fit(MLPClassifier((3,), activation=name, max_iter=1, random_state=0), X, y)
        assert clf.network_.layers[0].activation.name == name


def test_an_activation_object_survives_clone_and_pickle_and_trains() -> None:
    X, y = blobs()
    softsign = ScaledSoftsign(scale=1.5)
    clf = quiet_fit(MLPClassifier((8,), activation=softsign, max_iter=80,
                                  learning_rate_init=0.01, random_state=0), X, y)
    used = clf.network_.layers[0].activation
    assert isinstance(used, ScaledSoftsign) and used.scale == 1.5
    assert used is not softsign and clf.activation is softsign  # the network has its own copy
    assert clf.score(X, y) > 0.95 and clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    twin = clone(clf)  # scikit-learn deep-copies a parameter that is not an estimator
    assert twin.activation == softsign and twin.activation is not softsign
    back = pickle.loads(pickle.dumps(clf))  # the class by reference, the network as a model file
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.network_.layers[0].activation == softsign


def test_the_activation_object_is_the_same_network_as_its_registered_name() -> None:
    X, y = blobs(n=60)
    by_name = quiet_fit(MLPClassifier((4,), activation="scaled_softsign", max_iter=3,
                                      random_state=0), X, y)
    by_object = quiet_fit(MLPClassifier((4,), activation=ScaledSoftsign(), max_iter=3,
                                        random_state=0), X, y)
    np.testing.assert_array_equal(by_name.network_.params, by_object.network_.params)


class Unregistered(bp.Activation):
    name = "not_in_the_registry"

    def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=out)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return 1.0 - a * a


class ForgetsItsScale(ScaledSoftsign):
    """Its config leaves the scale out, so a model file would rebuild another σ."""

    def config(self) -> dict[str, Any]:
        return {"name": "scaled_softsign"}


@pytest.mark.parametrize("activation", [Unregistered(), ForgetsItsScale(2.0), Softmax()])
def test_an_object_the_model_file_cannot_rebuild_is_refused(activation: bp.Activation) -> None:
    X, y = blobs(n=20)
    with pytest.raises(ValueError, match=r"activation must be .*registered .*config"):
        MLPClassifier(activation=activation).fit(X, y)


# -- the validation loss, and early stopping on it ---------------------------------------------
def test_the_validation_objective_is_the_training_objective_in_inference_mode() -> None:
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 1))
    plain = bp.Network([bp.Dense(4, 6, activation="tanh"), bp.Dense(6, 1)], seed=0,
                       dtype="float64")
    held_out = HeldOut(X, y, y[:, 0])
    # no dropout: inference mode is training mode, so J is penalized_backprop's, bias-free
    assert held_out.objective(plain, 0.3) == pytest.approx(penalized_backprop(plain, X, y, 0.3),
                                                           rel=1e-12)
    weights = sum(float(np.sum(layer.W ** 2)) for layer in plain.layers)
    assert held_out.objective(plain, 0.3) - held_out.objective(plain, 0.0) == pytest.approx(
        0.3 * weights / (2 * 30), rel=1e-12)
    dropped = bp.Network([bp.Dense(4, 6, activation="tanh"), bp.Dropout(6, 0.5), bp.Dense(6, 1)],
                         seed=0, dtype="float64")
    first = held_out.objective(dropped, 0.3)
    assert held_out.objective(dropped, 0.3) == first  # no masks drawn: inference mode
    assert penalized_backprop(dropped, X, y, 0.3) != first


def stop_epoch(curve: list[float], tol: float, patience: int, larger_is_better: bool) -> int:
    """The epoch (from 1) at which scikit-learn's rule stops on ``curve``, or 0."""
    best, count = (-math.inf if larger_is_better else math.inf), 0
    for epoch, value in enumerate(curve, start=1):
        improved = value >= best + tol if larger_is_better else value <= best - tol
        best = max(best, value) if larger_is_better else min(best, value)
        count = 0 if improved else count + 1
        if count > patience:
            return epoch
    return 0


@pytest.mark.parametrize("metric", ["score", "loss"])
def test_early_stopping_records_the_validation_loss_and_stops_on_the_chosen_metric(
        metric: str) -> None:
    X, y = make_classification(n_samples=200, n_features=8, n_informative=4, flip_y=0.1,
                               random_state=0)
    clf = quiet_fit(MLPClassifier((32,), learning_rate_init=0.01, max_iter=300, tol=1e-3,
                                  early_stopping=True, validation_fraction=0.3,
                                  early_stopping_metric=metric, n_iter_no_change=5,
                                  random_state=0), X, y)
    losses, scores = clf.validation_loss_curve_, clf.validation_scores_
    assert len(losses) == len(scores) == len(clf.loss_curve_) == clf.n_iter_ < 300
    assert clf.best_validation_loss_ == min(losses)
    assert clf.best_validation_score_ == max(scores)
    by_score = stop_epoch(scores, 1e-3, 5, larger_is_better=True)
    by_loss = stop_epoch(losses, 1e-3, 5, larger_is_better=False)
    assert by_score != by_loss  # the two rules part ways on this run
    assert clf.n_iter_ == (by_score if metric == "score" else by_loss)


# -- restore_best_weights: the epoch of the lowest validation loss, bit for bit -----------------
def overfitting(restore_best_weights: bool, max_iter: int) -> MLPRegressor:
    return MLPRegressor((64, 64), batch_norm=True, learning_rate_init=0.01, max_iter=max_iter,
                        early_stopping=True, validation_fraction=0.3, n_iter_no_change=1000,
                        restore_best_weights=restore_best_weights, random_state=0)


@pytest.mark.parametrize("restore_best_weights", [True, False])
def test_the_best_epoch_is_restored_bit_for_bit(restore_best_weights: bool) -> None:
    X, y = noisy_regression()
    full = quiet_fit(overfitting(restore_best_weights, 40), X, y)
    assert full.n_iter_ == 40
    if restore_best_weights:  # the lowest validation loss
        best = int(np.argmin(full.validation_loss_curve_))
    else:  # scikit-learn's rule: the best validation score
        best = int(np.argmax(full.validation_scores_))
    assert 0 < best < 30  # it overfits: the best epoch is well before the last
    cut = quiet_fit(overfitting(restore_best_weights, best + 1), X, y)
    np.testing.assert_array_equal(full.network_.params, cut.network_.params)
    for (name, kept), (_, again) in zip(full.network_.named_state(), cut.network_.named_state(),
                                        strict=True):
        np.testing.assert_array_equal(kept, again, err_msg=name)  # BatchNorm's running stats
    assert len(full.network_.named_state()) > 0


def test_restore_best_weights_needs_a_validation_split() -> None:
    X, y = blobs(n=40)
    with pytest.raises(ValueError, match="restore_best_weights=True needs early_stopping=True"):
        MLPClassifier(restore_best_weights=True).fit(X, y)


# -- callbacks: the library's, at every epoch and batch ----------------------------------------
class Recorder(bp.Callback):
    def __init__(self) -> None:
        self.begun = self.ended = 0
        self.epochs: list[int] = []
        self.losses: list[float] = []
        self.batches: list[int] = []
        self.keys: list[str] = []

    def on_train_begin(self, state: bp.TrainingState) -> None:
        self.begun += 1

    def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        self.batches.append(int(logs["batch_size"]))

    def on_epoch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        self.epochs.append(state.epoch)
        self.losses.append(logs["loss"])
        self.keys = list(logs)

    def on_train_end(self, state: bp.TrainingState) -> None:
        self.ended += 1


def test_callbacks_see_every_epoch_and_batch_of_a_fit() -> None:
    X, y = blobs()
    given = Recorder()
    clf = quiet_fit(MLPClassifier((8,), batch_size=100, max_iter=6, early_stopping=True,
                                  n_iter_no_change=100, callbacks=[given], random_state=0), X, y)
    seen = clf.callbacks_[0]
    assert given.epochs == [] and seen is not given  # the parameter is left as it was
    assert (seen.begun, seen.ended) == (1, 1)
    assert seen.epochs == list(range(1, 7)) and seen.losses == clf.loss_curve_
    assert seen.batches == [100, 100, 16] * 6  # 216 training rows, 24 held out
    assert seen.keys == ["loss", "lr", "time", "val_loss", "val_accuracy"]


class StopAt(bp.Callback):
    def __init__(self, epoch: int, batch: int | None = None) -> None:
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        if self.batch is not None and (state.epoch, state.batch) == (self.epoch, self.batch):
            state.stop_training = True

    def on_epoch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        if self.batch is None and state.epoch == self.epoch:
            state.stop_training = True


def test_a_callback_stops_training_as_in_the_library() -> None:
    X, y = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a stop is not max_iter's warning
        at_epoch = MLPClassifier((8,), max_iter=50, callbacks=[StopAt(3)], random_state=0)
        assert at_epoch.fit(X, y).n_iter_ == 3 and at_epoch.t_ == 3 * 240
        # within an epoch: the epoch ends after that batch, its loss over the samples seen
        at_batch = MLPClassifier((8,), batch_size=50, max_iter=50, callbacks=[StopAt(2, 3)],
                                 random_state=0).fit(X, y)
    assert at_batch.n_iter_ == 2 and at_batch.t_ == 240 + 150
    three = quiet_fit(MLPClassifier((8,), max_iter=3, random_state=0), X, y)
    np.testing.assert_array_equal(at_epoch.network_.params, three.network_.params)



def test_a_time_limit_stops_a_fit() -> None:
    X, y = blobs()
    clf = MLPClassifier((8,), batch_size=60, max_iter=50,
                        callbacks=[bp.TimeLimit(10.0, clock=Ticks())], random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and clf.callbacks_[0].stopped_epoch == 3  # 4 batches an epoch


def test_model_checkpoint_writes_files_that_load(tmp_path: Any) -> None:
    X, y = blobs()
    save = bp.ModelCheckpoint(tmp_path / "epoch{epoch}.npz", every=2)
    clf = quiet_fit(MLPClassifier((8,), max_iter=4, callbacks=[save], random_state=0), X, y)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch2.npz", "epoch4.npz"]
    assert clf.callbacks_[0].last_saved_epoch == 4 and save.last_saved_epoch == 0
    last = bp.load(tmp_path / "epoch4.npz")
    np.testing.assert_array_equal(last.forward(X), clf.network_.forward(X))
    second = bp.load(tmp_path / "epoch2.npz")
    assert not np.array_equal(second.params, last.params)
    twin = clone(clf)
    assert twin.callbacks[0] is not save and twin.callbacks[0].path == save.path


def test_the_library_early_stopping_on_the_estimators_validation_loss() -> None:
    X, y = noisy_regression()
    stop = bp.EarlyStopping(monitor="val_loss", patience=3)
    reg = quiet_fit(MLPRegressor((64, 64), learning_rate_init=0.01, max_iter=300,
                                 early_stopping=True, validation_fraction=0.3,
                                 n_iter_no_change=1000, callbacks=[stop], random_state=0), X, y)
    used = reg.callbacks_[0]
    assert used.stopped_epoch == reg.n_iter_ < 300
    assert used.best == min(reg.validation_loss_curve_)
    assert used.best_epoch == 1 + int(np.argmin(reg.validation_loss_curve_))


def test_callbacks_need_a_stochastic_solver() -> None:
    X, y = blobs(n=40)
    with pytest.raises(ValueError, match="callbacks need a stochastic solver"):
        MLPClassifier(solver="lbfgs", callbacks=[Recorder()]).fit(X, y)


# -- verbose: scikit-learn's lines, or a rich bar on a terminal ---------------------------------
def test_verbose_off_a_terminal_prints_scikit_learns_lines(capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # rich absent: the same lines
    monkeypatch.setitem(sys.modules, "rich.console", None)
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((4,), max_iter=20, verbose=True, early_stopping=True,
                                  n_iter_no_change=2, tol=0.5, random_state=0), X, y)
    expected = []
    for loss, score in zip(clf.loss_curve_, clf.validation_scores_, strict=True):
        expected += [f"Iteration {len(expected) // 2 + 1}, loss = {loss:.8f}",
                     f"Validation score: {score:f}"]
    expected.append("No improvement by tol=0.5 in 2 epochs in a row. Stopping.")
    assert capsys.readouterr().out.splitlines() == expected


def test_verbose_on_a_terminal_with_rich_draws_a_bar(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rich_console = pytest.importorskip("rich.console", reason="the bar needs rich (the cli extra)")
    screen = io.StringIO()
    console = rich_console.Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(progress_module, "terminal_console", lambda: console)
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((4,), max_iter=5, verbose=True, random_state=0), X, y)
    assert capsys.readouterr().out == ""  # no scikit-learn lines beside the bar
    drawn = screen.getvalue()
    assert "5/5" in drawn and f"loss {clf.loss_curve_[-1]:.6f}" in drawn


def test_the_terminal_console_is_rich_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rich.console", reason="the bar needs rich (the cli extra)")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_module.terminal_console() is None  # pytest's captured stdout
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert progress_module.terminal_console() is not None
    monkeypatch.setitem(sys.modules, "rich.console", None)
    assert progress_module.terminal_console() is None  # rich absent: the lines


# -- an exploding loss: a warning, by the library's rule ----------------------------------------
class FirstBatch(bp.Callback):
    def __init__(self) -> None:
        self.loss: float | None = None

    def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
        if self.loss is None:
            self.loss = logs["loss"]


def test_an_exploding_loss_warns_once_naming_the_epoch_the_loss_and_the_fix() -> None:
    X, y = blobs()
    clf = MLPClassifier((8,), learning_rate_init=1e6, max_iter=30, random_state=0,
                        callbacks=[FirstBatch()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    exploded = [w for w in caught if w.category is LossExplosionWarning]
    assert issubclass(LossExplosionWarning, ConvergenceWarning) and len(exploded) == 1
    # the library's LossExplosion rule: the first epoch over 1000 times the first batch's loss
    start = max(clf.callbacks_[0].loss, 1e-3)
    over = [epoch for epoch, loss in enumerate(clf.loss_curve_, 1) if loss > 1000 * start]
    message = str(exploded[0].message)
    assert message.startswith(f"MLPClassifier: the loss exploded at epoch {over[0]}: it grew "
                              f"from {start:.4g} to {clf.loss_curve_[over[0] - 1]:.4g}, over "
                              "1000 times its start. Lower learning_rate_init (now 1e+06)")
    # and training went on, as scikit-learn's does: the defaults keep its behaviour
    assert clf.n_iter_ > over[0]


def test_a_patient_loss_explosion_rule_in_callbacks_replaces_the_default() -> None:
    X, y = blobs()
    clf = MLPClassifier((8,), learning_rate_init=1e6, max_iter=5, random_state=0,
                        callbacks=[bp.LossExplosion(factor=math.inf)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    assert not [w for w in caught if issubclass(w.category, LossExplosionWarning)]
    assert clf.loss_curve_[-1] > 1e6  # garbage, as asked


def test_a_steady_fit_gives_no_explosion_warning() -> None:
    X, y = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", LossExplosionWarning)  # checked first: added last
        clf = MLPClassifier((8,), solver="sgd", learning_rate_init=0.5, max_iter=30,
                            random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
