"""backprop's estimators against scikit-learn's own MLP: the same architecture, solver and
settings reach the same accuracy (R²) within a point. (Their fit times are a benchmark
figure: bench/sklearn_compare.py.)"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")

from sklearn import neural_network
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from backprop import sklearn as ours

#: The settings both estimators get: scikit-learn's defaults but for the width and epochs.
SETTINGS = {"hidden_layer_sizes": (64,), "solver": "adam", "alpha": 1e-4, "batch_size": "auto",
            "learning_rate_init": 1e-3, "max_iter": 100, "random_state": 0}


def scores(kind: str, X: np.ndarray, y: np.ndarray, **settings: object) -> tuple[float, float]:
    """Test scores of (scikit-learn's, backprop's) estimator of this kind."""
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    theirs = getattr(neural_network, kind)(**settings)
    # scikit-learn initializes by Glorot's uniform rule: the same for backprop
    mine = getattr(ours, kind)(**settings, init="xavier_uniform")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X_train, y_train)
        mine.fit(X_train, y_train)
    return float(theirs.score(X_test, y_test)), float(mine.score(X_test, y_test))


def test_digits_accuracy_matches_scikit_learns_mlp_within_a_point() -> None:
    X, y = load_digits(return_X_y=True)
    theirs, mine = scores("MLPClassifier", X / 16.0, y, **SETTINGS)
    assert theirs > 0.95 and mine > 0.95
    assert abs(mine - theirs) <= 0.01, (mine, theirs)


def test_regression_r2_matches_scikit_learns_mlp_within_a_point() -> None:
    X, y = make_regression(n_samples=1000, n_features=10, n_informative=8, noise=10.0,
                           random_state=0)
    theirs, mine = scores("MLPRegressor", X, (y - y.mean()) / y.std(), **SETTINGS)
    assert theirs > 0.9 and mine > 0.9
    assert abs(mine - theirs) <= 0.01, (mine, theirs)


def test_the_fit_time_benchmark_script_runs_on_a_tiny_setting(tmp_path: Any) -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "bench" / "sklearn_compare.py"
    report = tmp_path / "report.md"
    done = subprocess.run([sys.executable, str(script), "--tiny", "--out", str(report)],
                          capture_output=True, text=True, check=True)
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "task" not in line]
    assert len(rows) == 9  # three tasks, three solvers
    assert {row.split("|")[2].strip() for row in rows} == {"adam", "sgd", "lbfgs"}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        sk_seconds, bp_seconds, ratio = (float(c) for c in cells[2:5])
        assert sk_seconds > 0 and bp_seconds > 0
        assert ratio == pytest.approx(bp_seconds / sk_seconds, rel=0.01)  # of seconds rounded to 4 digits
        for score in cells[5:7]:
            mean, spread = (float(part) for part in score.split("±"))
            assert -1.0 <= mean <= 1.0 and spread == 0.0  # one seed
        assert cells[7] in ("yes", "no")
    assert report.read_text().count("\n| ") == 9 + 1  # the rows and the heading
