"""MLPRegressor: scikit-learn's multi-layer perceptron regressor, trained by backprop.

The output layer is linear with the squared-error loss, one unit per target
column (multi-output regression for a 2-D y); with ``loss="poisson"`` it is exp
with half the Poisson deviance, ℓ = Σ_k [y_k log(y_k / a_k) − y_k + a_k], for
targets y ≥ 0 (counts, rates) with a positive sum, as scikit-learn's (since 1.7).
The library's squared error is
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
from backprop.sklearn.params import REGRESSION_LOSSES, has_stochastic_solver, with_parameters


class MLPRegressor(RegressorMixin, BaseMLP):  # type: ignore[misc]
    """A multi-layer perceptron regressor with scikit-learn's API.

    Parameters and fitted attributes are those of :class:`MLPClassifier`
    (scikit-learn's names, defaults and meanings, plus init, dropout,
    batch_norm, dtype, clip_norm, compiled_step, compiled,
    early_stopping_metric, restore_best_weights and callbacks), without
    classes_ and class_weight, and with scikit-learn's

    loss: "squared_error" (default; a linear output) or "poisson" (an exp output and
        half the Poisson deviance; y ≥ 0 with a positive sum).

    The validation score is R², "val_r2" in the callbacks' logs.
    """

    numeric_targets = True
    score_key = "val_r2"
    loss: str
    __init__ = with_parameters(BaseMLP.__init__, loss="squared_error")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y: Any, first_pass: bool, classes: Any,
                        incremental: bool = True) -> np.ndarray:
        Y = np.asarray(y).reshape(len(y), -1)
        if self.loss == "poisson":
            if (Y < 0).any():
                raise ValueError("Some value(s) of y are negative which is not allowed for "
                                 f"Poisson regression (loss='poisson'): {Y.min()}")
            if first_pass and not Y.sum() > 0:  # one call's batch of zeros is a fine batch
                raise ValueError("Sum of y is not strictly positive which is necessary for "
                                 "Poisson regression (loss='poisson')")
        if not first_pass and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} target column(s) but the model was fitted with "
                f"{self.n_outputs_}"
            )
        return Y

    def _output_layer(self, n_outputs: int) -> tuple[str, str]:
        return REGRESSION_LOSSES[self.loss]

    def _score_outputs(self, outputs: np.ndarray, y: Any,
                       sample_weight: np.ndarray | None = None) -> float:
        return float(r2_score(y, outputs[:, 0] if outputs.shape[1] == 1 else outputs,
                              sample_weight=sample_weight))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train on X (n_samples, n_features), targets y (n_samples,) or (n_samples, n_targets);
        ``sample_weight`` (n_samples,) weighs each sample's loss (None: all 1)."""
        self.train(X, y, incremental=False, sample_weight=sample_weight)
        return self

    @available_if(has_stochastic_solver)  # type: ignore[untyped-decorator]
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over (X, y), its samples weighed by ``sample_weight``, continuing from
        the last call."""
        self.train(X, y, incremental=True, sample_weight=sample_weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: (n_samples,) for one target, else (n_samples, n_targets)."""
        outputs = self.output_activations(X)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs
