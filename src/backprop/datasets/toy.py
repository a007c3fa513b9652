"""Small generated 2-D data sets for teaching, and a noisy line for regression.

Every generator takes n_samples, noise (the standard deviation of the
Gaussian noise added to each coordinate, or to y for the line), seed (the
same seed gives the same arrays, bit for bit) and test_fraction (a
stratified share held out as the test set; 0 for none). Classes are as
balanced as n_samples allows. X is float32 of shape (m, 2) — (m, 1) for
the line — and y int64 labels, or float32 of shape (m,) for the line.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import numpy.typing as npt

from backprop.datasets.base import Dataset
from backprop.datasets.split import check_test_fraction, split_indices
from backprop.errors import OptionError
from backprop.validation import check_seed

F64 = npt.NDArray[np.float64]


def _check_int(value: object, name: str, minimum: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise OptionError(f"{where}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_noise(noise: object, where: str) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise OptionError(f"{where}: noise must be a number >= 0, got {noise!r}")
    value = float(noise)
    if not math.isfinite(value) or value < 0:
        raise OptionError(f"{where}: noise must be a finite number >= 0, got {noise!r}")
    return value


def _check_seed(seed: object, where: str) -> int | None:
    return check_seed(seed, f"{where}: seed")


def _per_class(n_samples: int, k: int) -> list[int]:
    """n_samples split into k counts that differ by at most one."""
    return [n_samples // k + (1 if j < n_samples % k else 0) for j in range(k)]


def _finish(
    name: str,
    X: F64,
    y: npt.NDArray[np.int64],
    n_classes: int,
    noise: float,
    rng: np.random.Generator,
    test_fraction: float,
) -> Dataset:
    """Add noise, shuffle, split (stratified) and wrap as a classification Dataset."""
    X = X + noise * rng.standard_normal(X.shape)
    train, test = split_indices(len(y), test_fraction, rng, labels=y, where=f"make_{name}")
    X32 = X.astype(np.float32)
    return Dataset(
        X32[train],
        y[train],
        X32[test] if test.size else None,
        y[test] if test.size else None,
        name=name,
        task="classification",
        n_classes=n_classes,
        feature_names=("x1", "x2"),
    )


def _labels(counts: list[int]) -> npt.NDArray[np.int64]:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def make_xor(
    n_samples: int = 200, noise: float = 0.1, seed: int | None = 0, *, test_fraction: float = 0.2
) -> Dataset:
    """Points in the four quadrants of [-1, 1]², class 1 where x1·x2 < 0 (XOR of the signs).

    The label comes from the noise-free point, so noise blurs the axes. Not
    linearly separable: the classic case for a hidden layer.
    """
    where = "make_xor"
    m = _check_int(n_samples, "n_samples", 4, where)
    sigma = _check_noise(noise, where)
    test_fraction = check_test_fraction(test_fraction, where)
    rng = np.random.default_rng(_check_seed(seed, where))
    counts = _per_class(m, 4)  # one count per quadrant
    signs = np.repeat(
        np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=np.float64), counts, axis=0
    )
    X = signs * rng.uniform(0.0, 1.0, size=(m, 2))
    y = (signs[:, 0] * signs[:, 1] < 0).astype(np.int64)
    return _finish("xor", X, y, 2, sigma, rng, test_fraction)


def make_circles(
    n_samples: int = 200,
    noise: float = 0.05,
    seed: int | None = 0,
    *,
    test_fraction: float = 0.2,
    factor: float = 0.5,
) -> Dataset:
    """Two concentric circles: class 0 on radius 1, class 1 on radius ``factor`` in (0, 1)."""
    where = "make_circles"
    m = _check_int(n_samples, "n_samples", 2, where)
    sigma = _check_noise(noise, where)
    test_fraction = check_test_fraction(test_fraction, where)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise OptionError(f"{where}: factor must be a number in (0, 1), got {factor!r}")
    rng = np.random.default_rng(_check_seed(seed, where))
    counts = _per_class(m, 2)
    radius = np.repeat([1.0, float(factor)], counts)
    angle = rng.uniform(0.0, 2 * np.pi, size=m)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _finish("circles", X, _labels(counts), 2, sigma, rng, test_fraction)


def make_moons(
    n_samples: int = 200, noise: float = 0.1, seed: int | None = 0, *, test_fraction: float = 0.2
) -> Dataset:
    """Two interleaving half-circles, t uniform in [0, π].

    Class 0 is (cos t, sin t), class 1 is (1 - cos t, 1/2 - sin t).
    """
    where = "make_moons"
    m = _check_int(n_samples, "n_samples", 2, where)
    sigma = _check_noise(noise, where)
    test_fraction = check_test_fraction(test_fraction, where)
    rng = np.random.default_rng(_check_seed(seed, where))
    counts = _per_class(m, 2)
    t = rng.uniform(0.0, np.pi, size=m)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    y = _labels(counts)
    X = np.where(y[:, None] == 0, upper, lower)
    return _finish("moons", X, y, 2, sigma, rng, test_fraction)


def make_spirals(
    n_samples: int = 300,
    noise: float = 0.05,
    seed: int | None = 0,
    *,
    test_fraction: float = 0.2,
    n_classes: int = 2,
    turns: float = 1.0,
) -> Dataset:
    """``n_classes`` interleaved spiral arms, one class per arm.

    Arm j: radius r = t and angle 2πj/n_classes + 2π·turns·t for t uniform in [0, 1].
    """
    where = "make_spirals"
    k = _check_int(n_classes, "n_classes", 2, where)
    m = _check_int(n_samples, "n_samples", k, where)
    sigma = _check_noise(noise, where)
    test_fraction = check_test_fraction(test_fraction, where)
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not 0 < turns <= 10:
        raise OptionError(f"{where}: turns must be a number in (0, 10], got {turns!r}")
    rng = np.random.default_rng(_check_seed(seed, where))
    y = _labels(_per_class(m, k))
    t = rng.uniform(0.0, 1.0, size=m)
    angle = 2 * np.pi * (y / k + float(turns) * t)
    X = t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _finish("spirals", X, y, k, sigma, rng, test_fraction)


def make_gaussians(
    n_samples: int = 300,
    noise: float = 0.5,
    seed: int | None = 0,
    *,
    test_fraction: float = 0.2,
    n_classes: int = 3,
) -> Dataset:
    """``n_classes`` round Gaussian blobs, standard deviation ``noise``, one class per blob.

    The centres sit evenly on a circle (radius 2, or more so that neighbouring
    centres stay 2.5 apart).
    """
    where = "make_gaussians"
    k = _check_int(n_classes, "n_classes", 2, where)
    m = _check_int(n_samples, "n_samples", k, where)
    sigma = _check_noise(noise, where)
    test_fraction = check_test_fraction(test_fraction, where)
    rng = np.random.default_rng(_check_seed(seed, where))
    y = _labels(_per_class(m, k))
    radius = max(2.0, 1.25 / math.sin(math.pi / k))
    angle = 2 * np.pi * np.arange(k) / k
    centres = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    return _finish("gaussians", centres[y], y, k, sigma, rng, test_fraction)


def make_line(
    n_samples: int = 100,
    noise: float = 0.1,
    seed: int | None = 0,
    slope: float = 2.0,
    intercept: float = -1.0,
    *,
    test_fraction: float = 0.2,
) -> Dataset:
    """Regression: x uniform in [-1, 1], y = slope·x + intercept + noise·N(0, 1).

    X has shape (m, 1) and y shape (m,), both float32.
    """
    where = "make_line"
    m = _check_int(n_samples, "n_samples", 2, where)
    sigma = _check_noise(noise, where)
    test_fraction = check_test_fraction(test_fraction, where)
    for value, label in ((slope, "slope"), (intercept, "intercept")):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
        ):
            raise OptionError(f"{where}: {label} must be a finite number, got {value!r}")
    rng = np.random.default_rng(_check_seed(seed, where))
    x = rng.uniform(-1.0, 1.0, size=m)
    y = float(slope) * x + float(intercept) + sigma * rng.standard_normal(m)
    train, test = split_indices(m, test_fraction, rng, where=where)
    X32 = x.astype(np.float32)[:, None]
    y32 = y.astype(np.float32)
    return Dataset(
        X32[train],
        y32[train],
        X32[test] if test.size else None,
        y32[test] if test.size else None,
        name="line",
        task="regression",
        feature_names=("x",),
    )
