"""MLPClassifier: scikit-learn's multi-layer perceptron classifier, trained by backprop.

The output layer follows the targets, as in scikit-learn: for two classes one
sigmoid unit with binary cross-entropy; for more, one softmax unit per class
with cross-entropy; for multi-label targets (a 2-D 0/1 indicator array) one
sigmoid unit per label with binary cross-entropy, each label decided at 0.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from backprop._typing import Array
from backprop.sklearn.base import BaseMLP
from backprop.sklearn.params import has_stochastic_solver


class MLPClassifier(ClassifierMixin, BaseMLP):  # type: ignore[misc]
    """A multi-layer perceptron classifier with scikit-learn's API.

    Parameters are scikit-learn's ``MLPClassifier``'s, with the same defaults
    and meanings: hidden_layer_sizes, activation ("identity", "logistic",
    "tanh", "relu", or this library's "leaky_relu", "sigmoid", "linear"),
    solver ("lbfgs", "sgd", "adam", or this library's "rmsprop", "adamw"),
    alpha (L2 penalty (α / 2m) Σ ‖W‖² on the weights, not the biases: see
    :mod:`backprop.sklearn.objective`), batch_size ("auto" = min(200, n_samples)),
    learning_rate ("constant", "invscaling", "adaptive"; sgd only),
    learning_rate_init, power_t, max_iter (epochs; lbfgs: iterations), shuffle,
    random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
    early_stopping, validation_fraction, beta_1, beta_2, epsilon (adam),
    n_iter_no_change, max_fun (lbfgs). This library's own:

    init: weight initialization ("auto": He for ReLU-type units, Xavier
        otherwise; see :mod:`backprop.nn.initializers`).
    dropout: rate of a Dropout layer after each hidden layer's activation (0 = none).
    batch_norm: batch norm in each hidden layer: Dense without bias → BatchNorm → σ
        (as :func:`backprop.build_network` places it everywhere).
    dtype: "float32", "float64", or None (X's float type).
    clip_norm: clip the gradients' global norm before each update (None = never).
    compiled: the whole step's elementwise work as fused compiled passes (numba; the
        same numbers to rounding, see docs/guides/speed-compiled.md), and predict's too.
    compiled_step: each update as one compiled pass (numba; the same numbers), for
        the stochastic solvers.

    Fitted attributes: classes_, n_features_in_, feature_names_in_ (X with
    string column names), loss_, loss_curve_, best_loss_, validation_scores_,
    best_validation_score_, n_iter_, t_, coefs_ and intercepts_ (in
    scikit-learn's layout: coefs_[i] is (n_in, n_out), the transpose of the
    library's W), n_layers_, n_outputs_, out_activation_; ``network_``, the
    trained :class:`backprop.Network`; and ``optimizer_``, the library's
    optimizer of a stochastic solver (its moments carry over partial_fit
    calls; sgd's learning rate as the schedule left it), None for lbfgs.
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _encode_targets(self, y: Any, first_pass: bool, classes: Any) -> np.ndarray:
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first_pass:
            binarizer = LabelBinarizer().fit(y if classes is None else classes)
            if binarizer.y_type_ != "multilabel-indicator" and len(binarizer.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes in y, got 1 class: "
                    f"{binarizer.classes_[0]!r}"
                )
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        if type_of_target(y) != "multilabel-indicator":
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y holds classes {unseen.tolist()} that are not among the classes "
                    f"{self.classes_.tolist()} of the first call"
                )
        return np.asarray(self._label_binarizer.transform(y))

    def _output_layer(self, n_outputs: int) -> tuple[str, str]:
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax", "cross_entropy"
        return "sigmoid", "binary_cross_entropy"

    def _stratify(self, y: Any) -> Any:
        return y if np.ndim(y) == 1 else None

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train on X (n_samples, n_features), labels y (n_samples,) or 0/1 (n_samples, k)."""
        self.train(X, y, incremental=False)
        return self

    @available_if(has_stochastic_solver)  # type: ignore[untyped-decorator]
    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over (X, y); ``classes`` (every label) is required on the first call."""
        first = not hasattr(self, "network_")
        if first and classes is None and (y is None or type_of_target(y) != "multilabel-indicator"):
            raise ValueError("classes must be given on the first call to partial_fit")
        self.train(X, y, incremental=True, classes=classes if first else None)
        return self

    def predict_proba(self, X: Any) -> Array:
        """Probabilities (n_samples, n_classes); for two classes [1 − p, p] of the sigmoid unit."""
        outputs = self.output_activations(X)
        if self._label_binarizer.y_type_ == "binary":
            return np.hstack([1.0 - outputs, outputs])
        return outputs

    def predict_log_proba(self, X: Any) -> Array:
        """log of :meth:`predict_proba` (−inf where a probability is exactly 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (n_samples,), or the 0/1 indicator (n_samples, n_labels) for multi-label."""
        outputs = self.output_activations(X)
        return np.asarray(self._label_binarizer.inverse_transform(outputs))
