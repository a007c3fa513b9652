"""The Dataset container, from_arrays, subset_classes, the split, and sklearn's digits."""

import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop.datasets import Dataset, load_digits, make_gaussians, subset_classes
from backprop.datasets.split import split_indices
from backprop.errors import DataError


def _xy(m: int = 6, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    X = np.arange(m * 2, dtype=np.float32).reshape(m, 2)
    y = np.arange(m, dtype=np.int64) % k
    return X, y


def test_a_valid_dataset_reports_its_sizes() -> None:
    X, y = _xy()
    d = Dataset(X, y, X[:2], y[:2], name="t", task="classification", n_classes=3)
    assert (d.n_features, d.n_train, d.n_test, d.n_outputs) == (2, 6, 2, 3)
    assert d.class_name(2) == "2"
    assert d.summary() == "t: classification, 3 classes, 2 features, 6 train / 2 test"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X_train": np.zeros((6, 2))}, "X_train must be a 2-D float32 array"),
        ({"X_train": np.zeros(6, dtype=np.float32)}, "X_train must be a 2-D float32 array"),
        ({"y_train": np.zeros(5, dtype=np.int64)}, "X_train has 6 rows but y_train has 5"),
        ({"y_train": np.zeros(6, dtype=np.int32)}, "y_train must be int64 labels"),
        ({"y_train": np.full(6, 3, dtype=np.int64)}, r"labels 3..3, outside 0..2"),
        ({"n_classes": None}, "n_classes must be a positive integer"),
        ({"class_names": ("a", "b")}, "2 class_names for 3 classes"),
        ({"image_shape": (3, 3)}, r"image_shape \(3, 3\) does not hold 2 features"),
        ({"feature_names": ("a",)}, "1 feature_names for 2 features"),
        ({"X_test": np.zeros((2, 2), dtype=np.float32)}, "give both X_test and y_test"),
        ({"task": "clustering"}, "task must be"),
    ],
)
def test_an_inconsistent_dataset_is_refused(change: dict[str, object], message: str) -> None:
    X, y = _xy()
    fields: dict[str, object] = {
        "X_train": X, "y_train": y, "name": "t", "task": "classification", "n_classes": 3,
    }  # fmt: skip
    fields.update(change)
    with pytest.raises(DataError, match=message):
        Dataset(**fields)  # type: ignore[arg-type]


def test_a_regression_dataset_has_no_classes() -> None:
    X, _ = _xy()
    y = np.ones((6, 2), dtype=np.float32)
    d = Dataset(X, y, name="r", task="regression")
    assert d.n_outputs == 2
    with pytest.raises(DataError, match="regression dataset has no n_classes"):
        Dataset(X, y, name="r", task="regression", n_classes=2)


def test_from_arrays_infers_the_task_from_the_dtype_and_remaps_labels() -> None:
    X = np.random.default_rng(0).random((5, 3))
    d = Dataset.from_arrays(X, np.array([5, -1, 5, 7, -1]), name="a")
    assert d.task == "classification" and d.n_classes == 3
    assert d.X_train.dtype == np.float32
    np.testing.assert_array_equal(d.y_train, [1, 0, 1, 2, 0])
    assert d.class_names == ("-1", "5", "7")
    r = Dataset.from_arrays(X, np.linspace(0, 1, 5))
    assert r.task == "regression" and r.y_train.dtype == np.float32
    s = Dataset.from_arrays(X, np.array(["cat", "dog", "cat", "ant", "dog"]))
    assert s.class_names == ("ant", "cat", "dog")
    np.testing.assert_array_equal(s.y_train, [1, 2, 1, 0, 2])


def test_from_arrays_keeps_labels_that_are_already_0_to_k_minus_1() -> None:
    X, y = _xy()
    d = Dataset.from_arrays(X, y)
    assert d.class_names is None and d.n_classes == 3
    np.testing.assert_array_equal(d.y_train, y)


def test_from_arrays_maps_test_labels_with_the_training_labels() -> None:
    X, _ = _xy(4)
    d = Dataset.from_arrays(X, np.array([10, 20, 10, 20]), X[:2], np.array([20, 30]))
    assert d.class_names == ("10", "20", "30")
    np.testing.assert_array_equal(d.y_test, [1, 2])


def test_from_arrays_flattens_images_and_records_their_shape() -> None:
    images = np.zeros((4, 3, 5), dtype=np.uint8)
    d = Dataset.from_arrays(images, np.array([0, 1, 0, 1]))
    assert d.X_train.shape == (4, 15) and d.image_shape == (3, 5)


def test_from_arrays_accepts_one_hot_labels_when_asked_for_classification() -> None:
    X, _ = _xy(3)
    d = Dataset.from_arrays(X, np.eye(3)[[2, 0, 1]], task="classification")
    np.testing.assert_array_equal(d.y_train, [2, 0, 1])


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "message"),
    [
        (np.zeros(4), np.zeros(4), {}, r"src: X has shape \(4,\); expected 2-D .*reshape"),
        (np.zeros((4, 2)), np.zeros(3), {}, "src: X has 4 rows but y has 3"),
        (np.array([[1.0, np.nan]]), np.zeros(1), {}, r"src: X\[0, 1\] is nan; NaN/inf"),
        (np.array([[1e39]]), np.zeros(1), {}, r"src: X\[0, 0\] = 1e\+39 is too large for float32"),
        (np.zeros((2, 2)), np.array([0.5, 1.0]), {"task": "classification"}, r"y\[0\] = "),
        (np.zeros((2, 2)), np.array(["a", "b"]), {"task": "regression"}, "holds strings"),
        (np.array([["a", "b"]]), np.zeros(1), {}, "X has dtype <U1; expected numbers"),
    ],
)
def test_from_arrays_errors_name_the_source_and_the_problem(
    X: np.ndarray, y: np.ndarray, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        Dataset.from_arrays(X, y, source="src", **kwargs)  # type: ignore[arg-type]


def test_subset_classes_keeps_remaps_and_names_the_chosen_classes() -> None:
    d = make_gaussians(n_samples=90, n_classes=3, test_fraction=0.2)
    s = subset_classes(d, [2, 0])
    assert s.n_classes == 2 and s.class_names == ("2", "0")
    assert s.n_train == int(np.isin(d.y_train, [0, 2]).sum())
    np.testing.assert_array_equal(s.X_train, d.X_train[np.isin(d.y_train, [0, 2])])
    np.testing.assert_array_equal(s.y_train, np.where(d.y_train[d.y_train != 1] == 2, 0, 1))
    assert s.y_test is not None and set(np.unique(s.y_test)) == {0, 1}
    # Nested: the names follow the original labels.
    assert subset_classes(s, [1]).class_names == ("0",)


def test_subset_classes_refuses_a_label_that_is_not_there() -> None:
    d = make_gaussians(n_samples=30, n_classes=3)
    with pytest.raises(
        DataError, match=r"label 7 is not in dataset 'gaussians' \(labels present: 0, 1, 2\)"
    ):
        subset_classes(d, [0, 7])
    with pytest.raises(ValueError, match="repeat"):
        subset_classes(d, [1, 1])


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=5),
    fraction=st.floats(min_value=0.05, max_value=0.6),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_a_stratified_split_is_a_partition_with_proportional_classes(
    counts: list[int], fraction: float, seed: int
) -> None:
    labels = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
    m = len(labels)
    n_test = int(np.ceil(m * fraction - 1e-9))
    if n_test >= m:
        with pytest.raises(ValueError, match="leaves no training samples"):
            split_indices(m, fraction, np.random.default_rng(seed), labels)
        return
    train, test = split_indices(m, fraction, np.random.default_rng(seed), labels)
    assert len(test) == n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(m))
    per_class = np.bincount(labels[test], minlength=len(counts))
    assert np.all(np.abs(per_class - np.array(counts) * n_test / m) < 1)


def test_load_digits_scales_splits_and_stratifies(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in for sklearn.datasets (importing the real one takes seconds):
    # 100 "images" of 0..16 pixels, 10 per digit, in sklearn's Bunch layout.
    rng = np.random.default_rng(0)
    bunch = types.SimpleNamespace(
        data=rng.integers(0, 17, (100, 64)).astype(np.float64),
        target=np.repeat(np.arange(10), 10),
    )
    fake = types.ModuleType("sklearn.datasets")
    fake.load_digits = lambda: bunch  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sklearn.datasets", fake)
    d = load_digits(test_fraction=0.2, seed=1)
    assert (d.n_train, d.n_test, d.n_features, d.image_shape, d.n_classes) == (
        80,
        20,
        64,
        (8, 8),
        10,
    )
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.y_test is not None and np.bincount(d.y_test).tolist() == [2] * 10
    X = np.concatenate([d.X_train, d.X_test])
    y = np.concatenate([d.y_train, d.y_test])
    order = np.lexsort(X.T[::-1])
    expected = (bunch.data / 16).astype(np.float32)
    expected_order = np.lexsort(expected.T[::-1])
    np.testing.assert_array_equal(X[order], expected[expected_order])
    np.testing.assert_array_equal(y[order], bunch.target[expected_order])
    again = load_digits(test_fraction=0.2, seed=1)
    np.testing.assert_array_equal(d.X_test, again.X_test)
    assert load_digits(test_fraction=0).n_test == 0


def test_load_digits_with_the_real_scikit_learn() -> None:
    pytest.importorskip("sklearn")
    d = load_digits()
    assert (d.n_train, d.n_test, d.n_features, d.image_shape) == (1437, 360, 64, (8, 8))
    assert d.X_train.min() == 0.0 and d.X_train.max() == 1.0


def test_load_digits_without_scikit_learn_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import now fails
    with pytest.raises(DataError, match="pip install scikit-learn"):
        load_digits()
