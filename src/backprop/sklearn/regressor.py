"""MLPRegressor: scikit-learn's multi-layer perceptron regressor, trained by backprop.

The output layer is linear with the squared-error loss, one unit per target
column (multi-output regression for a 2-D y). The library's squared error is
½ Σ_k (a_k − y_k)² per sample, averaged over the samples: for one target it
is scikit-learn's loss exactly; for several, ``loss_`` sums over the targets
where scikit-learn's reported loss averages over them (its gradient, like
this one, sums).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from backprop.sklearn.base import BaseMLP
from backprop.sklearn.params import has_stochastic_solver


class MLPRegressor(RegressorMixin, BaseMLP):  # type: ignore[misc]
    """A multi-layer perceptron regressor with scikit-learn's API.

    Parameters and fitted attributes are those of :class:`MLPClassifier`
    (scikit-learn's names, defaults and meanings, plus init, dropout,
    batch_norm, dtype, clip_norm, compiled_step, compiled,
    early_stopping_metric, restore_best_weights and callbacks), without
    classes_; the validation score is R², "val_r2" in the callbacks' logs.
    """

    numeric_targets = True
    score_key = "val_r2"

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y: Any, first_pass: bool, classes: Any,
                        incremental: bool = True) -> np.ndarray:
        Y = np.asarray(y).reshape(len(y), -1)
        if not first_pass and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} target column(s) but the model was fitted with "
                f"{self.n_outputs_}"
            )
        return Y

    def _output_layer(self, n_outputs: int) -> tuple[str, str]:
        return "linear", "mse"

    def _score_outputs(self, outputs: np.ndarray, y: Any) -> float:
        return float(r2_score(y, outputs[:, 0] if outputs.shape[1] == 1 else outputs))

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on X (n_samples, n_features), targets y (n_samples,) or (n_samples, n_targets)."""
        self.train(X, y, incremental=False)
        return self

    @available_if(has_stochastic_solver)  # type: ignore[untyped-decorator]
    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over (X, y), continuing from the last call."""
        self.train(X, y, incremental=True)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: (n_samples,) for one target, else (n_samples, n_targets)."""
        outputs = self.output_activations(X)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs
