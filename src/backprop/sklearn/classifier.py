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
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from backprop._typing import Array
from backprop.sklearn.base import BaseMLP
from backprop.sklearn.params import has_stochastic_solver, with_parameters
from backprop.sklearn.weights import class_sample_weight, combined


class MLPClassifier(ClassifierMixin, BaseMLP):  # type: ignore[misc]
    """A multi-layer perceptron classifier with scikit-learn's API.

    Parameters are scikit-learn's ``MLPClassifier``'s, with the same defaults
    and meanings: hidden_layer_sizes, activation, solver ("lbfgs", "sgd",
    "adam", or this library's "rmsprop", "adamw"), alpha (L2 penalty
    (α / 2m) Σ ‖W‖² on the weights, not the biases: see
    :mod:`backprop.sklearn.objective`), batch_size ("auto" = min(200, n_samples)),
    learning_rate ("constant", "invscaling", "adaptive"; sgd only),
    learning_rate_init, power_t, max_iter (epochs; lbfgs: iterations), shuffle,
    random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
    early_stopping, validation_fraction, beta_1, beta_2, epsilon (adam),
    n_iter_no_change, max_fun (lbfgs). Two of them take more than scikit-learn's:

    activation: scikit-learn's "identity", "logistic", "tanh", "relu" (meaning
        what they mean there), any hidden activation of the library's registry by
        name ("leaky_relu", "swish", "mish", "sigmoid", "linear", and a user's own
        after :func:`backprop.register_activation`), or an :class:`backprop.Activation`
        object whose name is registered and whose ``config()`` rebuilds it (so the
        fitted network saves, pickles and exports as a model file does).
    verbose: scikit-learn's lines ("Iteration 1, loss = ..."), or a rich progress
        bar when rich (the ``cli`` extra) is installed and stdout is a terminal.

    This library's own:

    init: weight initialization; the default "sklearn_uniform" is scikit-learn's
        (W and b from U(±√(f / (n_in + n_out))), f = 2 in every layer of a
        logistic network, else 6),
        "he_uniform" or "auto" (He for ReLU-type units, Xavier otherwise) the
        library's; see :mod:`backprop.nn.initializers`.
    class_weight: None (default), "balanced" (each class weighs n_samples / (n_classes ·
        its count), the counts weighted by ``sample_weight``; refused by partial_fit), or
        a dict {class: weight} (a class it does not name weighs 1): multiplies each
        sample's weight, fit's ``sample_weight`` (:mod:`backprop.sklearn.weights`).
    dropout: rate of a Dropout layer after each hidden layer's activation (0 = none;
        inverted dropout, so predict needs no rescaling); stochastic solvers only.
    batch_norm: batch norm in each hidden layer: Dense without bias → BatchNorm → σ
        (as :func:`backprop.build_network` places it everywhere); predict uses the
        running statistics.
    dtype: "float32", "float64", or None (X's float type).
    clip_norm: clip the gradients' global norm before each update (None = never).
    compiled: the whole step's elementwise work as fused compiled passes (numba; the
        same numbers to rounding, see docs/guides/speed-compiled.md), and predict's too.
    compiled_step: each update as one compiled pass (numba; the same numbers), for
        the stochastic solvers.
    early_stopping_metric: with early_stopping, what counts as progress on the
        validation split: "score" (default, scikit-learn's: the score rose by tol) or
        "loss" (the validation loss fell by tol).
    restore_best_weights: with early_stopping (required), end on the parameters (and
        BatchNorm's running statistics) of the epoch with the lowest validation loss.
        False (default) keeps scikit-learn's rule: those of the best validation score.
    callbacks: a list of :class:`backprop.Callback` objects (``ModelCheckpoint``,
        ``TimeLimit``, ``EarlyStopping``, a user's own ...), called with the library's
        :class:`backprop.TrainingState` at each epoch and batch, as ``Network.fit``
        calls them; any may stop training (``state.stop_training = True``). The
        epoch logs hold "loss" (as loss_curve_), "lr", "time", and with
        early_stopping "val_loss" and "val_accuracy". Stochastic solvers only. As
        scikit-learn wants of a parameter, fit leaves the given objects as they are:
        each fit (and partial_fit) call calls deep copies of them, kept afterwards as
        ``callbacks_`` (read a ModelCheckpoint's ``last_saved_epoch`` there); ``clone``
        deep-copies the parameter too.

    A loss that grows over 1000 times its start (the library's
    :class:`backprop.LossExplosion` rule) gives a
    :class:`~backprop.sklearn.LossExplosionWarning` (a ConvergenceWarning) naming
    the epoch, the loss and the fix; training goes on, as scikit-learn's does.

    Fitted attributes: classes_, n_features_in_, feature_names_in_ (X with
    string column names), loss_, loss_curve_, best_loss_, validation_scores_,
    best_validation_score_, n_iter_, t_, coefs_ and intercepts_ (in
    scikit-learn's layout: coefs_[i] is (n_in, n_out), the transpose of the
    library's W), n_layers_, n_outputs_, out_activation_; beyond scikit-learn's,
    validation_loss_curve_ (the validation loss per epoch, the objective of
    loss_curve_ on the validation split in inference mode; None without
    early_stopping), best_validation_loss_ and callbacks_ (the copies of
    ``callbacks`` the last fit called); ``network_``, the
    trained :class:`backprop.Network`; and ``optimizer_``, the library's
    optimizer of a stochastic solver (its moments carry over partial_fit
    calls; sgd's learning rate as the schedule left it), None for lbfgs.
    """

    score_key = "val_accuracy"
    class_weight: Any
    __init__ = with_parameters(BaseMLP.__init__, class_weight=None)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _sample_weight(self, sample_weight: Any, X: Array, y: Any,
                       incremental: bool) -> Array | None:
        # sample_weight × the weight of each sample's class
        name = type(self).__name__
        labels = column_or_1d(y) if np.ndim(y) == 2 and np.shape(y)[1] == 1 else y
        weights = super()._sample_weight(sample_weight, X, y, incremental)
        by_class = class_sample_weight(name, self.class_weight, labels, self.classes_,
                                       incremental, weights)
        return combined(name, weights, by_class)

    def _encode_targets(self, y: Any, first_pass: bool, classes: Any,
                        incremental: bool = True) -> np.ndarray:
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if first_pass:
            binarizer = LabelBinarizer().fit(y if classes is None or multilabel else classes)
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        elif self.warm_start and not incremental and not multilabel:
            seen = unique_labels(y)
            if set(seen) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {self.classes_}, `y` has {seen} "
                    "(fit with warm_start=False to start afresh)"
                )
        if not multilabel:
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

    def _stratify(self, Y: np.ndarray, y: Any) -> Any:
        # as scikit-learn: a binary model's one 0/1 column (its classes named False and
        # True), the labels of a multi-class one; a multi-label y is not stratified
        if np.ndim(y) != 1:
            return None
        return Y.astype(bool) if Y.shape[1] == 1 else y

    def _strata_named(self) -> str:
        if len(self.classes_) == 2:
            first, second = self.classes_.tolist()
            return f"False is class {first!r}, True class {second!r}"
        return "the classes of y"

    def _score_outputs(self, outputs: np.ndarray, y: Any,
                       sample_weight: Array | None = None) -> float:
        return float(accuracy_score(y, self._label_binarizer.inverse_transform(outputs),
                                    sample_weight=sample_weight))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train on X (n_samples, n_features), labels y (n_samples,) or 0/1 (n_samples, k);
        ``sample_weight`` (n_samples,) weighs each sample's loss (None: all 1)."""
        self.train(X, y, incremental=False, sample_weight=sample_weight)
        return self

    @available_if(has_stochastic_solver)  # type: ignore[untyped-decorator]
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None,
                    classes: Any = None) -> MLPClassifier:
        """One epoch over (X, y), its samples weighed by ``sample_weight``; ``classes``
        (every label) is required on the first call."""
        first = not hasattr(self, "network_")
        if first and classes is None and (y is None or type_of_target(y) != "multilabel-indicator"):
            raise ValueError("classes must be given on the first call to partial_fit")
        if not first and classes is not None and (
            (y is None or type_of_target(y) != "multilabel-indicator")
            and not np.array_equal(self.classes_, unique_labels(classes))
        ):
            raise ValueError(
                f"`classes={list(classes)!r}` is not the same as on last call to partial_fit, "
                f"was: {self.classes_!r}"
            )
        self.train(X, y, incremental=True, classes=classes if first else None,
                   sample_weight=sample_weight)
        return self

    def predict_proba(self, X: Any) -> Array:
        """Probabilities (n_samples, n_classes); for two classes [1 − p, p] of the sigmoid unit,
        for multi-label p per label (a sigmoid unit's p kept one rounding step inside (0, 1))."""
        outputs = self.output_activations(X)
        if self._label_binarizer.y_type_ == "multiclass":
            return outputs
        # a sigmoid saturated to 1 (or 0) in floating point is a probability still: one
        # rounding step inside (0, 1) (≤ 1.2e-16 in float64, 6e-8 in float32)
        step = np.finfo(outputs.dtype).epsneg
        outputs = np.clip(outputs, step, 1 - step)
        if self._label_binarizer.y_type_ == "binary":
            return np.hstack([1 - outputs, outputs])
        return outputs

    def predict_log_proba(self, X: Any) -> Array:
        """log of :meth:`predict_proba` (−inf where a probability is exactly 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (n_samples,), or the 0/1 indicator (n_samples, n_labels) for multi-label."""
        outputs = self.output_activations(X)
        return np.asarray(self._label_binarizer.inverse_transform(outputs))
