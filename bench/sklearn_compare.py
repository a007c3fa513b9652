"""Fit time of backprop.sklearn's estimators against scikit-learn's own MLP: same data, settings.

    python bench/sklearn_compare.py [--rounds 3] [--threads 2] [--tiny]

For each task the two estimators are fitted from scratch in turns (scikit-learn,
backprop, scikit-learn, backprop, ...) for ``--rounds`` rounds, so a machine
whose speed drifts slows both alike; the table gives each one's median fit
time, the ratio backprop ÷ scikit-learn (below 1: backprop is faster), the
test score (accuracy, or R² for regression) and the epochs (lbfgs:
iterations) run. Both get the same architecture, solver and settings, and
backprop the same initialization rule (Glorot's uniform). The BLAS thread
count is set (``--threads``) before NumPy loads. ``--tiny`` runs one round
on small data in seconds: it checks that the script works, it measures nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fits of each estimator per task")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    parser.add_argument("--tiny", action="store_true", help="one round on small data (a check)")
    return parser.parse_args(argv)


def tasks(tiny: bool) -> list[tuple[str, str, Any, Any, Any, Any, dict[str, Any]]]:
    """(name, estimator kind, X_train, X_test, y_train, y_test, settings) per task."""
    from sklearn.datasets import load_digits, make_regression
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_r, y_r = make_regression(n_samples=400 if tiny else 4000, n_features=20, n_informative=15,
                               noise=10.0, random_state=0)
    y_r = (y_r - y_r.mean()) / y_r.std()
    if tiny:
        X, y = X[:300], y[:300]
    epochs = 5 if tiny else 200
    adam = {"hidden_layer_sizes": (64,), "solver": "adam", "max_iter": epochs, "random_state": 0}
    lbfgs = {"hidden_layer_sizes": (64,), "solver": "lbfgs", "max_iter": epochs, "random_state": 0}
    digits = train_test_split(X, y, test_size=0.25, random_state=0)
    regression = train_test_split(X_r, y_r, test_size=0.25, random_state=0)
    return [
        ("digits, 64 ReLU, adam", "MLPClassifier", *digits, adam),
        ("digits, 64 ReLU, lbfgs", "MLPClassifier", *digits, lbfgs),
        ("regression 20 features, 64 ReLU, adam", "MLPRegressor", *regression, adam),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)  # before NumPy loads its BLAS
    sys.path.insert(0, str(_ROOT / "src"))
    from sklearn import neural_network
    from sklearn.exceptions import ConvergenceWarning

    from backprop import sklearn as ours

    rounds = 1 if args.tiny else args.rounds
    print("| task | scikit-learn s | backprop s | ÷ scikit-learn | scikit-learn score "
          "| backprop score | epochs (sk / bp) |")
    print("|---|---|---|---|---|---|---|")
    for name, kind, X_train, X_test, y_train, y_test, settings in tasks(args.tiny):
        makers = {
            "sklearn": lambda kind=kind, s=settings: getattr(neural_network, kind)(**s),
            "backprop": lambda kind=kind, s=settings: getattr(ours, kind)(**s,
                                                                          init="xavier_uniform"),
        }
        seconds: dict[str, list[float]] = {"sklearn": [], "backprop": []}
        fitted: dict[str, Any] = {}
        for _ in range(rounds):
            for system, make in makers.items():  # in turns
                estimator = make()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    started = time.perf_counter()
                    estimator.fit(X_train, y_train)
                    seconds[system].append(time.perf_counter() - started)
                fitted[system] = estimator
        sk, bp = (statistics.median(seconds[s]) for s in ("sklearn", "backprop"))
        scores = {s: fitted[s].score(X_test, y_test) for s in fitted}
        print(f"| {name} | {sk:.4g} | {bp:.4g} | {bp / sk:.3g} | {scores['sklearn']:.4f} "
              f"| {scores['backprop']:.4f} | {fitted['sklearn'].n_iter_} / "
              f"{fitted['backprop'].n_iter_} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
