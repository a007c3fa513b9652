"""Bad input gets a clear ValueError or TypeError that names the problem; bad data is a
DataError and a bad argument an OptionError, both BackpropErrors a front end can tell
from bugs."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.validation import check_inputs


def classifier() -> bp.Network:
    return bp.Network(
        [bp.Dense(3, 4, activation="relu"), bp.Dense(4, 5, activation="softmax")],
        loss="cross_entropy", seed=0,
    )


X_OK = np.zeros((6, 3))
Y_OK = np.array([0, 1, 2, 3, 4, 0])


BAD_DATA = [
    (np.zeros((6, 2)), Y_OK, ValueError, "X has 2 features per sample but the network's first layer expects 3"),
    (X_OK, Y_OK[:5], ValueError, "X has 6 rows but y has 5"),
    (np.where(np.eye(6, 3) == 1, np.nan, 0.0), Y_OK, ValueError, r"X contains nan at row 0, column 0; NaN and inf"),
    (np.full((6, 3), np.inf), Y_OK, ValueError, "X contains inf at row 0, column 0"),
    (X_OK, np.array([0, 1, 2, 3, 4, np.nan]), ValueError, "y contains nan at row 5"),
    (X_OK, np.array([0, 1, 2, 3, 4, 5]), ValueError, r"class label 5 at row 5 is out of range for 5 output units \(valid: 0..4\)"),
    (X_OK, np.array([0, 1, -1, 3, 4, 0]), ValueError, "class label -1 at row 2"),
    (X_OK, np.array([0, 1, 2.5, 3, 4, 0]), ValueError, "integer class labels.*2.5 at row 2"),
    (np.zeros((0, 3)), np.zeros(0), ValueError, "empty dataset: X has 0 rows"),
    (np.zeros(3), Y_OK, ValueError, r"X must be 2-D \(samples × features\), got shape \(3,\)"),
    (np.array([["a", "b", "c"]] * 6), Y_OK, TypeError, "X must be numeric"),
    (X_OK, np.zeros((6, 4)), ValueError, r"y has shape \(6, 4\) but the network has 5 output units"),
    (X_OK, np.full((6, 5), 0.5), ValueError, "cross_entropy targets must sum to 1 per sample; row 0 sums to 2.5"),
    (np.full((6, 3), 1e39), Y_OK, ValueError, r"X holds 1e\+39 at row 0, column 0, which overflows float32"),
]


@pytest.mark.parametrize(("X", "y", "error", "message"), BAD_DATA)
def test_bad_training_data(X: np.ndarray, y: np.ndarray, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        classifier().fit(X, y, epochs=1, lr=0.1)


@pytest.mark.parametrize(("method", "args"), [
    ("predict", (np.zeros((2, 4)),)),
    ("forward", (np.zeros((2, 4)),)),
    ("evaluate", (np.zeros((2, 4)), np.zeros(2))),
    ("gradients", (np.zeros((2, 4)), np.zeros(2))),
])
def test_every_entry_point_checks_the_feature_count(method: str, args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError, match="X has 4 features per sample"):
        getattr(classifier(), method)(*args)


def test_binary_targets_must_be_probabilities() -> None:
    net = bp.Network([bp.Dense(2, 1, activation="sigmoid")], loss="binary_cross_entropy")
    with pytest.raises(ValueError, match=r"binary_cross_entropy targets must lie in \[0, 1\], got 2.0 at row 1"):
        net.fit(np.zeros((3, 2)), np.array([0, 2, 1]), lr=0.1)


BAD_FIT_ARGUMENTS = [
    ({"lr": 0.0}, ValueError, "lr must be a finite number > 0, got 0.0"),
    ({"lr": -1}, ValueError, "lr must be a finite number > 0"),
    ({"lr": float("nan")}, ValueError, "lr must be a finite number > 0"),
    ({"lr": "fast"}, TypeError, "lr must be a number"),
    ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
    ({"epochs": 1.5}, TypeError, "epochs must be an integer"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ({"batch_size": -4}, ValueError, "batch_size must be a positive integer"),
    ({"optimizer": bp.SGD(0.1), "lr": 0.1}, ValueError, "give the learning rate to the optimizer"),
    ({"validation_data": np.zeros(3)}, TypeError, r"validation_data must be a pair"),
    ({"validation_split": 0.0}, ValueError, r"validation_split must be in \(0, 1\), got 0.0"),
    ({"validation_split": 1}, ValueError, r"validation_split must be in \(0, 1\), got 1"),
    ({"validation_split": "20%"}, TypeError, "validation_split must be a number"),
    ({"validation_split": 0.5, "validation_data": (X_OK, Y_OK)}, ValueError, "not both"),
    ({"clip_norm": 0.0}, ValueError, "clip_norm must be a finite number > 0, got 0.0"),
    ({"clip_norm": -1.0}, ValueError, "clip_norm must be a finite number > 0"),
    ({"clip_norm": float("nan")}, ValueError, "clip_norm must be a finite number > 0"),
    ({"clip_norm": "1"}, TypeError, "clip_norm must be a number"),
    ({"schedule": 0.1}, TypeError, r"schedule must be callable as schedule\(epoch, base_lr\)"),
    ({"schedule": lambda e, lr: float("inf")}, ValueError, "scheduled lr must be a finite number ≥ 0"),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_FIT_ARGUMENTS)
def test_bad_hyperparameters(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        classifier().fit(X_OK, Y_OK, **{"lr": 0.1, **kwargs})  # type: ignore[arg-type]


BAD_CONSTRUCTION = [
    (lambda: bp.Dense(0, 3), ValueError, "n_in must be positive, got 0"),
    (lambda: bp.Dense(3, -2), ValueError, "n_out must be positive, got -2"),
    (lambda: bp.Dense(2.5, 3), TypeError, "n_in must be an integer"),
    (lambda: bp.Dense(2, 3, activation="sigmoidd"), ValueError, r"unknown activation 'sigmoidd'; valid: linear, sigmoid, tanh, relu, leaky_relu, softmax"),
    (lambda: bp.Dense(2, 3, init="zeros"), ValueError, r"unknown init 'zeros'; valid: auto, sklearn_uniform, sklearn_logistic_uniform, small_random, xavier_uniform"),
    (lambda: bp.Network([bp.Dense(2, 3)], loss="l1"), ValueError, r"unknown loss 'l1'; valid: mse, binary_cross_entropy, cross_entropy"),
    (lambda: bp.Network([bp.Dense(2, 3)], init="orthogonal"), ValueError, "unknown init 'orthogonal'"),
    (lambda: bp.Network([bp.Dense(2, 3)], dtype="float16"), ValueError, "dtype must be one of float32, float64"),
    (lambda: bp.Network([]), TypeError, "layers must be a non-empty list"),
    (lambda: bp.Network([bp.Dense(2, 3), bp.Dense(4, 1)]), ValueError, "layer 2 expects 4 inputs but layer 1 gives 3 outputs"),
    (lambda: bp.Network([bp.Dense(2, 1, activation="softmax")], loss="mse"), ValueError, "softmax on a single output unit"),
    (lambda: bp.Network([bp.Dense(2, 1, activation="sigmoid")], loss="cross_entropy"), ValueError, "cross_entropy needs one output unit per class"),
    (lambda: bp.Network([bp.Dense(2, 3, activation="relu")], loss="cross_entropy"), ValueError, r"cross_entropy needs outputs in \(0, 1\) but a relu output"),
    (lambda: bp.Network([bp.Dense(2, 1)], loss="binary_cross_entropy"), ValueError, "binary_cross_entropy needs outputs in \\(0, 1\\) but a linear output"),
    (lambda: bp.SGD(lr=0), ValueError, "lr must be a finite number > 0"),
    (lambda: bp.Adam(betas=(0.9, 1.0)), ValueError, r"betas must each be in \[0, 1\)"),
]


@pytest.mark.parametrize(("build", "error", "message"), BAD_CONSTRUCTION)
def test_bad_construction(build: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build()  # type: ignore[operator]


def test_setting_weights_checks_shape_and_values() -> None:
    net = classifier()
    with pytest.raises(ValueError, match=r"W must have shape \(4, 3\), got \(3, 4\)"):
        net.layers[0].W = np.zeros((3, 4))
    with pytest.raises(ValueError, match="W contains NaN or inf"):
        net.layers[0].W = np.full((4, 3), np.nan)
    net.layers[0].W = np.ones((4, 3))
    assert net.params[:12].sum() == 12.0  # the view into the flat buffer was written


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_found_at_any_position(dtype: type, bad: float) -> None:
    X = np.zeros((7, 3), dtype=dtype)
    X[5, 2] = bad
    with pytest.raises(ValueError, match=r"row 5, column 2"):
        check_inputs(X, 3, np.dtype(dtype))


def test_huge_finite_values_pass_although_their_squares_overflow() -> None:
    X = np.full((4, 2), 3e38, dtype=np.float32)  # Σ x² overflows float32: the exact check decides
    np.testing.assert_array_equal(check_inputs(X, 2, np.dtype(np.float32)), X)


@pytest.mark.parametrize(("X", "y", "error", "message"), BAD_DATA)
def test_bad_data_is_a_data_error(X: np.ndarray, y: np.ndarray, error: type,
                                  message: str) -> None:
    with pytest.raises(bp.DataError, match=message) as raised:
        classifier().fit(X, y, epochs=1, lr=0.1)
    assert isinstance(raised.value, error)  # the built-in base class stays


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_FIT_ARGUMENTS)
def test_a_bad_argument_is_an_option_error(kwargs: dict[str, object], error: type,
                                           message: str) -> None:
    with pytest.raises(bp.OptionError, match=message) as raised:
        classifier().fit(X_OK, Y_OK, **{"lr": 0.1, **kwargs})  # type: ignore[arg-type]
    assert isinstance(raised.value, error) and isinstance(raised.value, bp.BackpropError)


@pytest.mark.parametrize(("build", "error", "message"), BAD_CONSTRUCTION)
def test_a_bad_construction_is_an_option_error(build: object, error: type,
                                               message: str) -> None:
    with pytest.raises(bp.OptionError, match=message) as raised:
        build()  # type: ignore[operator]
    assert isinstance(raised.value, error)


def test_the_error_kinds_keep_their_builtin_bases() -> None:
    assert issubclass(bp.DataError, ValueError) and issubclass(bp.ModelFileError, ValueError)
    assert issubclass(bp.OptionError, ValueError) and issubclass(bp.DivergenceError, RuntimeError)
    assert issubclass(bp.OptionTypeError, TypeError) and issubclass(bp.DataTypeError, TypeError)
    for kind in (bp.DataError, bp.ModelFileError, bp.OptionError, bp.DivergenceError):
        assert issubclass(kind, bp.BackpropError)
    assert not issubclass(ValueError, bp.BackpropError)


def narrow_network(compiled: bool = False) -> bp.Network:
    """20 inputs into 8 ReLU units: the first product is narrower than X."""
    return bp.Network([bp.Dense(20, 8, activation="relu"), bp.Dense(8, 3, activation="softmax")],
                      loss="cross_entropy", seed=0, compiled=compiled)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("row", [0, 2500])  # the first block of predict, and a later one
def test_predict_names_a_non_finite_entry_found_through_the_first_product(
        bad: float, row: int) -> None:
    net = narrow_network()
    X = np.random.default_rng(0).normal(size=(3000, 20)).astype(np.float32)
    X[row, 7] = bad  # −inf under ReLU: Z is −inf there, though a^[1] would be 0
    with pytest.raises(bp.DataError, match=rf"X contains {bad} at row {row}, column 7"):
        net.predict(X)
    with pytest.raises(bp.DataError, match=rf"at row {row}, column 7"):
        net.predict_proba(X)


def test_predict_names_a_value_the_cast_to_float32_overflows() -> None:
    X = np.random.default_rng(0).normal(size=(10, 20))
    X[4, 2] = 1e39
    with pytest.raises(bp.DataError, match=r"X holds 1e\+39 at row 4, column 2, which overflows "
                       "float32"):
        narrow_network().predict(X)


def test_a_finite_X_is_not_searched_and_non_finite_weights_still_predict(
        monkeypatch: pytest.MonkeyPatch) -> None:
    net = narrow_network()
    X = np.random.default_rng(0).normal(size=(3000, 20)).astype(np.float32)
    expected = net.forward_checked(check_inputs(X, 20, np.dtype(np.float32)))

    def searched(*args: object) -> None:
        raise AssertionError("X was searched")

    with monkeypatch.context() as patch:
        patch.setattr(bp.Network, "check_inputs", searched)
        np.testing.assert_array_equal(net.forward(X), expected)  # the same numbers
    net.layers[0].W[3, 5] = np.nan  # weights gone bad: Z is not finite, X is, and passes
    assert np.isnan(net.forward(X)).all()


def test_a_first_layer_wider_than_X_checks_X_itself() -> None:
    net = bp.Network([bp.Dense(4, 16, activation="relu"), bp.Dense(16, 1)], seed=0)
    X = np.ones((5, 4), np.float32)
    X[3, 1] = np.nan
    with pytest.raises(bp.DataError, match="X contains nan at row 3, column 1"):
        net.predict(X)
