"""User files: load_csv and load_npz, and the one-line errors for bad input."""

import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop.datasets import load_csv, load_npz
from backprop.errors import DataError


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, **kwargs: object) -> str:
    with pytest.raises(DataError) as info:
        load_csv(path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# --- CSV: what loads ----------------------------------------------------------


def test_csv_with_header_and_integer_target_is_classification(tmp_path: Path) -> None:
    path = write(tmp_path, "x1,x2,label\n0.5,1.5,3\n1,2,7\n-1,0,3\n")
    d = load_csv(path)
    assert d.name == "data" and d.task == "classification"
    assert d.feature_names == ("x1", "x2")
    np.testing.assert_array_equal(d.X_train, np.array([[0.5, 1.5], [1, 2], [-1, 0]], np.float32))
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    np.testing.assert_array_equal(d.y_train, [0, 1, 0])
    assert d.class_names == ("3", "7") and d.n_classes == 2
    assert d.X_test is None


def test_csv_without_header_and_real_target_is_regression(tmp_path: Path) -> None:
    path = write(tmp_path, "1,2,0.5\n3,4,1.25\n")
    d = load_csv(path)
    assert d.task == "regression" and d.feature_names is None
    np.testing.assert_array_equal(d.y_train, np.array([0.5, 1.25], np.float32))
    assert d.y_train.dtype == np.float32


def test_csv_integer_valued_floats_are_class_labels(tmp_path: Path) -> None:
    d = load_csv(write(tmp_path, "1,1.0\n2,-2.0\n3,1.0\n"))
    assert d.task == "classification" and d.class_names == ("-2", "1")


def test_csv_target_by_name_number_and_negative_number(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,c\n1,10,100\n2,20,200\n")
    by_name = load_csv(path, target="a")
    by_number = load_csv(path, target=1)
    by_negative = load_csv(path, target=-3)
    by_text_number = load_csv(path, target="1")
    for d in (by_name, by_number, by_negative, by_text_number):
        np.testing.assert_array_equal(d.X_train, [[10, 100], [20, 200]])
        assert d.feature_names == ("b", "c")
    middle = load_csv(path, target=2, task="regression")
    np.testing.assert_array_equal(middle.y_train, [10, 20])


def test_csv_string_labels_become_classes(tmp_path: Path) -> None:
    path = write(tmp_path, "5.1,3.5,setosa\n7.0,3.2,versicolor\n4.9,3.0,setosa\n")
    d = load_csv(path)
    assert d.task == "classification" and d.class_names == ("setosa", "versicolor")
    np.testing.assert_array_equal(d.y_train, [0, 1, 0])
    assert d.feature_names is None  # the first row is data: it has numbers


def test_csv_forced_tasks(tmp_path: Path) -> None:
    path = write(tmp_path, "1,0\n2,1\n3,2\n")
    assert load_csv(path).task == "classification"
    d = load_csv(path, task="regression")
    assert d.task == "regression" and d.y_train.dtype == np.float32
    message = error_of(write(tmp_path, "1,0.5\n2,1\n", "real.csv"), task="classification")
    assert "row 1, column 2: target '0.5' is not an integer class label" in message


def test_csv_header_options_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "\n1,2\n\n3,4\n\n")
    d = load_csv(path, header=False)
    np.testing.assert_array_equal(d.X_train, [[1], [3]])
    h = load_csv(path, header=True)
    assert h.n_train == 1 and h.feature_names == ("1",)


def test_csv_semicolons_quotes_bom_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "euro.csv"
    path.write_bytes('\ufeff"first; col"; y\n 1.5 ; 1\n2.5;  "0"\n'.encode())
    d = load_csv(path, delimiter=";")
    assert d.feature_names == ("first; col",)
    np.testing.assert_array_equal(d.X_train[:, 0], [1.5, 2.5])


def test_csv_test_fraction_splits_stratified_and_seeded(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{i % 2}" for i in range(20))
    path = write(tmp_path, "x,y\n" + rows + "\n")
    d = load_csv(path, test_fraction=0.2, seed=5)
    again = load_csv(path, test_fraction=0.2, seed=5)
    assert d.n_train == 16 and d.n_test == 4
    assert d.y_test is not None and np.bincount(d.y_test).tolist() == [2, 2]
    np.testing.assert_array_equal(d.X_test, again.X_test)
    everything = np.sort(np.concatenate([d.X_train[:, 0], d.X_test[:, 0]]))  # type: ignore[index]
    np.testing.assert_array_equal(everything, np.arange(20))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=3, max_size=3),
        min_size=1,
        max_size=15,
    )
)
def test_csv_round_trips_any_float32_table(tmp_path: Path, values: list[list[float]]) -> None:
    table = np.array(values, dtype=np.float32)
    path = tmp_path / "round.csv"
    path.write_text("a,b,t\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in table))
    d = load_csv(path, task="regression")
    np.testing.assert_array_equal(d.X_train, table[:, :2])
    np.testing.assert_array_equal(d.y_train, table[:, 2])


# --- CSV: each bad input names file, row and column ------------------------------


def test_csv_non_numeric_cell_names_row_column_and_text(tmp_path: Path) -> None:
    path = write(tmp_path, "age,height,label\n30,1.80,1\n41,tall,0\n")
    message = error_of(path)
    assert "row 3, column 2 (\"height\"): cell 'tall' is not a number" in message


def test_csv_empty_cell_is_named(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "1,2,0\n3,,1\n"))
    assert "row 2, column 2: cell is empty" in message


def test_csv_bad_first_row_suggests_a_header_only_when_it_might_be_one(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "1,abc,0\n3,4,1\n"))
    assert "row 1, column 2: cell 'abc' is not a number" in message
    assert "if row 1 is a header, pass header=True" in message


def test_csv_ragged_row_says_expected_and_found(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,c\n1,2,3\n\n4,5\n"))
    assert "row 4: expected 3 fields (as in row 1), found 2" in message


def test_csv_empty_file(tmp_path: Path) -> None:
    assert "the file is empty" in error_of(write(tmp_path, ""))
    assert "the file is empty" in error_of(write(tmp_path, "\n\n", "blank.csv"))


def test_csv_header_without_data(tmp_path: Path) -> None:
    assert "a header row but no data rows" in error_of(write(tmp_path, "a,b\n"))


def test_csv_missing_target_column_lists_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "x1,x2,label\n1,2,0\n")
    message = error_of(path, target="class")
    assert 'no target column "class"; the columns are 1 "x1", 2 "x2", 3 "label"' in message
    assert "no target column 4" in error_of(path, target=4)
    assert "no target column 0" in error_of(path, target=0)


def test_csv_target_name_without_header(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "1,2\n3,4\n"), target="label")
    assert "the file has no header row; give the target as a column number (1..2" in message


def test_csv_duplicate_target_name(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,y,y\n1,2,3\n"), target="y")
    assert 'column name "y" appears twice (columns 2 and 3)' in message


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity"])
def test_csv_nan_and_inf_features_are_refused(tmp_path: Path, cell: str) -> None:
    message = error_of(write(tmp_path, f"a,b,y\n1,2,0\n3,{cell},1\n"))
    assert f"row 3, column 2 (\"b\"): cell '{cell}'; NaN/inf is not allowed" in message


def test_csv_nan_target_is_refused(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "1,0.5\n2,nan\n"))
    assert "row 2, column 2: cell 'nan'; NaN/inf is not allowed" in message


def test_csv_value_too_large_for_float32(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "1,0\n1e39,1\n"))
    assert "row 2, column 1: cell '1e39' is too large for float32" in message


def test_csv_mixed_numeric_and_text_target_names_the_text(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "1,0\n2,one\n3,1\n"))
    assert "row 2, column 2: cell 'one' is not a number" in message


def test_csv_single_column_and_missing_file(tmp_path: Path) -> None:
    assert "only one column" in error_of(write(tmp_path, "1\n2\n"))
    assert "no such file" in error_of(tmp_path / "nope.csv")


def test_csv_malformed_quotes_and_binary(tmp_path: Path) -> None:
    assert "row 2: malformed CSV" in error_of(write(tmp_path, '1,2\n3,"4\n'))
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    assert "not UTF-8 text" in error_of(binary)


def test_csv_bad_arguments(tmp_path: Path) -> None:
    path = write(tmp_path, "1,0\n2,1\n")
    with pytest.raises(ValueError, match="header must be"):
        load_csv(path, header="yes")
    with pytest.raises(ValueError, match="task must be"):
        load_csv(path, task="clustering")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="test_fraction must be in"):
        load_csv(path, test_fraction=1.5)


# --- NPZ ------------------------------------------------------------------------


def npz(tmp_path: Path, name: str = "data.npz", **arrays: np.ndarray) -> Path:
    path = tmp_path / name
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def npz_error(path: Path, **kwargs: object) -> str:
    with pytest.raises(DataError) as info:
        load_npz(path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_npz_with_test_set(tmp_path: Path) -> None:
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    path = npz(tmp_path, X=X, y=np.array([1, 0, 1, 0]), X_test=X[:2], y_test=np.array([0, 1]))
    d = load_npz(path)
    assert d.name == "data" and d.task == "classification" and d.n_classes == 2
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    np.testing.assert_array_equal(d.X_train, X)
    np.testing.assert_array_equal(d.y_test, [0, 1])


def test_npz_float_targets_are_regression_and_images_are_flattened(tmp_path: Path) -> None:
    path = npz(tmp_path, X=np.zeros((3, 4, 4), np.uint8), y=np.array([0.5, 1.5, 2.5]))
    d = load_npz(path)
    assert d.task == "regression" and d.X_train.shape == (3, 16) and d.image_shape == (4, 4)


def test_npz_forced_classification_of_fractional_targets_is_refused(tmp_path: Path) -> None:
    path = npz(tmp_path, X=np.zeros((2, 2)), y=np.array([0.5, 1.0]))
    assert "y[0] = 0.5 is not an integer class label" in npz_error(path, task="classification")


def test_npz_missing_key(tmp_path: Path) -> None:
    message = npz_error(npz(tmp_path, X=np.zeros((2, 2)), labels=np.zeros(2)))
    assert 'no array named "y" (found: X, labels)' in message


def test_npz_half_a_test_set(tmp_path: Path) -> None:
    path = npz(tmp_path, X=np.zeros((2, 2)), y=np.zeros(2), X_test=np.zeros((1, 2)))
    assert 'has "X_test" but no "y_test"' in npz_error(path)


def test_npz_not_a_zip_file(tmp_path: Path) -> None:
    path = tmp_path / "text.npz"
    path.write_text("hello, I am not an archive")
    assert "not a NumPy .npz archive" in npz_error(path)


def test_npz_truncated_zip(tmp_path: Path) -> None:
    good = npz(tmp_path, X=np.zeros((50, 2)), y=np.zeros(50))
    bad = tmp_path / "short.npz"
    bad.write_bytes(good.read_bytes()[:100])
    assert "not a NumPy .npz archive" in npz_error(bad)


def test_npz_holding_a_single_npy_array(tmp_path: Path) -> None:
    path = tmp_path / "single.npz"
    with path.open("wb") as handle:
        np.save(handle, np.zeros(3))
    assert "holds a single array" in npz_error(path)


def test_npz_object_array_is_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "objects.npz"
    np.savez(path, X=np.zeros((2, 2)), y=np.array([{"a": 1}, None], dtype=object))
    assert "array y holds Python objects, which are never loaded" in npz_error(path)


def test_npz_mismatched_lengths(tmp_path: Path) -> None:
    path = npz(tmp_path, X=np.zeros((3, 2)), y=np.zeros(2, np.int64))
    assert "X has 3 rows but y has 2" in npz_error(path)
    path = npz(tmp_path, "t.npz", X=np.zeros((3, 2)), y=np.zeros(3), X_test=np.zeros((2, 2)),
               y_test=np.zeros(1))  # fmt: skip
    assert "X_test has 2 rows but y_test has 1" in npz_error(path)


def test_npz_wrong_dimensions(tmp_path: Path) -> None:
    path = npz(tmp_path, X=np.zeros(3), y=np.zeros(3))
    assert "X has shape (3,); expected 2-D" in npz_error(path)
    path = npz(tmp_path, "y3.npz", X=np.zeros((3, 2)), y=np.zeros((3, 1, 1)))
    assert "y has shape (3, 1, 1)" in npz_error(path)
    path = npz(tmp_path, "w.npz", X=np.zeros((3, 2)), y=np.zeros(3), X_test=np.zeros((1, 5)),
               y_test=np.zeros(1))  # fmt: skip
    assert "X has samples of shape (2,) but X_test has (5,)" in npz_error(path)


def test_npz_nan(tmp_path: Path) -> None:
    path = npz(tmp_path, X=np.array([[0.0, 1.0], [np.inf, 0.0]]), y=np.zeros(2))
    assert "X[1, 0] is inf; NaN/inf is not allowed" in npz_error(path)


def test_npz_missing_file(tmp_path: Path) -> None:
    assert "no such file" in npz_error(tmp_path / "absent.npz")


def test_npz_is_a_zip_of_npy_files(tmp_path: Path) -> None:
    # Sanity check of the fixture format itself: np.savez writes a zip.
    assert zipfile.is_zipfile(npz(tmp_path, X=np.zeros((1, 1)), y=np.zeros(1)))
