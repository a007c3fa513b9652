"""scikit-learn's MLPClassifier / MLPRegressor, one partial_fit call per epoch."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.data import Dataset
from bench.workloads import Workload


def problem() -> str | None:
    """Why scikit-learn cannot run here, or None."""
    try:
        import sklearn.neural_network  # noqa: F401
    except ImportError as exc:
        return f"scikit-learn not importable ({exc})"
    return None


class SklearnTrainer:
    """solver/batch_size/learning_rate_init/activation set to match the workload.

    Differences it cannot remove: sklearn initializes with its own
    Glorot-uniform scheme (no He), has no fused optimizer, shuffles with its
    own generator, and computes the training loss of every batch.
    """

    def __init__(self, workload: Workload, data: Dataset, threads: int) -> None:
        import sklearn
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        self.version = sklearn.__version__
        self.task = workload.task
        params: dict[str, Any] = dict(
            hidden_layer_sizes=tuple(workload.sizes[1:-1]),
            activation=workload.hidden_activation,
            batch_size=workload.batch_size,
            learning_rate_init=workload.lr,
            alpha=0.0,  # no L2 penalty: backprop and torch use none
            shuffle=True,
            random_state=0,
        )
        if workload.optimizer == "adam":
            params.update(solver="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8)
        else:
            params.update(
                solver="sgd",
                learning_rate="constant",
                momentum=workload.momentum,
                nesterovs_momentum=False,
            )
        self.model: Any = (
            MLPRegressor(**params) if workload.task == "regression" else MLPClassifier(**params)
        )
        self.X = data.X_train
        self.y = data.y_train.ravel()
        if workload.task == "binary":
            self.y = self.y.astype(np.int64)
        self.classes = None if workload.task == "regression" else np.unique(self.y)
        self.notes = [
            f"scikit-learn {sklearn.__version__}: partial_fit per epoch, "
            f"solver={params['solver']}, init = its Glorot-uniform (no He; "
            f"workload asks {workload.init!r}), no fused optimizer, its own shuffling"
        ]

    def train_epoch(self, start: int, stop: int) -> None:
        """One partial_fit call: one shuffled pass over rows start:stop."""
        X, y = self.X[start:stop], self.y[start:stop]
        if self.classes is not None:
            self.model.partial_fit(X, y, classes=self.classes)
        else:
            self.model.partial_fit(X, y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels or values."""
        return np.asarray(self.model.predict(X))

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float | None:
        """None: computed from predict."""
        return None


def make_trainer(workload: Workload, data: Dataset, threads: int) -> SklearnTrainer:
    """A scikit-learn trainer for the workload."""
    return SklearnTrainer(workload, data, threads)
