"""scikit-learn's own estimator checks, in full, on MLPClassifier and MLPRegressor.

The default estimators, lbfgs, and the library's own parameters (BatchNorm,
Dropout, leaky_relu, clip_norm, and the compiled path where numba is installed)
pass every check, and so does an instance that computes in float32 on purpose
(``dtype="float32"``): its predictions do not depend on the batch a sample is in
(inference sums the products in float64, see :class:`backprop.Dense`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")
pytest.importorskip("scipy", reason="the estimators need SciPy: pip install 'backprop-mlp[sklearn]'")

from sklearn.utils.estimator_checks import parametrize_with_checks

from backprop.sklearn import MLPClassifier, MLPRegressor

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
    # the compiled path (the numba extra), predict's fused passes included
    *([MLPClassifier(compiled=True, activation="tanh")]
      if importlib.util.find_spec("numba") is not None else []),
]


@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_estimator_checks(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)
