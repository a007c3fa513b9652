"""A notebook's own arrays for the playground widget: checked, and a plane to draw them on.

Any 2-D ``X`` (m samples × d features) and ``y``: class labels 0..k-1 (any k ≥ 2, or
one-hot rows) or a regression target. The playground draws a plane: with two
features, the plane of the data itself; with more, a plane through the data's mean,
spanned by its first two principal directions (``projection="pca"``) or by two
chosen features with the others held at their means (``projection=(i, j)``). The
points are drawn where they project onto that plane, and the network's output is
drawn on the plane itself: a slice of the decision boundary, exactly computed.
``projection=None`` draws no boundary (the points still by their principal
components, and every other view is kept).

Every refusal is a one-line :class:`~backprop.errors.DataError` (or
:class:`~backprop.errors.OptionError`) naming the argument at fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from backprop.errors import DataError, DataTypeError, OptionError
from backprop.network import Network

Task = Literal["classification", "regression"]
#: How many distinct integer values a target may take and still be read as classes,
#: unless ``task`` says otherwise.
MAX_GUESSED_CLASSES = 20


@dataclass(frozen=True)
class OwnData:
    """Checked arrays: inputs (m, d) float64 and targets (m,), train and test."""

    X: np.ndarray
    y: np.ndarray  # int64 labels, or float64 values
    X_test: np.ndarray  # (0, d) when there is no test set
    y_test: np.ndarray
    task: Task
    n_classes: int  # 0 for regression
    names: list[str]  # one per feature

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


def _array(value: Any, argument: str, what: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise DataError(f"{argument}: {what} is not a rectangular array of numbers ({error})"
                        ) from None
    if array.dtype == bool:
        array = array.astype(np.int64)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise DataTypeError(f"{argument}: {what} must be numbers, got an array of dtype "
                            f"{array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise DataTypeError(f"{argument}: {what} must be real numbers, got complex ones")
    return array


def _finite(array: np.ndarray, argument: str, what: str) -> None:
    finite = np.isfinite(array)
    if not finite.all():
        position = tuple(int(i) for i in np.argwhere(~finite)[0])
        where = f"row {position[0]}" + (f", column {position[1]}" if len(position) > 1 else "")
        raise DataError(f"{argument}: {what} holds {array[position]} at {where}; "
                        "NaN and infinity cannot be trained on")


def _inputs(value: Any, argument: str) -> np.ndarray:
    X = _array(value, argument, "X")
    if X.ndim != 2:
        raise DataError(f"{argument}: X must be 2-D (samples × features), got shape "
                        f"{X.shape}; one feature is X.reshape(-1, 1)")
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise DataError(f"{argument}: X needs at least 2 samples and 1 feature, got shape "
                        f"{X.shape}")
    _finite(X, argument, "X")
    return X.astype(np.float64)


def _targets(value: Any, m: int, argument: str) -> np.ndarray:
    y = _array(value, argument, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] > 1:  # one-hot rows
        if not np.all((y == 0) | (y == 1)) or not np.all(y.sum(axis=1) == 1):
            raise DataError(f"{argument}: a 2-D y must be one-hot rows (one 1 per row), "
                            f"got shape {y.shape} with other values")
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise DataError(f"{argument}: y must be 1-D (one target per sample), got shape {y.shape}")
    if len(y) != m:
        raise DataError(f"{argument}: X has {m} samples but y has {len(y)}")
    _finite(y, argument, "y")
    return y


def _task_of(y: np.ndarray, task: Task | None, network: Network | None) -> Task:
    if task is not None:
        if task not in ("classification", "regression"):
            raise OptionError(f"task: expected 'classification' or 'regression', got {task!r}")
        return task
    if network is not None:
        return "classification" if network.is_classifier else "regression"
    integral = bool(np.all(y == np.round(y)))
    few = len(np.unique(y)) <= MAX_GUESSED_CLASSES
    return "classification" if integral and few and y.min() >= 0 else "regression"


def _labels(y: np.ndarray, argument: str) -> np.ndarray:
    if not np.all(y == np.round(y)) or y.min() < 0:
        bad = y[(y != np.round(y)) | (y < 0)][0]
        raise DataError(f"{argument}: class labels must be integers 0, 1, 2, ..., got {bad}")
    return y.astype(np.int64)


def check_data(data: Any, *, test: Any = None, network: Network | None = None,
               task: Task | None = None, names: Sequence[str] | None = None) -> OwnData:
    """``data=(X, y)`` (and ``test=(X_test, y_test)``) checked against each other and the
    network; the task from ``task``, else the network's loss, else y (integers: classes).
    The features are named by ``names``, else by a DataFrame's columns, else x1, x2, ..."""
    pair = _pair(data, "data")
    if names is None and hasattr(pair[0], "columns"):  # a DataFrame names its own columns
        names = [str(column) for column in pair[0].columns]
    X = _inputs(pair[0], "data")
    y = _targets(pair[1], len(X), "data")
    kind = _task_of(y, task, network)
    if test is not None:
        test_pair = _pair(test, "test")
        X_test = _inputs(test_pair[0], "test")
        y_test = _targets(test_pair[1], len(X_test), "test")
        if X_test.shape[1] != X.shape[1]:
            raise DataError(f"test: X has {X_test.shape[1]} features, the data "
                            f"{X.shape[1]}")
    else:
        X_test, y_test = np.empty((0, X.shape[1])), np.empty(0, dtype=y.dtype)
    n_classes = 0
    if kind == "classification":
        y = _labels(y, "data")
        y_test = _labels(y_test, "test") if len(y_test) else y_test.astype(np.int64)
        present = np.unique(y)
        if len(present) < 2:
            raise DataError(f"data: y has one class ({int(present[0])}); a classifier needs "
                            "samples of two classes or more")
        n_classes = int(max(y.max(), y_test.max() if len(y_test) else 0)) + 1
    else:
        y, y_test = y.astype(np.float64), y_test.astype(np.float64)
    feature_names = _names(names, X.shape[1])
    own = OwnData(X, y, X_test, y_test, kind, n_classes, feature_names)
    if network is not None:
        check_network(network, own)
    return own


def _pair(value: Any, argument: str) -> tuple[Any, Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise DataError(f"{argument}: expected a pair (X, y), got {type(value).__name__}")
    return value[0], value[1]


def _names(names: Sequence[str] | None, d: int) -> list[str]:
    if names is None:
        return [f"x{j + 1}" for j in range(d)]
    if isinstance(names, str) or len(names) != d or not all(isinstance(n, str) for n in names):
        raise OptionError(f"names: expected {d} feature names (one per column of X), "
                          f"got {names!r}")
    return list(names)


def check_network(network: Network, own: OwnData) -> None:
    """Refuse a network that cannot take these inputs or give these targets."""
    if not isinstance(network, Network):
        raise OptionError(f"network: expected a bp.Network, got {type(network).__name__}")
    if network.n_inputs != own.n_features:
        raise OptionError(f"network: it takes {network.n_inputs} inputs but X has "
                          f"{own.n_features} features")
    if own.task == "classification":
        if not network.is_classifier and network.loss.name != "mse":
            raise OptionError(f"network: its loss {network.loss.name} cannot learn classes")
        needed = 1 if own.n_classes == 2 else own.n_classes
        if network.n_outputs != needed:
            raise OptionError(f"network: {own.n_classes} classes need {needed} output "
                              f"unit{'s' if needed > 1 else ''}, it has {network.n_outputs}")
    elif network.is_classifier:
        raise OptionError(f"network: a regression target needs an mse loss, not "
                          f"{network.loss.name}")


@dataclass(frozen=True)
class Plane:
    """A 2-D plane in input space: ``origin`` (d,) and two ``axes`` (2, d).

    ``coordinates(X)`` are the points' positions on it, ``lift(P)`` the inputs at its
    points; ``boundary`` is False when the output is not drawn at all.
    """

    origin: np.ndarray
    axes: np.ndarray
    description: str
    boundary: bool = True

    def coordinates(self, X: np.ndarray) -> np.ndarray:
        """(m, 2): each point's coordinates along the two axes, from the origin."""
        return np.asarray((X - self.origin) @ self.axes.T)

    def lift(self, P: np.ndarray) -> np.ndarray:
        """(m, d): the input at each point (p1, p2) of the plane."""
        return np.asarray(self.origin + P @ self.axes)


Projection = Literal["pca"] | tuple[int, int] | None


def plane_of(own: OwnData, projection: Projection) -> Plane:
    """The plane to draw on: the data's own for two features, else as ``projection`` says."""
    d = own.n_features
    names = own.names
    if d == 2 and projection == "pca":
        return Plane(np.zeros(2), np.eye(2), f"the plane ({names[0]}, {names[1]})")
    if d == 1:
        raise DataError("data: X has one feature; the playground draws two (the regression "
                        "page, bp.lab.Regression, fits one)")
    mean = own.X.mean(axis=0)
    if projection == "pca" or projection is None:
        centred = own.X - mean
        _, singular, directions = np.linalg.svd(centred, full_matrices=False)
        variance = singular ** 2
        share = float(variance[:2].sum() / variance.sum()) if variance.sum() > 0 else 1.0
        axes = directions[:2]
        if projection is None:
            return Plane(mean, axes, "no boundary drawn; the points by their first two "
                         "principal components", boundary=False)
        return Plane(mean, axes, "the plane through the mean of the data spanned by its "
                     f"first two principal directions ({share:.0%} of the variance); points "
                     "are drawn projected onto it")
    if (not isinstance(projection, tuple) or len(projection) != 2
            or not all(isinstance(j, int) and not isinstance(j, bool) for j in projection)):
        raise OptionError(f"projection: expected 'pca', None or two feature indices (i, j), "
                          f"got {projection!r}")
    i, j = projection
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise OptionError(f"projection: expected two different feature indices in 0..{d - 1}, "
                          f"got {projection!r}")
    origin = mean.copy()
    origin[[i, j]] = 0.0
    axes = np.zeros((2, d))
    axes[0, i] = axes[1, j] = 1.0
    others = "" if d == 2 else "; the other features held at their means"
    return Plane(origin, axes, f"the plane ({names[i]}, {names[j]}){others}")
