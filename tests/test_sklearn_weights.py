"""The estimators' sample_weight and class_weight, and MLPRegressor(loss="poisson")."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")
pytest.importorskip("scipy", reason="the estimators need SciPy: pip install 'backprop-mlp[sklearn]'")

from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

import backprop as bp
from backprop.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def classes_data(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.6).astype(int)  # about a quarter are class 1
    return X, y


def regression_data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=n)


def parameters(estimator: MLPClassifier | MLPRegressor) -> np.ndarray:
    return estimator.network_.params.copy()


# -- sample_weight --------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
@pytest.mark.parametrize("make", [MLPClassifier, MLPRegressor])
def test_weights_of_one_fit_as_no_weights(make: type, solver: str) -> None:
    """The gradients are the same bit for bit (each row's factor is exactly 1); the loss,
    a weighted sum, rounds in another order: lbfgs, which reads it, agrees to rounding."""
    X, y = classes_data() if make is MLPClassifier else regression_data()
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=30, random_state=0,
                  alpha=0.01, batch_size=16)
    plain = make(**params).fit(X, y)
    weighted = make(**params).fit(X, y, sample_weight=np.ones(len(y)))
    if solver == "lbfgs":
        np.testing.assert_allclose(parameters(weighted), parameters(plain), rtol=0, atol=1e-10)
    else:
        np.testing.assert_array_equal(parameters(weighted), parameters(plain))
    np.testing.assert_allclose(weighted.loss_curve_, plain.loss_curve_, rtol=1e-12)


@settings(max_examples=10, deadline=None)
@given(counts=st.lists(st.integers(0, 3), min_size=12, max_size=12).filter(
    lambda c: sum(c) > 4))
def test_integer_weights_fit_as_repeated_rows_with_lbfgs(counts: list[int]) -> None:
    X, y = regression_data(12, seed=3)
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=15, random_state=0,
                  alpha=0.1, dtype="float64")
    weighted = MLPRegressor(**params).fit(X, y, sample_weight=np.array(counts, float))
    repeated = MLPRegressor(**params).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(parameters(weighted), parameters(repeated), rtol=0, atol=1e-10)
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-10)


def test_weights_move_the_fit_toward_the_heavy_rows() -> None:
    X, y = regression_data(30)
    y = y.copy()
    y[:10] += 5.0  # the first ten rows disagree with the rest
    heavy = np.where(np.arange(30) < 10, 50.0, 1.0)
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=200, random_state=0)
    plain = MLPRegressor(**params).fit(X, y)
    weighted = MLPRegressor(**params).fit(X, y, sample_weight=heavy)
    error = lambda model: np.abs(model.predict(X[:10]) - y[:10]).mean()  # noqa: E731
    assert error(weighted) < 0.5 * error(plain)


def test_the_penalty_is_normalised_by_the_weights_sum() -> None:
    X, y = regression_data(20)
    model = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=1, alpha=2.0,
                         random_state=0).fit(X, y)
    w = np.linspace(0.5, 3.0, 20)
    net = model.network_
    from backprop.sklearn.objective import penalized_backprop

    objective = penalized_backprop(net, net.check_inputs(X), y.reshape(-1, 1), 2.0, w)
    loss = net.backprop(net.check_inputs(X), y.reshape(-1, 1), w)
    squares = sum(float(np.sum(W ** 2)) for W in model.coefs_)
    assert objective == pytest.approx(loss + 0.5 * 2.0 * squares / w.sum(), rel=1e-10)


@pytest.mark.parametrize("make", [MLPClassifier, MLPRegressor])
def test_partial_fit_takes_sample_weight(make: type) -> None:
    X, y = classes_data() if make is MLPClassifier else regression_data()
    extra = {"classes": [0, 1]} if make is MLPClassifier else {}
    plain = make(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, **extra)
    ones = make(hidden_layer_sizes=(4,), random_state=0).partial_fit(
        X, y, sample_weight=np.ones(len(y)), **extra)
    np.testing.assert_array_equal(parameters(ones), parameters(plain))
    w = np.linspace(0.0, 2.0, len(y))
    other = make(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, sample_weight=w,
                                                                      **extra)
    assert not np.array_equal(parameters(other), parameters(plain))


def test_early_stopping_keeps_the_validation_rows_weights_and_weighs_the_score(
        monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = classes_data(200)
    w = np.arange(1.0, 201.0)  # each row's weight names it
    seen = []
    score = MLPClassifier._validation_score

    def spy(self: MLPClassifier, X_val: np.ndarray, y_val: np.ndarray,
            sample_weight: np.ndarray | None = None) -> float:
        seen.append((X_val.copy(), np.asarray(y_val).copy(), sample_weight))
        return score(self, X_val, y_val, sample_weight)

    monkeypatch.setattr(MLPClassifier, "_validation_score", spy)
    model = MLPClassifier(hidden_layer_sizes=(5,), early_stopping=True, max_iter=4,
                          random_state=0).fit(X, y, sample_weight=w)
    X_val, y_val, w_val = seen[-1]
    rows = [int(np.flatnonzero((row == X).all(axis=1))[0]) for row in X_val]
    assert w_val is not None and len(rows) == 20
    np.testing.assert_array_equal(w_val, w[rows])  # each validation row kept its weight
    np.testing.assert_array_equal(y_val, y[rows])
    # the best epoch's parameters are restored: their weighted accuracy is the best score
    expected = accuracy_score(y_val, model.predict(X_val), sample_weight=w_val)
    assert model.best_validation_score_ == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("weights", "message"), [
    (np.ones(5), r"sample_weight.shape == \(5,\), expected \(60,\)"),
    (np.ones((60, 2)), "Sample weights must be 1D array or scalar"),
    (-np.ones(60), "Negative values in data passed to `sample_weight`"),
    (np.zeros(60), "Sample weights must contain at least one non-zero number"),
])
def test_bad_sample_weight_is_scikit_learns_value_error(weights: np.ndarray, message: str) -> None:
    X, y = classes_data()
    with pytest.raises(ValueError, match=message):
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y, sample_weight=weights)


def test_weights_on_a_streamed_x_are_refused_in_one_line(tmp_path: Path) -> None:
    X, y = regression_data(30)
    path = tmp_path / "X.npy"
    np.save(path, X)
    memmap = np.load(path, mmap_mode="r")
    with pytest.raises(ValueError, match="sample_weight need X in memory"):
        MLPRegressor(max_iter=2).fit(memmap, y, sample_weight=np.ones(30))


def test_a_batch_whose_weights_are_all_zero_is_skipped() -> None:
    X, y = regression_data(20)
    w = np.r_[np.zeros(10), np.ones(10)]
    params = dict(hidden_layer_sizes=(3,), solver="sgd", batch_size=10, shuffle=False,
                  max_iter=5, random_state=0)
    weighted = MLPRegressor(**params).fit(X, y, sample_weight=w)
    rest = MLPRegressor(**params).fit(X[10:], y[10:])  # the same updates, one batch each
    np.testing.assert_array_equal(parameters(weighted), parameters(rest))


# -- class_weight ---------------------------------------------------------------------------
def test_balanced_class_weight_is_the_equivalent_sample_weight_with_lbfgs() -> None:
    X, y = classes_data()
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=100, random_state=0)
    balanced = MLPClassifier(class_weight="balanced", **params).fit(X, y)
    by_hand = MLPClassifier(**params).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(parameters(balanced), parameters(by_hand), rtol=0, atol=1e-6)
    plain = MLPClassifier(**params).fit(X, y)
    assert not np.allclose(parameters(balanced), parameters(plain))


def test_balanced_counts_the_classes_by_their_weights_as_scikit_learn() -> None:
    X, y = classes_data()
    w = np.linspace(0.5, 1.5, len(y))
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=30, random_state=0)
    balanced = MLPClassifier(class_weight="balanced", **params).fit(X, y, sample_weight=w)
    per_class = compute_class_weight("balanced", classes=np.array([0, 1]), y=y, sample_weight=w)
    by_hand = MLPClassifier(**params).fit(X, y, sample_weight=w * per_class[y])
    np.testing.assert_allclose(parameters(balanced), parameters(by_hand), rtol=0, atol=1e-10)


def test_a_class_weight_dict_multiplies_sample_weight() -> None:
    X, y = classes_data()
    w = np.linspace(0.5, 1.5, len(y))
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=30, random_state=0)
    with_dict = MLPClassifier(class_weight={1: 3.0}, **params).fit(X, y, sample_weight=w)
    by_hand = MLPClassifier(**params).fit(X, y, sample_weight=w * np.where(y == 1, 3.0, 1.0))
    np.testing.assert_array_equal(parameters(with_dict), parameters(by_hand))


def test_class_weight_is_a_parameter_of_the_classifier_only() -> None:
    assert MLPClassifier().get_params()["class_weight"] is None
    assert "class_weight" not in MLPRegressor().get_params()
    model = MLPClassifier(class_weight={0: 2.0}, hidden_layer_sizes=(3,))
    assert clone(model).class_weight == {0: 2.0}
    assert model.set_params(class_weight="balanced").class_weight == "balanced"


@pytest.mark.parametrize("value", ["balance", 3, {0: -1.0}, {0: "heavy"}])
def test_a_bad_class_weight_names_the_parameter_and_its_values(value: object) -> None:
    X, y = classes_data()
    with pytest.raises(ValueError, match=r"class_weight must be None, 'balanced' or a dict"):
        MLPClassifier(class_weight=value).fit(X, y)


def test_a_class_weight_naming_a_class_not_in_y_is_a_value_error() -> None:
    X, y = classes_data()
    with pytest.raises(ValueError, match=r"class_weight names \[7\], which are not classes of y"):
        MLPClassifier(class_weight={1: 2.0, 7: 1.0}, max_iter=2).fit(X, y)


def test_partial_fit_takes_a_class_weight_dict_but_not_balanced() -> None:
    X, y = classes_data()
    model = MLPClassifier(class_weight={2: 5.0}, hidden_layer_sizes=(3,), random_state=0)
    model.partial_fit(X, y, classes=[0, 1, 2])  # 2 is a class, though not in this batch
    with pytest.raises(ValueError, match="class_weight='balanced' is not taken by partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])


def test_class_weight_shifts_the_predictions_toward_the_heavy_class() -> None:
    X, _ = classes_data(200)
    y = (X[:, 0] + np.random.default_rng(5).normal(size=200) > 0.8).astype(int)  # noisy
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=200, random_state=0,
                  alpha=1.0)
    plain = MLPClassifier(**params).fit(X, y)
    heavy = MLPClassifier(class_weight={1: 20.0}, **params).fit(X, y)
    assert (heavy.predict(X) == 1).sum() > 1.5 * (plain.predict(X) == 1).sum()


# -- loss="poisson" -------------------------------------------------------------------------
def counts_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, rng.poisson(np.exp(0.3 + X[:, 0] - 0.5 * X[:, 1]))


def test_poisson_regressor_has_an_exp_output_and_learns() -> None:
    X, y = counts_data()
    model = MLPRegressor(loss="poisson", hidden_layer_sizes=(6,), solver="lbfgs", max_iter=200,
                         random_state=0).fit(X, y)
    assert model.out_activation_ == "exp"
    assert model.network_.loss.name == "poisson"
    assert np.all(model.predict(X) > 0)
    assert model.loss_curve_[-1] < 0.8 * model.loss_curve_[0]


def test_poisson_loss_is_scikit_learns_half_deviance() -> None:
    X, y = counts_data(50)
    model = MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), solver="lbfgs", max_iter=5,
                         alpha=0.0, random_state=0).fit(X, y)
    mu = model.predict(X)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
    assert model.network_.loss_value(X, y) == pytest.approx(np.mean(y_log_y - y + mu), rel=1e-5)


@pytest.mark.parametrize(("y", "message"), [
    (np.array([1.0, -1.0, 2.0, 0.0]), "Some value\\(s\\) of y are negative"),
    (np.zeros(4), "Sum of y is not strictly positive"),
])
def test_poisson_targets_are_checked(y: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MLPRegressor(loss="poisson", max_iter=2).fit(np.ones((4, 2)), y)


def test_a_bad_loss_names_the_parameter_and_its_values() -> None:
    with pytest.raises(ValueError, match="loss must be one of squared_error, poisson, got 'mae'"):
        MLPRegressor(loss="mae").fit(np.ones((4, 2)), np.ones(4))
    assert "loss" not in MLPClassifier().get_params()


def test_a_poisson_model_pickles_saves_and_exports(tmp_path: Path) -> None:
    X, y = counts_data(60)
    model = MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), solver="lbfgs", max_iter=20,
                         random_state=0).fit(X, y)
    expected = model.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), expected)
    model.network_.save(str(tmp_path / "model.npz"))
    loaded = bp.load(str(tmp_path / "model.npz"))
    assert loaded.loss.name == "poisson" and loaded.output_layer.activation.name == "exp"
    np.testing.assert_allclose(loaded.forward(X)[:, 0], expected, rtol=1e-12)
    onnx = pytest.importorskip("onnxruntime", reason="the ONNX check needs onnxruntime")
    model.to_onnx(str(tmp_path / "model.onnx"))
    session = onnx.InferenceSession(str(tmp_path / "model.onnx"),
                                    providers=["CPUExecutionProvider"])
    (outputs,) = session.run(None, {"X": X})
    np.testing.assert_allclose(outputs[:, 0], expected, rtol=1e-9)
    torch = pytest.importorskip("torch", reason="the PyTorch check needs torch")
    module = model.to_torch().eval()
    np.testing.assert_allclose(module(torch.from_numpy(X)).detach().numpy()[:, 0], expected,
                               rtol=1e-12)
    again = bp.from_torch(module)
    assert again.loss.name == "poisson"  # exp's module is recognised, its loss follows
    np.testing.assert_allclose(again.forward(X)[:, 0], expected, rtol=1e-12)


def test_poisson_gradients_agree_with_torch_autograd() -> None:
    torch = pytest.importorskip("torch", reason="the autograd check needs torch")
    X, y = counts_data(20)
    model = MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), solver="lbfgs", max_iter=3,
                         random_state=0).fit(X, y)
    net = model.network_
    module = net.to_torch().double()
    Y = torch.from_numpy(y.reshape(-1, 1).astype(float))
    out = module(torch.from_numpy(X))
    ((torch.xlogy(Y, Y) - Y * torch.log(out) - Y + out).sum(dim=1).mean()).backward()
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for (dW, db), linear in zip(net.gradients(X, y), linears, strict=True):
        np.testing.assert_allclose(dW, linear.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(db, linear.bias.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_poisson_with_weights_and_the_stochastic_solvers() -> None:
    X, y = counts_data(100)
    w = np.linspace(0.2, 2.0, 100)
    for solver in ("adam", "sgd"):
        model = MLPRegressor(loss="poisson", solver=solver, hidden_layer_sizes=(5,),
                             max_iter=40, random_state=0, learning_rate_init=0.01)
        model.fit(X, y, sample_weight=w)
        assert model.loss_curve_[-1] < model.loss_curve_[0]
