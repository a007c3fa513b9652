"""Data for backprop: MNIST without the web, generated 2-D sets, user CSV/NPZ files.

Every loader returns a Dataset: X float32 (m, n_features), one sample per
row; y int64 labels 0..k-1 for classification, float32 for regression;
an optional test set. load_dataset(name_or_path) reaches them all.
"""

from backprop.datasets.base import Dataset
from backprop.datasets.cache import cache_dir
from backprop.datasets.digits import load_digits
from backprop.datasets.files import load_csv, load_npz
from backprop.datasets.idx import load_idx, load_mnist_idx, read_idx
from backprop.datasets.mnist import fetch_mnist, load_mnist, mnist_cache_path
from backprop.datasets.registry import DATASET_NAMES, dataset_options, describe, load_dataset
from backprop.datasets.scaling import Scaler
from backprop.datasets.subsets import subset_classes
from backprop.datasets.toy import (
    make_circles,
    make_gaussians,
    make_line,
    make_moons,
    make_spirals,
    make_xor,
)

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "Scaler",
    "cache_dir",
    "dataset_options",
    "describe",
    "fetch_mnist",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_idx",
    "load_mnist",
    "load_mnist_idx",
    "load_npz",
    "make_circles",
    "make_gaussians",
    "make_line",
    "make_moons",
    "make_spirals",
    "make_xor",
    "mnist_cache_path",
    "read_idx",
    "subset_classes",
]
