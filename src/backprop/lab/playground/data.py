"""/playground's data: the generated 2-D sets, the input features, CSV in and out.

Classification sets come from :mod:`backprop.datasets.toy` (the same calls, with
the same seed, give the same points in an exported script); the two regression
sets are the surface y = sin(2·x1)·cos(2·x2) + noise and the plane
y = 0.6·x1 − 0.8·x2 + noise. Points are (x1, x2) in float64;
targets are class labels 0..k-1, or values for the regression surface.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from backprop.datasets import make_circles, make_gaussians, make_moons, make_spirals, make_xor
from backprop.datasets.split import split_indices
from backprop.lab.playground.protocol import MAX_COORDINATE, REGRESSION_SETS, Setup
from backprop.lab.protocol import MAX_POINTS, FieldError

#: Each classification set: its library generator and keyword arguments besides the
#: common ones (n_samples, noise, seed, test_fraction).
GENERATORS: dict[str, tuple[Any, dict[str, Any]]] = {
    "circles": (make_circles, {}),
    "xor": (make_xor, {}),
    "gaussians": (make_gaussians, {"n_classes": 2}),
    "spirals": (make_spirals, {}),
    "moons": (make_moons, {}),
    "three-class": (make_gaussians, {"n_classes": 3}),
}

#: Each input feature as a function of the raw point (x1, x2).
FEATURE_FUNCTIONS = {
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1^2": lambda p: p[:, 0] ** 2,
    "x2^2": lambda p: p[:, 1] ** 2,
    "x1*x2": lambda p: p[:, 0] * p[:, 1],
    "sin(x1)": lambda p: np.sin(p[:, 0]),
    "sin(x2)": lambda p: np.sin(p[:, 1]),
}


@dataclass(frozen=True)
class Data:
    """The points of one experiment: raw (x1, x2) rows and their targets, train and test."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str  # "classification" or "regression"
    n_classes: int  # 0 for regression
    custom: bool = False  # edited or imported: an exported script carries the points

    @property
    def n_outputs(self) -> int:
        return 1 if self.n_classes <= 2 else self.n_classes

    def all_points(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.vstack([self.X_train, self.X_test]),
                np.concatenate([self.y_train, self.y_test]))


#: Each regression set's target as a function of the raw points (x1, x2), before noise.
SURFACES = {
    "regression": lambda p: np.sin(2 * p[:, 0]) * np.cos(2 * p[:, 1]),
    "regression-plane": lambda p: 0.6 * p[:, 0] - 0.8 * p[:, 1],
}


def regression_set(name: str, size: int, noise: float, seed: int,
                   test_ratio: float) -> tuple[np.ndarray, ...]:
    """x uniform in [-1, 1]², y = the set's surface + noise·N(0, 1), then a shuffled split."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(size, 2))
    y = SURFACES[name](X) + noise * rng.standard_normal(size)
    train, test = split_indices(size, test_ratio, rng, where=name)
    return X[train], y[train], X[test], y[test]


def generate(setup: Setup) -> Data:
    """The data set a setup names, drawn from its seed."""
    if setup.dataset in REGRESSION_SETS:
        X, y, Xt, yt = regression_set(setup.dataset, setup.size, setup.noise, setup.seed,
                                      setup.test_ratio)
        return Data(X, y, Xt, yt, "regression", 0)
    make, options = GENERATORS[setup.dataset]
    data = make(setup.size, setup.noise, setup.seed, test_fraction=setup.test_ratio, **options)
    return Data(data.X_train.astype(np.float64), data.y_train, data.X_test.astype(np.float64),
                data.y_test, "classification", int(data.n_classes))


def features(points: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The network's inputs: one column per chosen feature of the raw points, (m, len(names))."""
    return np.column_stack([FEATURE_FUNCTIONS[name](points) for name in names])


def view_box(data: Data) -> list[float]:
    """[x1_min, x1_max, x2_min, x2_max]: a square around every point with a 10% margin."""
    points, _ = data.all_points()
    if len(points) == 0:
        return [-1.5, 1.5, -1.5, 1.5]
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    half = max(float((points.max(axis=0) - points.min(axis=0)).max()) * 0.55, 1.0)
    return [centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half]


def add_point(data: Data, x1: float, x2: float, target: float) -> Data:
    """The data with one more training point."""
    if len(data.y_train) + len(data.y_test) >= MAX_POINTS:
        raise FieldError("x1", f"the playground holds at most {MAX_POINTS} points")
    y = np.append(data.y_train, np.asarray([target], dtype=data.y_train.dtype))
    return replace(data, X_train=np.vstack([data.X_train, [[x1, x2]]]), y_train=y, custom=True)


def remove_point(data: Data, x1: float, x2: float, radius: float) -> Data:
    """The data without the point nearest (x1, x2), train or test, if within ``radius``."""
    best: tuple[float, str, int] | None = None
    for split, X in (("train", data.X_train), ("test", data.X_test)):
        if len(X):
            distances = np.hypot(X[:, 0] - x1, X[:, 1] - x2)
            i = int(distances.argmin())
            if distances[i] <= radius and (best is None or distances[i] < best[0]):
                best = (float(distances[i]), split, i)
    if best is None:
        raise FieldError("x1", f"no point within {radius:g} of ({x1:g}, {x2:g})")
    _, split, i = best
    if split == "train":
        if len(data.y_train) <= 1:
            raise FieldError("x1", "the last training point cannot be removed")
        return replace(data, X_train=np.delete(data.X_train, i, axis=0),
                       y_train=np.delete(data.y_train, i), custom=True)
    return replace(data, X_test=np.delete(data.X_test, i, axis=0),
                   y_test=np.delete(data.y_test, i), custom=True)


def to_csv(data: Data) -> str:
    """x1,x2,label (or y) with a header: training rows, then test rows."""
    points, targets = data.all_points()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["x1", "x2", "label" if data.task == "classification" else "y"])
    for (x1, x2), target in zip(points, targets, strict=True):
        value = int(target) if data.task == "classification" else repr(float(target))
        writer.writerow([repr(float(x1)), repr(float(x2)), value])
    return out.getvalue()


def from_csv(text: str, setup: Setup) -> Data:
    """Rows x1,x2,target (header allowed) split into train and test by the setup's ratio."""
    rows: list[tuple[float, float, float]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise FieldError("text", f"row {number}: expected 3 columns x1,x2,target, "
                             f"got {len(row)}")
        try:
            values = tuple(float(cell) for cell in row)
        except ValueError:
            if number == 1 and not rows:
                continue  # a header
            raise FieldError("text", f"row {number}: not a number in {row!r}") from None
        if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in values):
            raise FieldError("text", f"row {number}: values must be finite and within "
                             f"±{MAX_COORDINATE:g}, got {row!r}")
        rows.append((values[0], values[1], values[2]))
    if len(rows) < 2:
        raise FieldError("text", f"need at least 2 data rows, got {len(rows)}")
    if len(rows) > MAX_POINTS:
        raise FieldError("text", f"at most {MAX_POINTS} rows, got {len(rows)}")
    table = np.asarray(rows)
    X, target = table[:, :2], table[:, 2]
    rng = np.random.default_rng(setup.seed)
    if setup.dataset in REGRESSION_SETS:
        train, test = split_indices(len(X), setup.test_ratio, rng, where="csv")
        return Data(X[train], target[train], X[test], target[test], "regression", 0, True)
    if not np.all(target == np.round(target)) or target.min() < 0:
        raise FieldError("text", "the third column must hold class labels 0, 1 (or 2) "
                         "for a classification set")
    labels = target.astype(np.int64)
    n_classes = 3 if setup.dataset == "three-class" else 2
    if labels.max() >= n_classes:
        raise FieldError("text", f"label {labels.max()} is out of range for {n_classes} classes")
    train, test = split_indices(len(X), setup.test_ratio, rng, labels=labels, where="csv")
    return Data(X[train], labels[train], X[test], labels[test], "classification", n_classes,
                True)
