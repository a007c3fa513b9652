"""scikit-learn's own estimator checks, in full, on MLPClassifier and MLPRegressor.

The default estimators, lbfgs, and the library's own parameters (BatchNorm,
Dropout, leaky_relu, a user's own registered activation given by name and as an
object, callbacks, clip_norm, class_weight, and the compiled path where numba is
installed) pass every check but those declared below, through scikit-learn's
expected-failed-checks mechanism, each with its reason and named in the guide: two
instances train in float32 on purpose (``dtype="float32"``), so weighted and repeated
rows agree to float32's rounding only (their predictions, summed in float64, are the
same however the rows are batched: subset invariance holds); BatchNorm and
Dropout see every row of a batch, however it is weighted; and the tanh network
extrapolates away from the only class that check_class_weight_classifiers trains it on.
(Not early_stopping=True, with or without restore_best_weights: its validation split
refuses the checks' smallest data sets and partial_fit, as scikit-learn's MLP does.)
The user's activation (tests/scaled_softsign.py) is registered by a fixture when this
module's tests run; an Activation object as a parameter survives clone (scikit-learn
deep-copies it) and pickle (its class is pickled by reference, and the fitted network
as a model file whose activation the registry rebuilds from its name and config).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")
pytest.importorskip("scipy", reason="the estimators need SciPy: pip install 'backprop-mlp[sklearn]'")

from sklearn.utils.estimator_checks import parametrize_with_checks

import backprop as bp
from backprop.sklearn import MLPClassifier, MLPRegressor
from scaled_softsign import ScaledSoftsign, register

# The checks fit with default max_iter on small data: not converging there is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [
    MLPClassifier(),
    MLPRegressor(),
    MLPClassifier(solver="lbfgs", hidden_layer_sizes=(20,)),
    MLPRegressor(solver="lbfgs", hidden_layer_sizes=(20,)),
    MLPClassifier(solver="sgd", batch_norm=True, dropout=0.1, activation="leaky_relu"),
    MLPRegressor(solver="rmsprop", batch_norm=True, dtype="float32", clip_norm=5.0),
    MLPClassifier(dtype="float32"),
    # a user's own activation, registered: as an object and by name; dropout and batch norm
    MLPClassifier(activation=ScaledSoftsign(scale=1.5), dropout=0.2, batch_norm=True),
    MLPRegressor(activation="scaled_softsign", dropout=0.1, solver="sgd"),
    # callbacks (a generous time limit, never reached: fit calls copies, the parameter stays)
    MLPClassifier(callbacks=[bp.TimeLimit(3600.0)], early_stopping_metric="loss"),
    MLPRegressor(callbacks=(bp.TimeLimit(3600.0),), solver="sgd"),
    MLPClassifier(solver="lbfgs", hidden_layer_sizes=(10,), class_weight="balanced"),
    # the compiled path (the numba extra), predict's fused passes included
    *([MLPClassifier(compiled=True, activation="tanh")]
      if importlib.util.find_spec("numba") is not None else []),
]


@pytest.fixture(scope="module", autouse=True)
def registered() -> Iterator[None]:
    register()
    yield


#: The sample-weight equivalence check runs on dense X, and on sparse X where it is taken.
SAMPLE_WEIGHT_DATA = ("dense", "sparse")


def expected_failures(estimator: Any) -> dict[str, str]:
    failures: dict[str, str] = {}
    if estimator.dtype == "float32":
        for data in SAMPLE_WEIGHT_DATA:
            failures[f"check_sample_weight_equivalence_on_{data}_data"] = (
                "float32 on purpose: weighted rows and repeated rows sum in other orders, "
                "so the fits agree to float32's rounding, beyond the check's tolerance of 1e-7"
            )
    if estimator.batch_norm or estimator.dropout:
        for data in SAMPLE_WEIGHT_DATA:
            failures[f"check_sample_weight_equivalence_on_{data}_data"] = (
                "BatchNorm's batch statistics and Dropout's masks see every row of a batch: "
                "a row weighted 0 or 2 is not a row removed or repeated there"
            )
    if isinstance(estimator, MLPClassifier) and estimator.activation == "tanh":
        failures["check_class_weight_classifiers"] = (
            "class weights 1000 : 0.0001 train on class 0's samples alone (weights 0 for "
            "the others give the same); away from them, on the check's noisy unscaled blobs, "
            "the tanh network predicts class 0 for 86% of the test points, under the 87% "
            "the check asks (relu and lbfgs: 100%)"
        )
    return failures


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures, xfail_strict=False)
def test_scikit_learn_estimator_checks(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)
