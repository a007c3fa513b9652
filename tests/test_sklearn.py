"""backprop.sklearn: the estimators' API, their objective, and their place in scikit-learn."""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")
pytest.importorskip("scipy", reason="the estimators need SciPy: pip install 'backprop-mlp[sklearn]'")

from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import backprop as bp
from backprop.sklearn import MLPClassifier, MLPRegressor
from backprop.sklearn.objective import penalized_backprop


def blobs(n: int = 240, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=n, centers=classes, n_features=4, random_state=seed)
    return StandardScaler().fit_transform(X), y


def quiet_fit(estimator, X, y):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


# -- the objective: scikit-learn's L2 penalty on the weights only ------------------------------
def test_the_penalized_gradient_matches_central_differences_and_spares_the_biases() -> None:
    rng = np.random.default_rng(0)
    net = bp.Network([bp.Dense(3, 4, "tanh"), bp.Dense(4, 3, "softmax")], loss="cross_entropy",
                     seed=1, dtype="float64")
    X = net.check_inputs(rng.normal(size=(6, 3)))
    Y, _ = net.prepare_targets(rng.integers(0, 3, size=6), 6)
    alpha = 0.7
    penalized_backprop(net, X, Y, alpha)
    analytic = net.grads.copy()
    theta = net.params.copy()
    numeric = np.empty_like(theta)
    h = 1e-6
    for i in range(theta.size):
        net.params[...] = theta
        net.params[i] += h
        up = penalized_backprop(net, X, Y, alpha)
        net.params[...] = theta
        net.params[i] -= h
        down = penalized_backprop(net, X, Y, alpha)
        numeric[i] = (up - down) / (2 * h)
    net.params[...] = theta
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    # the biases' gradients are those of the unpenalized loss
    net.backprop(X, Y)
    for _, name, where in net.parameter_slices:
        if name == "b":
            np.testing.assert_array_equal(analytic[where], net.grads[where])
        else:
            assert not np.allclose(analytic[where], net.grads[where])


def test_the_loss_includes_half_alpha_times_the_squared_weights_over_m() -> None:
    net = bp.Network([bp.Dense(2, 1)], loss="mse", seed=0, dtype="float64")
    X, Y = np.ones((4, 2)), np.zeros((4, 1))
    plain = net.backprop(X, Y)
    W = net.layers[0].W
    assert penalized_backprop(net, X, Y, 2.0) == pytest.approx(plain + 0.5 * 2.0 * np.sum(W**2) / 4)


# -- fit, predict, attributes -----------------------------------------------------------------
def test_classifier_learns_blobs_and_reports_scikit_learns_attributes() -> None:
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((16,), max_iter=60, random_state=0), X, y)
    assert clf.score(X, y) > 0.95
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.n_features_in_ == 4 and clf.n_outputs_ == 3 and clf.n_layers_ == 3
    assert clf.out_activation_ == "softmax"
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 2 and clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.n_iter_ == len(clf.loss_curve_) and clf.t_ == clf.n_iter_ * 240
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    proba = clf.predict_proba(X)
    assert proba.shape == (240, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_coefs_are_the_transposed_weights_and_intercepts_the_biases() -> None:
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((5, 7), max_iter=3, random_state=0), X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 5), (5, 7), (7, 3)]
    dense = [layer for layer in clf.network_.layers if isinstance(layer, bp.Dense)]
    for coef, intercept, layer in zip(clf.coefs_, clf.intercepts_, dense, strict=True):
        np.testing.assert_array_equal(coef, layer.W.T)
        np.testing.assert_array_equal(intercept, layer.b)
    # the forward pass in scikit-learn's layout gives the same probabilities
    a = X
    for coef, intercept in zip(clf.coefs_[:-1], clf.intercepts_[:-1], strict=True):
        a = np.maximum(a @ coef + intercept, 0.0)
    z = a @ clf.coefs_[-1] + clf.intercepts_[-1]
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), expected / expected.sum(axis=1, keepdims=True))


def test_binary_classification_has_one_logistic_unit_and_two_probability_columns() -> None:
    X, y = blobs(classes=2)
    labels = np.array(["no", "yes"])[y]
    clf = quiet_fit(MLPClassifier((8,), max_iter=40, learning_rate_init=0.01, random_state=0), X, labels)
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    proba = clf.predict_proba(X)
    assert proba.shape == (240, 2)
    np.testing.assert_allclose(proba[:, 0], 1.0 - proba[:, 1])
    assert set(clf.predict(X)) == {"no", "yes"} and clf.score(X, labels) > 0.95


def test_multi_label_targets_get_sigmoid_units_and_binary_cross_entropy() -> None:
    X, y = blobs(n=300, classes=4)
    Y = np.stack([y % 2, y // 2, (y == 3).astype(int)], axis=1)
    clf = quiet_fit(MLPClassifier((16,), max_iter=100, learning_rate_init=0.01, random_state=0), X, Y)
    assert clf.out_activation_ == "logistic" and clf.network_.loss.name == "binary_cross_entropy"
    assert clf.predict(X).shape == (300, 3) and clf.predict_proba(X).shape == (300, 3)
    assert clf.score(X, Y) > 0.9  # subset accuracy: every label of a sample right
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 3


def test_multi_output_regression_predicts_every_target() -> None:
    X, Y = make_regression(n_samples=300, n_features=5, n_targets=3, noise=0.1, random_state=0)
    Y = Y / Y.std(axis=0)
    reg = quiet_fit(MLPRegressor((32,), max_iter=300, learning_rate_init=0.01, random_state=0), X, Y)
    assert reg.predict(X).shape == (300, 3) and reg.n_outputs_ == 3
    assert reg.out_activation_ == "identity" and reg.score(X, Y) > 0.97
    single = quiet_fit(MLPRegressor((8,), max_iter=5, random_state=0), X, Y[:, 0])
    assert single.predict(X).shape == (300,)


def test_float32_input_gives_a_float32_network_and_dtype_forces_one() -> None:
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((4,), max_iter=2, random_state=0), X.astype(np.float32), y)
    assert clf.network_.dtype == np.float32 and clf.predict_proba(X).dtype == np.float64
    clf = quiet_fit(MLPClassifier((4,), max_iter=2, random_state=0, dtype="float32"), X, y)
    assert clf.network_.dtype == np.float32
    clf = quiet_fit(MLPClassifier((4,), max_iter=2, random_state=0), X, y)
    assert clf.network_.dtype == np.float64


def test_activation_names_of_scikit_learn_and_of_the_library() -> None:
    X, y = blobs()
    names = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
             "leaky_relu": "leaky_relu", "sigmoid": "sigmoid", "swish": "swish", "mish": "mish"}
    for given, expected in names.items():
        clf = quiet_fit(MLPClassifier((3,), activation=given, max_iter=1, random_state=0), X, y)
        assert clf.network_.layers[0].activation.name == expected


def test_the_library_parameters_shape_the_network() -> None:
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((6, 5), batch_norm=True, dropout=0.2, init="xavier_normal",
                                  max_iter=60, learning_rate_init=0.01, random_state=0), X, y)
    kinds = [type(layer).__name__ for layer in clf.network_.layers]
    # batch norm as everywhere: Dense without bias → BatchNorm → σ, then dropout
    assert kinds == ["Dense", "BatchNorm", "ActivationLayer", "Dropout"] * 2 + ["Dense"]
    first, sigma = clf.network_.layers[0], clf.network_.layers[2]
    assert isinstance(first, bp.Dense) and first.b is None and first.activation.name == "linear"
    assert isinstance(sigma, bp.ActivationLayer) and sigma.activation.name == "relu"
    assert [len(b) for b in clf.intercepts_] == [6, 5, 3]  # zeros where BatchNorm's β stands
    assert clf.network_.init == "xavier_normal" and clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="dropout needs a stochastic solver"):
        MLPClassifier(solver="lbfgs", dropout=0.5).fit(X, y)


def test_clip_norm_bounds_every_step() -> None:
    X, y = blobs()

    def epoch_step(clip_norm: float | None) -> float:
        """‖Δθ‖ of the second epoch of plain SGD (two batches: 200 + 40 samples)."""
        clf = MLPClassifier((8,), solver="sgd", momentum=0.0, learning_rate_init=0.5, max_iter=1,
                            warm_start=True, random_state=0, clip_norm=clip_norm)
        start = quiet_fit(clf, X, y).network_.params.copy()
        return float(np.linalg.norm(quiet_fit(clf, X, y).network_.params - start))

    clipped = epoch_step(1e-3)
    # each of the two batches moves θ by at most lr · clip_norm
    assert 0 < clipped <= 2 * 0.5 * 1e-3 * (1 + 1e-9)
    assert epoch_step(None) > 10 * clipped


# -- solvers, schedules, stopping -------------------------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop", "adamw", "lbfgs"])
def test_every_solver_fits(solver: str) -> None:
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((8,), solver=solver, max_iter=80, random_state=0,
                                  learning_rate_init=0.01), X, y)
    assert clf.score(X, y) > 0.95
    assert (clf.optimizer_ is None) == (solver == "lbfgs")


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop", "adamw"])
def test_the_compiled_step_fits_the_same_network_bit_for_bit(solver: str) -> None:
    pytest.importorskip("numba", reason="numba not installed (the numba extra): compiled step not tested")
    X, y = blobs()
    fitted = [quiet_fit(MLPClassifier((8,), solver=solver, max_iter=20, random_state=0,
                                      learning_rate_init=0.01, compiled_step=compiled), X, y)
              for compiled in (False, True)]
    assert fitted[1].optimizer_ is not None and fitted[1].optimizer_.compiled_step
    np.testing.assert_array_equal(fitted[0].network_.params, fitted[1].network_.params)
    assert fitted[0].loss_curve_ == fitted[1].loss_curve_
    restored = pickle.loads(pickle.dumps(fitted[1]))
    assert restored.optimizer_ is not None and restored.optimizer_.compiled_step


def test_lbfgs_respects_max_iter_and_warns_when_it_stops_there() -> None:
    X, y = blobs()
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge after 3 iteration"):
        clf = MLPClassifier((8,), solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf = MLPClassifier((8,), solver="lbfgs", max_fun=5, random_state=0).fit(X, y)
    assert clf.n_iter_ <= 5
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPClassifier((8,), solver="lbfgs", tol=1e-2, random_state=0).fit(X, y)
    assert clf.loss_ < clf.loss_curve_[0]


def test_stochastic_solver_warns_at_max_iter_and_stops_when_the_loss_stalls() -> None:
    X, y = blobs()
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(5\) reached"):
        MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPClassifier((8,), tol=0.5, n_iter_no_change=3, max_iter=100,
                            random_state=0).fit(X, y)
    # the first epoch sets best_loss_; none of the next 4 improves it by 0.5: stop
    assert clf.n_iter_ == 5


def test_learning_rate_schedules_of_sgd() -> None:
    X, y = blobs()
    inv = quiet_fit(MLPClassifier((8,), solver="sgd", learning_rate="invscaling", power_t=0.5,
                                  learning_rate_init=0.2, max_iter=4, random_state=0), X, y)
    assert inv.optimizer_ is not None
    assert inv.optimizer_.lr == pytest.approx(0.2 / (inv.t_ + 1) ** 0.5)
    adaptive = MLPClassifier((8,), solver="sgd", learning_rate="adaptive", tol=10.0,
                             n_iter_no_change=1, learning_rate_init=0.1, max_iter=7, random_state=0)
    quiet_fit(adaptive, X, y)
    # no epoch improves by tol=10: every 2nd epoch divides η by 5, and it never stops early
    assert adaptive.n_iter_ == 7 and adaptive.optimizer_ is not None
    assert adaptive.optimizer_.lr == pytest.approx(0.1 / 5**3)
    constant = quiet_fit(MLPClassifier((8,), solver="sgd", max_iter=3, random_state=0), X, y)
    assert constant.optimizer_ is not None and constant.optimizer_.lr == 0.001


def test_early_stopping_keeps_the_best_validation_score() -> None:
    X, y = blobs(n=400)
    clf = quiet_fit(MLPClassifier((8,), early_stopping=True, validation_fraction=0.2,
                                  n_iter_no_change=4, max_iter=300, learning_rate_init=0.01,
                                  random_state=0), X, y)
    assert clf.best_loss_ is None and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9
    assert clf.n_iter_ < 300
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        clf.partial_fit(X, y)


def test_batch_size_auto_is_min_200_n_and_a_larger_one_is_clipped_with_a_warning() -> None:
    X, y = blobs(n=50)
    with pytest.warns(UserWarning, match="batch_size=80 is larger than the 50 training samples"):
        quiet_fit(MLPClassifier((4,), batch_size=80, max_iter=1, random_state=0), X, y)


def test_warm_start_continues_from_the_fitted_network() -> None:
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((8,), max_iter=5, warm_start=True, random_state=0), X, y)
    before = clf.network_.params.copy()
    network = clf.network_
    quiet_fit(clf, X, y)
    # n_iter_ counts this fit's epochs, as scikit-learn counts; the curve goes on
    assert clf.network_ is network and clf.n_iter_ == 5 and len(clf.loss_curve_) == 10
    assert not np.array_equal(before, clf.network_.params)
    clf.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match=r"has \(8,\); fit with warm_start=False"):
        clf.fit(X, y)
    cold = quiet_fit(MLPClassifier((8,), max_iter=5, random_state=0), X, y)
    refit = quiet_fit(cold, X, y)
    assert refit.n_iter_ == 5


def test_warm_start_refuses_a_changed_loss() -> None:
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    counts = np.round(np.exp(y / y.std()))
    reg = quiet_fit(MLPRegressor((4,), max_iter=3, warm_start=True, random_state=0), X, counts)
    before = reg.network_.params.copy()
    reg.set_params(loss="poisson")
    with pytest.raises(ValueError, match=r"ask for output activation exp with loss poisson but "
                       r"the fitted network .* has linear with mse"):
        reg.fit(X, counts)
    with pytest.raises(ValueError, match="loss poisson but the fitted network"):
        reg.partial_fit(X, counts)
    assert np.array_equal(before, reg.network_.params)  # nothing trained
    reg.set_params(warm_start=False)
    assert quiet_fit(reg, X, counts).out_activation_ == "exp"


def test_partial_fit_needs_classes_first_and_continues_the_optimizer() -> None:
    X, y = blobs()
    clf = MLPClassifier((8,), random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be given"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 21  # one epoch per call
    assert clf.optimizer_ is not None and clf.optimizer_.t == 1 + 20 * 2
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 3
    with pytest.raises(ValueError, match=r"classes \[7\] that are not among the classes \[0, 1, 2\]"):
        clf.partial_fit(X[:3], np.array([0, 1, 7]))
    with pytest.raises(ValueError, match=r"classes \[5\] that are not among the classes \[0, 1\]"):
        MLPClassifier().partial_fit(X[:3], np.array([0, 1, 5]), classes=[0, 1])
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    reg = MLPRegressor((4,), random_state=0)
    X_r, y_r = make_regression(n_samples=80, n_features=3, random_state=0)
    reg.partial_fit(X_r, y_r / y_r.std())
    assert reg.n_iter_ == 1


def test_unfitted_estimators_and_bad_inputs_raise_one_line_errors() -> None:
    X, y = blobs()
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    with pytest.raises(NotFittedError):
        MLPRegressor().coefs_  # noqa: B018
    clf = quiet_fit(MLPClassifier((4,), max_iter=1, random_state=0), X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, np.linspace(0, 1, 240))
    # one class, as scikit-learn allows: it is always predicted
    one = quiet_fit(MLPClassifier((4,), max_iter=3, random_state=0), X, np.full(240, 7))
    np.testing.assert_array_equal(one.predict(X[:5]), np.full(5, 7))


BAD_PARAMETERS = [
    ("hidden_layer_sizes", (10, 0)),
    ("hidden_layer_sizes", "wide"),
    ("activation", "rleu"),
    ("solver", "newton"),
    ("alpha", -1.0),
    ("batch_size", 0),
    ("batch_size", "big"),
    ("learning_rate", "cyclic"),
    ("learning_rate_init", 0.0),
    ("power_t", -0.5),
    ("max_iter", 0),
    ("shuffle", "yes"),
    ("tol", -1e-4),
    ("momentum", 1.5),
    ("nesterovs_momentum", 1),
    ("early_stopping", None),
    ("validation_fraction", 1.0),
    ("beta_1", 1.0),
    ("beta_2", -0.1),
    ("epsilon", 0.0),
    ("n_iter_no_change", 0),
    ("max_fun", 0),
    ("init", "zeros"),
    ("dropout", 1.0),
    ("batch_norm", "on"),
    ("dtype", "float16"),
    ("clip_norm", 0.0),
    ("compiled_step", 1),
]


@pytest.mark.parametrize(("name", "value"), BAD_PARAMETERS)
def test_each_bad_parameter_value_is_refused_by_name(name: str, value: object) -> None:
    X, y = blobs(n=20)
    with pytest.raises(ValueError, match=f"MLPClassifier: {name} must be .*, got {re.escape(repr(value))}"):
        MLPClassifier(**{name: value}).fit(X, y)  # type: ignore[arg-type]


def test_verbose_prints_the_loss_of_every_iteration(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = blobs()
    quiet_fit(MLPClassifier((4,), max_iter=2, verbose=True, random_state=0), X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Iteration 1, loss = ") and lines[1].startswith("Iteration 2, ")


# -- scikit-learn's machinery: pipelines, searches, cloning, pickling --------------------------
def test_pipeline_column_transformer_and_cross_val_score() -> None:
    pd = pytest.importorskip("pandas", reason="ColumnTransformer on named columns needs pandas")
    X, y = blobs(n=200)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["colour"] = np.where(y == 1, "red", "blue")
    model = make_pipeline(
        ColumnTransformer([("numbers", StandardScaler(), ["a", "b", "c", "d"]),
                           ("colour", OneHotEncoder(), ["colour"])]),
        MLPClassifier((8,), max_iter=100, learning_rate_init=0.01, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(model, frame, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    clf = quiet_fit(MLPClassifier((4,), max_iter=2, random_state=0), frame[["a", "b"]], y)
    assert list(clf.feature_names_in_) == ["a", "b"]


def test_grid_and_randomized_search_pick_parameters_by_score() -> None:
    X, y = blobs(n=150)
    grid = GridSearchCV(MLPClassifier(max_iter=40, random_state=0),
                        {"hidden_layer_sizes": [(1,), (16,)], "alpha": [1e-4, 1e-2]}, cv=3)
    quiet_fit(grid, X, y)
    assert grid.best_params_["hidden_layer_sizes"] == (16,)  # one unit cannot split 3 classes
    assert grid.best_score_ > 0.9 and isinstance(grid.best_estimator_, MLPClassifier)
    search = RandomizedSearchCV(MLPRegressor(max_iter=30, random_state=0),
                                {"learning_rate_init": [1e-5, 1e-2], "activation": ["tanh", "relu"]},
                                n_iter=4, cv=3, random_state=0)
    X_r, y_r = make_regression(n_samples=150, n_features=4, noise=0.1, random_state=0)
    quiet_fit(search, X_r, y_r / y_r.std())
    assert search.best_params_["learning_rate_init"] == 1e-2


def test_a_search_in_worker_processes_gives_the_serial_result() -> None:
    # joblib's worker processes receive the estimators pickled: as model-file bytes
    X, y = blobs(n=120)
    grid = {"alpha": [1e-4, 1.0], "hidden_layer_sizes": [(2,), (8,)]}
    results = []
    for n_jobs in (1, 2):
        search = GridSearchCV(MLPClassifier(max_iter=20, learning_rate_init=0.01, random_state=0),
                              grid, cv=2, n_jobs=n_jobs)
        results.append(quiet_fit(search, X, y))
    serial, parallel = results
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(parallel.predict_proba(X), serial.predict_proba(X))


def test_clone_copies_the_parameters_but_not_the_fit() -> None:
    X, y = blobs()
    clf = quiet_fit(MLPClassifier((7,), alpha=0.1, batch_norm=True, max_iter=2, random_state=3),
                    X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "network_")
    copy.set_params(hidden_layer_sizes=(2,))
    assert clf.hidden_layer_sizes == (7,)


def test_pickle_carries_the_network_as_model_file_bytes_and_training_continues_exactly() -> None:
    X, y = blobs()
    clf = MLPClassifier((8,), batch_norm=True, dropout=0.1, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    state = clf.__getstate__()
    assert "network_" not in state and "optimizer_" not in state
    assert state["_network_file"][:2] == b"PK"  # a zip archive: the .npz model file
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(copy.coefs_[0], clf.coefs_[0])
    # the optimizer's moments, the step count and the generator travelled too
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_array_equal(copy.network_.params, clf.network_.params)
    unfitted = pickle.loads(pickle.dumps(MLPRegressor(alpha=0.5)))
    assert unfitted.alpha == 0.5 and not hasattr(unfitted, "network_")


def test_missing_scikit_learn_names_the_extra() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "try:\n    import backprop.sklearn\nexcept ImportError as e:\n    print(e)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'backprop-mlp[sklearn]'" in done.stdout


# -- scikit-learn's defaults ------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_the_default_initial_weights_are_scikit_learns_for_the_same_random_state(
    activation: str,
) -> None:
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    X, y = blobs()
    ours = MLPClassifier((30,), activation=activation, max_iter=1, random_state=3,
                         solver="lbfgs")
    ours_start = ours._sklearn_draws(np.random.RandomState(3), 4, 3)  # what fit draws first
    factor = 2.0 if activation == "logistic" else 6.0
    for (W, b), n_in, n_out in zip(ours_start, (4, 30), (30, 3), strict=True):
        limit = np.sqrt(factor / (n_in + n_out))
        assert W.shape == (n_out, n_in) and np.abs(W).max() <= limit and np.abs(b).max() <= limit
        # uniform on (−limit, limit): the spread is limit / √3
        assert np.std(np.concatenate([W.ravel(), b])) == pytest.approx(limit / np.sqrt(3), rel=0.2)
    # drawn as scikit-learn draws them: its numbers for the same random_state
    fitted = quiet_fit(ours.set_params(max_iter=1, max_fun=1), X, y)
    reference = SkMLPClassifier((30,), activation=activation, random_state=3)
    reference._random_state = np.random.RandomState(3)
    reference.n_outputs_ = 3
    reference._label_binarizer = fitted._label_binarizer
    reference._initialize(np.eye(3)[y], [4, 30, 3], np.float64)
    for (W, b), coef, intercept in zip(ours_start, reference.coefs_, reference.intercepts_,
                                       strict=True):
        np.testing.assert_array_equal(W.T, coef)
        np.testing.assert_array_equal(b, intercept)


def test_he_initialisation_is_one_parameter_away() -> None:
    X, y = blobs()
    he = quiet_fit(MLPClassifier((200,), init="he_uniform", max_iter=1, random_state=0,
                                 learning_rate_init=1e-12), X, y)
    W = he.network_.layers[0].W
    assert np.std(W) == pytest.approx(np.sqrt(6 / 4) / np.sqrt(3), rel=0.1)  # U(±√(6 / n_in))
    assert np.allclose(he.network_.layers[0].b, 0, atol=1e-9)


def test_n_iter_is_counted_per_call_as_scikit_learn_counts() -> None:
    X, y = blobs()
    clf = MLPClassifier((8,), max_iter=10, warm_start=True, n_iter_no_change=np.inf,
                        random_state=0)
    for _ in range(3):
        with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
            clf.fit(X, y)
        assert clf.n_iter_ == 10
    assert len(clf.loss_curve_) == 30
    with pytest.raises(ValueError, match=r"warm_start can only be used where `y` has the same "
                       r"classes.*Previously got \[0 1 2\], `y` has \[0 1\]"):
        clf.fit(X, y % 2)
    online = MLPClassifier((8,), random_state=0)
    for _ in range(4):
        online.partial_fit(X, y, classes=[0, 1, 2])
    assert online.n_iter_ == 1 and len(online.loss_curve_) == 4
    with pytest.raises(ValueError, match=r"`classes=\[0, 1, 5\]` is not the same as on last call"):
        online.partial_fit(X, y, classes=[0, 1, 5])


def test_a_diverging_fit_raises_scikit_learns_value_error_or_keeps_the_best_epoch() -> None:
    X, y = blobs()
    big = X * 1e200
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPRegressor((8,), random_state=0).fit(big, y.astype(float))
    reg = MLPRegressor((50,), solver="sgd", learning_rate_init=1.0, early_stopping=True,
                       max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y.astype(float))
    assert reg.validation_scores_ is not None and np.isnan(reg.validation_scores_[-1])
    assert np.isfinite(reg.network_.params).all() and np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("estimator", [MLPClassifier((8,), max_iter=5, random_state=0),
                                       MLPRegressor((8,), max_iter=5, random_state=0)])
def test_the_estimators_go_to_torch(estimator: MLPClassifier | MLPRegressor) -> None:
    torch = pytest.importorskip("torch")
    X, y = blobs()
    fitted = quiet_fit(estimator, X, y if isinstance(estimator, MLPClassifier) else X[:, 0])
    module = fitted.to_torch().eval()
    with torch.no_grad():
        outputs = module(torch.from_numpy(X)).numpy()
    if isinstance(fitted, MLPClassifier):
        np.testing.assert_allclose(outputs, fitted.predict_proba(X), rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(outputs[:, 0], fitted.predict(X), rtol=1e-10, atol=1e-12)
    with pytest.raises(NotFittedError):
        type(estimator)().to_torch()
