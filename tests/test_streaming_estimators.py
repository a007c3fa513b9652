"""The scikit-learn estimators' fit and partial_fit on memmaps and iterables of batches."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn")

from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from backprop.errors import DataError
from backprop.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(tmp_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = make_classification(n_samples=1500, n_features=8, n_informative=5, n_classes=3,
                               random_state=0)
    X = X.astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    return X, np.array(["cat", "dog", "eel"])[y], np.load(tmp_path / "X.npy", mmap_mode="r")


def test_fit_on_a_memmap_equals_fit_in_memory(tmp_path: Path) -> None:
    X, y, mapped = data(tmp_path)
    in_memory = MLPClassifier((16,), max_iter=8, learning_rate_init=0.01, random_state=0).fit(X, y)
    streamed = MLPClassifier((16,), max_iter=8, learning_rate_init=0.01, random_state=0).fit(mapped, y)
    # the default shuffle buffer holds all 1,500 rows: the same permutation each epoch
    assert np.array_equal(in_memory.network_.params, streamed.network_.params)
    assert in_memory.loss_curve_ == streamed.loss_curve_
    assert list(streamed.classes_) == ["cat", "dog", "eel"] and streamed.n_features_in_ == 8
    assert streamed.score(X, y) > 0.7
    target = X[:, 0] * 2.0 - X[:, 1]
    regressors = [MLPRegressor((16,), max_iter=8, random_state=0).fit(d, target)
                  for d in (X, mapped)]
    assert np.array_equal(regressors[0].network_.params, regressors[1].network_.params)


def test_fit_and_partial_fit_on_batches(tmp_path: Path) -> None:
    X, y, _ = data(tmp_path)
    batches = [(X[i:i + 250], y[i:i + 250]) for i in range(0, 1500, 250)]
    fitted = MLPClassifier((16,), max_iter=15, learning_rate_init=0.01, random_state=0).fit(batches, None)
    assert fitted.n_iter_ == 15 and fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    assert fitted.score(X, y) > 0.7
    step = MLPClassifier((16,), learning_rate_init=0.01, random_state=0)
    for _ in range(3):
        step.partial_fit(lambda: iter(batches), None, classes=["cat", "dog", "eel"])
    assert step.n_iter_ == 1 and len(step.loss_curve_) == 3 and step.t_ == 4500
    assert step.loss_curve_[-1] < step.loss_curve_[0]
    with pytest.raises(DataError, match="the batches are read twice here"):
        MLPClassifier((16,)).fit(iter(batches), None)


def test_streaming_refuses_early_stopping_and_checks_widths(tmp_path: Path) -> None:
    X, y, mapped = data(tmp_path)
    with pytest.raises(ValueError, match="early_stopping needs the data in memory"):
        MLPClassifier(early_stopping=True).fit(mapped, y)
    model = MLPClassifier((8,), max_iter=2, random_state=0).fit(mapped, y)
    with pytest.raises(ValueError, match="X has 4 features, but MLPClassifier is expecting 8"):
        model.partial_fit([(X[:10, :4], y[:10])], None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lbfgs = MLPClassifier((8,), solver="lbfgs", max_iter=5, random_state=0).fit(mapped, y)
    assert lbfgs.n_features_in_ == 8  # lbfgs needs every sample at once: read into memory
