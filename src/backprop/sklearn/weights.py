"""The estimators' sample weights: ``sample_weight`` in fit and partial_fit, and
MLPClassifier's ``class_weight``, which multiplies it.

Weights change the objective, not the data: the batch's loss becomes the weighted
mean Σ w_i ℓ_i / Σ w_i (``Network.backprop(X, Y, sample_weight)``) and the L2
penalty is taken over Σ w instead of m (:mod:`backprop.sklearn.objective`), as
scikit-learn's MLP weighs them; early stopping's validation rows keep their
weights, and the validation score is weighted. ``sample_weight`` is checked as
scikit-learn checks it (one weight per sample, none negative, not all zero:
ValueError); ``class_weight`` is None, "balanced" (Σ w / (n_classes · Σ w of
the class), scikit-learn's: with no sample_weight, n_samples / (n_classes · the
class's count); per label column for multi-label y) or a dict {class: weight}
(a class it does not name weighs 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from backprop._typing import Array


def checked_sample_weight(sample_weight: Any, X: Any) -> Array | None:
    """``sample_weight`` as float64 (n_samples,), or None; scikit-learn's ValueError for a
    wrong shape, a negative weight or weights all zero (a number stands for every row)."""
    if sample_weight is None:
        return None
    return np.asarray(_check_sample_weight(sample_weight, X, dtype=np.float64,
                                           ensure_non_negative=True))


def refuse_on_stream(name: str, sample_weight: Any, class_weight: Any) -> None:
    """Weights need the rows in memory: a streamed X (a memmap, files, batches) is
    shuffled in a buffer where a weight could not follow its row."""
    given = [word for word, value in (("sample_weight", sample_weight),
                                       ("class_weight", class_weight)) if value is not None]
    if given:
        raise ValueError(f"{name}: {' and '.join(given)} need X in memory (an array); it is "
                         "not taken when X is streamed (a memmap, files or batches)")


def balanced(y: Any, sample_weight: Array | None) -> Array:
    """"balanced" class weights, each sample's: Σ w / (n_classes · Σ w of its class), the
    sums over the samples weighted by ``sample_weight`` (all 1 when None), as
    scikit-learn's compute_class_weight; for a 2-D y, the product over its columns. A
    class whose samples all weigh 0 is not counted (they keep weight 0), so weights of 0
    and 2 weigh as rows removed and repeated."""
    labels = np.asarray(y)
    w = np.ones(labels.shape[0]) if sample_weight is None else sample_weight
    weights = np.ones(labels.shape[0])
    for column in labels.reshape(labels.shape[0], -1).T:
        _, index = np.unique(column, return_inverse=True)
        class_sums = np.bincount(index, weights=w)  # Σ w of each class
        present = class_sums > 0
        per_class = np.zeros(class_sums.shape[0])
        per_class[present] = np.sum(class_sums) / (np.count_nonzero(present)
                                                   * class_sums[present])
        weights *= per_class[index]
    return weights


def class_sample_weight(name: str, class_weight: Any, y: Any, classes: Array,
                        incremental: bool, sample_weight: Array | None) -> Array | None:
    """Each sample's weight from its class (MLPClassifier's ``class_weight``), or None.

    ``y`` is the labels (n_samples,) or a 0/1 indicator (n_samples, n_labels); ``classes``
    every class the estimator knows; ``sample_weight`` weighs the counts of "balanced".
    A dict naming a class outside ``classes`` is a ValueError; "balanced" is refused by
    partial_fit (one call's counts are not the data's), as scikit-learn's incremental
    classifiers refuse it.
    """
    if class_weight is None:
        return None
    multilabel = np.ndim(y) == 2
    if isinstance(class_weight, str):  # "balanced", as the parameter table checked
        if incremental:
            raise ValueError(
                f"{name}: class_weight='balanced' is not taken by partial_fit, whose one "
                "call does not see the classes' frequencies; give class_weight as a dict, "
                "e.g. sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=..., y=...) on a sample of the whole training set"
            )
        return balanced(y, sample_weight)
    if multilabel:
        raise ValueError(f"{name}: class_weight as a dict needs one label per sample; for "
                         "multi-label y use class_weight='balanced' or sample_weight")
    known = classes.tolist()
    unknown = [label for label in class_weight if label not in known]
    if unknown:
        raise ValueError(f"{name}: class_weight names {unknown!r}, which are not classes "
                         f"of y ({known!r})")
    labels = np.asarray(y)
    weights = np.ones(labels.shape[0], dtype=np.float64)
    for label, weight in class_weight.items():
        weights[labels == label] = float(weight)
    return weights


def combined(name: str, sample_weight: Array | None, class_weights: Array | None) -> Array | None:
    """The weight each sample trains with: sample_weight × its class's weight."""
    if class_weights is None:
        return sample_weight
    weights = class_weights if sample_weight is None else sample_weight * class_weights
    if not np.any(weights):
        raise ValueError(f"{name}: every sample's weight is 0 (sample_weight × class_weight); "
                         "at least one must be positive")
    return weights
