"""Every dataset by name, for the command line and load_dataset."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backprop.datasets.base import Dataset
from backprop.datasets.digits import load_digits
from backprop.datasets.files import load_csv, load_npz
from backprop.datasets.idx import load_mnist_idx
from backprop.datasets.mnist import load_mnist
from backprop.datasets.toy import (
    make_circles,
    make_gaussians,
    make_line,
    make_moons,
    make_spirals,
    make_xor,
)
from backprop.errors import DataError, OptionError

DATASET_NAMES = ("mnist", "digits", "xor", "circles", "moons", "spirals", "gaussians", "line")

_LOADERS: dict[str, Callable[..., Dataset]] = {
    "mnist": load_mnist,
    "digits": load_digits,
    "xor": make_xor,
    "circles": make_circles,
    "moons": make_moons,
    "spirals": make_spirals,
    "gaussians": make_gaussians,
    "line": make_line,
}

_DESCRIPTIONS = {
    "mnist": "handwritten digits, 60,000 train / 10,000 test 28x28 images, 10 classes "
    "(fetched once with pip, then cached)",
    "digits": "scikit-learn's 8x8 handwritten digits, 1,797 images, 10 classes "
    "(needs scikit-learn)",
    "xor": "2-D points in four quadrants, class = sign(x1) != sign(x2); 2 classes, "
    "not linearly separable",
    "circles": "two concentric circles in 2-D; 2 classes",
    "moons": "two interleaving half-circles in 2-D; 2 classes",
    "spirals": "interleaved spiral arms in 2-D, one class per arm (n_classes=2)",
    "gaussians": "round Gaussian blobs in 2-D, one class per blob (n_classes=3)",
    "line": "regression: y = 2x - 1 plus Gaussian noise, x in [-1, 1]",
}

_FILE_LOADERS: dict[str, Callable[..., Dataset]] = {".csv": load_csv, ".npz": load_npz}


def describe() -> dict[str, str]:
    """A one-line description of each named dataset, in DATASET_NAMES order."""
    return {name: _DESCRIPTIONS[name] for name in DATASET_NAMES}


def dataset_options(name: str) -> tuple[str, ...]:
    """The keyword options that load_dataset accepts for ``name`` (a dataset name)."""
    if name not in _LOADERS:
        raise DataError(_unknown(name))
    return tuple(inspect.signature(_LOADERS[name]).parameters)


def load_dataset(name_or_path: str | Path, **options: Any) -> Dataset:
    """A dataset by name (see DATASET_NAMES), from a .csv or .npz file, or
    MNIST from a directory holding its four IDX files.

    ``options`` go to the loader: for example n_samples=500, noise=0.2,
    seed=1 for a generated set; target="label", test_fraction=0.2 for a CSV
    file (see load_csv); cache_dir=... or idx_dir=... for MNIST.
    """
    text = str(name_or_path)
    key = text.strip().lower()
    if not isinstance(name_or_path, Path) and key in _LOADERS:
        return _call(key, _LOADERS[key], options)
    suffix = Path(text).suffix.lower()
    if suffix in _FILE_LOADERS:
        if not Path(text).exists() and not Path(text).is_symlink():
            raise DataError(f"{text}: no such file")
        return _call(text, _FILE_LOADERS[suffix], options, path=text)
    if Path(text).is_dir():
        if any(Path(text).glob("*.npy")) and not any(Path(text).glob("*-ubyte*")):
            raise DataError(
                f"{text}: a folder of .npy shards, which `backprop train` streams; here give "
                "a dataset name or a .csv or .npz file (np.savez(path, X=..., y=...))"
            )
        return _call(text, load_mnist_idx, options, path=text)
    if Path(text).exists():
        raise DataError(
            f"{text}: cannot load a {suffix or 'suffix-less'} file; give a .csv or .npz"
        )
    raise DataError(_unknown(text))


def _unknown(text: str) -> str:
    return (
        f"unknown dataset {text!r}: choose one of {', '.join(DATASET_NAMES)}, "
        "or give a path to a .csv or .npz file (or a directory of MNIST IDX files)"
    )


def _call(
    what: str, loader: Callable[..., Dataset], options: dict[str, Any], path: str | None = None
) -> Dataset:
    """loader(**options), or loader(path, **options) for a file; unknown options refused."""
    accepted = [
        name for name in inspect.signature(loader).parameters if name not in ("path", "directory")
    ]
    unknown = [name for name in options if name not in accepted]
    if unknown:
        raise OptionError(
            f"{what}: unknown option {unknown[0]!r}; valid options: {', '.join(accepted)}"
        )
    return loader(**options) if path is None else loader(path, **options)
