"""Generated 2-D sets and the regression line."""

import re
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop.datasets import (
    Dataset,
    make_circles,
    make_gaussians,
    make_line,
    make_moons,
    make_spirals,
    make_xor,
)

CLASSIFIERS: dict[str, Callable[..., Dataset]] = {
    "xor": make_xor,
    "circles": make_circles,
    "moons": make_moons,
    "spirals": make_spirals,
    "gaussians": make_gaussians,
}
ALL: dict[str, Callable[..., Dataset]] = {**CLASSIFIERS, "line": make_line}


def _all_X(d: Dataset) -> np.ndarray:
    return d.X_train if d.X_test is None else np.concatenate([d.X_train, d.X_test])


def _all_y(d: Dataset) -> np.ndarray:
    return d.y_train if d.y_test is None else np.concatenate([d.y_train, d.y_test])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_sets_have_the_documented_shapes_and_types(name: str) -> None:
    d = CLASSIFIERS[name](n_samples=101, test_fraction=0.2)
    assert d.name == name and d.task == "classification"
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.X_train.shape[1] == 2 and d.X_test is not None and d.X_test.shape[1] == 2
    assert d.n_train + d.n_test == 101
    assert d.n_test == 21  # ceil(101 * 0.2)
    assert set(np.unique(_all_y(d))) == set(range(d.n_classes or 0))


@pytest.mark.parametrize("name", ALL)
def test_same_seed_gives_identical_bits_and_another_seed_does_not(name: str) -> None:
    a, b, c = ALL[name](seed=7), ALL[name](seed=7), ALL[name](seed=8)
    for key in ("X_train", "y_train", "X_test", "y_test"):
        assert getattr(a, key).tobytes() == getattr(b, key).tobytes()
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classes_are_balanced_and_the_split_is_stratified(name: str) -> None:
    d = CLASSIFIERS[name](n_samples=200, test_fraction=0.25)
    k = d.n_classes or 0
    total = np.bincount(_all_y(d), minlength=k)
    assert total.max() - total.min() <= 1
    assert d.y_test is not None
    test = np.bincount(d.y_test, minlength=k)
    np.testing.assert_allclose(test / d.n_test, total / 200, atol=1 / d.n_test + 1e-9)


def test_test_fraction_zero_gives_no_test_set() -> None:
    d = make_moons(n_samples=30, test_fraction=0)
    assert d.X_test is None and d.y_test is None and d.n_train == 30


def test_xor_labels_follow_the_signs_without_noise() -> None:
    d = make_xor(n_samples=400, noise=0.0, test_fraction=0)
    X, y = d.X_train, d.y_train
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.abs(X).max() <= 1.0
    quadrants = np.bincount(((X[:, 0] > 0) * 2 + (X[:, 1] > 0)).astype(int), minlength=4)
    np.testing.assert_array_equal(quadrants, [100, 100, 100, 100])


def test_circles_without_noise_lie_on_their_radii() -> None:
    d = make_circles(n_samples=50, noise=0.0, factor=0.3, test_fraction=0)
    radius = np.hypot(d.X_train[:, 0], d.X_train[:, 1])
    np.testing.assert_allclose(radius, np.where(d.y_train == 0, 1.0, 0.3), rtol=1e-6)


def test_moons_without_noise_lie_on_their_half_circles() -> None:
    d = make_moons(n_samples=60, noise=0.0, test_fraction=0)
    X, y = d.X_train.astype(np.float64), d.y_train
    upper = X[y == 0]
    lower = X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-6)
    assert (upper[:, 1] >= -1e-6).all()
    np.testing.assert_allclose(np.hypot(1 - lower[:, 0], 0.5 - lower[:, 1]), 1.0, rtol=1e-6)
    assert (lower[:, 1] <= 0.5 + 1e-6).all()


def test_spirals_have_one_class_per_arm_within_the_unit_disc() -> None:
    d = make_spirals(n_samples=90, noise=0.0, n_classes=3, test_fraction=0)
    assert d.n_classes == 3
    np.testing.assert_array_equal(np.bincount(d.y_train), [30, 30, 30])
    assert np.hypot(d.X_train[:, 0], d.X_train[:, 1]).max() <= 1.0 + 1e-6
    # On arm j, a point at radius r has angle 2πj/3 + 2πr (mod 2π).
    X = d.X_train.astype(np.float64)
    r = np.hypot(X[:, 0], X[:, 1])
    expected = 2 * np.pi * (d.y_train / 3 + r)
    residual = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - expected)))
    np.testing.assert_allclose(residual[r > 1e-3], 0.0, atol=1e-4)


def test_gaussians_cluster_around_distinct_centres() -> None:
    d = make_gaussians(n_samples=600, noise=0.1, n_classes=4, test_fraction=0)
    centres = np.array([d.X_train[d.y_train == j].mean(axis=0) for j in range(4)])
    spread = np.array([d.X_train[d.y_train == j].std(axis=0).mean() for j in range(4)])
    np.testing.assert_allclose(spread, 0.1, rtol=0.2)
    distances = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    assert distances[~np.eye(4, dtype=bool)].min() >= 2.5 - 0.1


def test_line_is_a_noisy_line_for_regression() -> None:
    d = make_line(n_samples=400, noise=0.05, seed=3, slope=-0.5, intercept=2.0)
    assert d.task == "regression" and d.n_classes is None
    assert d.X_train.shape == (320, 1) and d.y_train.shape == (320,)
    assert d.y_train.dtype == np.float32
    slope, intercept = np.polyfit(d.X_train[:, 0], d.y_train, 1)
    assert slope == pytest.approx(-0.5, abs=0.02)
    assert intercept == pytest.approx(2.0, abs=0.02)
    residual = d.y_train - (slope * d.X_train[:, 0] + intercept)
    assert residual.std() == pytest.approx(0.05, rel=0.15)


def test_line_without_noise_is_exact() -> None:
    d = make_line(10, 0.0, 0, 2.0, -1.0, test_fraction=0)
    np.testing.assert_allclose(d.y_train, 2.0 * d.X_train[:, 0] - 1.0, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 0}, "n_samples must be an integer >= "),
        ({"n_samples": -5}, "n_samples must be an integer >= "),
        ({"n_samples": 10.5}, "n_samples must be an integer"),
        ({"n_samples": True}, "n_samples must be an integer"),
        ({"noise": -0.1}, "noise must be a finite number >= 0"),
        ({"noise": float("nan")}, "noise must be a finite number >= 0"),
        ({"noise": "a lot"}, "noise must be a number"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": 1.5}, "seed must be a non-negative integer"),
        ({"test_fraction": 1.0}, "test_fraction must be in [0, 1)"),
        ({"test_fraction": -0.1}, "test_fraction must be in [0, 1)"),
        ({"n_samples": 4, "test_fraction": 0.9}, "leaves no training samples"),
    ],
)
@pytest.mark.parametrize("name", ALL)
def test_bad_arguments_give_one_line_value_errors(
    name: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=f"make_{name}: .*{re.escape(message)}") as info:
        ALL[name](**kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (make_spirals, {"n_classes": 1}, "n_classes must be an integer >= 2"),
        (make_gaussians, {"n_classes": 0}, "n_classes must be an integer >= 2"),
        (make_gaussians, {"n_samples": 2, "n_classes": 3}, "n_samples must be an integer >= 3"),
        (make_spirals, {"turns": 0}, "turns must be a number in"),
        (make_circles, {"factor": 1.0}, "factor must be a number in"),
        (make_line, {"slope": float("inf")}, "slope must be a finite number"),
        (make_line, {"intercept": "one"}, "intercept must be a finite number"),
    ],
)
def test_bad_shape_arguments_are_refused(
    make: Callable[..., Dataset], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(sorted(CLASSIFIERS)),
    n=st.integers(min_value=4, max_value=120),
    fraction=st.sampled_from([0.0, 0.1, 0.2, 0.5]),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_any_valid_request_gives_a_consistent_dataset(
    name: str, n: int, fraction: float, seed: int
) -> None:
    d = CLASSIFIERS[name](n_samples=n, seed=seed, test_fraction=fraction)
    assert d.n_train + d.n_test == n
    assert d.n_test == (0 if fraction == 0 else int(np.ceil(n * fraction - 1e-9)))
    assert np.isfinite(_all_X(d)).all()
    # Every sample appears once: no row is duplicated between train and test.
    assert len(np.unique(_all_X(d), axis=0)) == n
