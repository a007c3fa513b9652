"""load_dataset by name or path, describe, and the re-exported API."""

from pathlib import Path

import numpy as np
import pytest

import backprop.datasets as datasets
from backprop.datasets import DATASET_NAMES, dataset_options, describe, load_dataset
from backprop.errors import DataError


@pytest.mark.parametrize("name", ["xor", "circles", "moons", "spirals", "gaussians", "line"])
def test_generated_sets_load_by_name_with_options(name: str) -> None:
    d = load_dataset(name, n_samples=40, seed=3)
    assert d.name == name and d.n_train + d.n_test == 40
    same = getattr(datasets, f"make_{name}")(n_samples=40, seed=3)
    np.testing.assert_array_equal(d.X_train, same.X_train)


def test_names_are_case_insensitive() -> None:
    assert load_dataset(" XOR ").name == "xor"


def test_paths_load_by_suffix(tmp_path: Path) -> None:
    csv_path = tmp_path / "table.CSV"
    csv_path.write_text("a,b\n1,0\n2,1\n")
    assert load_dataset(csv_path, target="b").name == "table"
    assert load_dataset(str(csv_path)).n_train == 2
    npz_path = tmp_path / "arrays.npz"
    np.savez(npz_path, X=np.zeros((3, 2)), y=np.array([0, 1, 0]))
    assert load_dataset(npz_path).n_classes == 2


def test_a_file_named_like_a_dataset_needs_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xor").write_text("1,0\n")
    assert load_dataset("xor").name == "xor"  # the name wins over a suffix-less file
    with pytest.raises(DataError, match=r"cannot load a suffix-less file; give a \.csv or \.npz"):
        load_dataset(Path("xor"))


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(DataError) as info:
        load_dataset("mnsit")
    message = str(info.value)
    assert message == (
        "unknown dataset 'mnsit': choose one of mnist, digits, xor, circles, moons, spirals, "
        "gaussians, line, or give a path to a .csv or .npz file (or a directory of MNIST IDX "
        "files)"
    )


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "gone.csv"
    with pytest.raises(DataError, match=f"^{path}: no such file$"):
        load_dataset(path)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("1,2\n")
    with pytest.raises(DataError, match=r"cannot load a \.txt file"):
        load_dataset(path)


def test_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(
        ValueError,
        match="xor: unknown option 'samples'; valid options: n_samples, noise, seed, test_fraction",
    ):
        load_dataset("xor", samples=10)
    assert dataset_options("spirals") == (
        "n_samples",
        "noise",
        "seed",
        "test_fraction",
        "n_classes",
        "turns",
    )
    assert "idx_dir" in dataset_options("mnist")


def test_describe_has_one_line_per_name() -> None:
    lines = describe()
    assert tuple(lines) == DATASET_NAMES
    assert all(text and "\n" not in text for text in lines.values())


def test_everything_in_all_is_importable() -> None:
    for name in datasets.__all__:
        assert hasattr(datasets, name), name


def test_a_directory_loads_as_mnist_idx_files(tmp_path: Path) -> None:
    from test_datasets_idx import mnist_dir

    d = load_dataset(mnist_dir(tmp_path, gz=True))
    assert (d.name, d.n_train, d.n_test, d.image_shape) == ("mnist", 6, 3, (28, 28))


def test_a_dataset_prints_as_its_summary() -> None:
    assert (
        repr(load_dataset("xor"))
        == "<Dataset xor: classification, 2 classes, 2 features, 160 train / 40 test>"
    )
