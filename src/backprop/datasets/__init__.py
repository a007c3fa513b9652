"""Data for backprop: MNIST without the web, generated 2-D sets, user CSV/NPZ files.

Every loader returns a Dataset: X float32 (m, n_features), one sample per
row; y int64 labels 0..k-1 for classification, float32 for regression;
an optional test set. load_dataset(name_or_path) reaches them all.
"""

from .base import Dataset
from .cache import cache_dir
from .digits import load_digits
from .files import load_csv, load_npz
from .idx import load_idx, load_mnist_idx, read_idx
from .mnist import fetch_mnist, load_mnist, mnist_cache_path
from .registry import DATASET_NAMES, dataset_options, describe, load_dataset
from .scaling import Scaler
from .subsets import subset_classes
from .toy import make_circles, make_gaussians, make_line, make_moons, make_spirals, make_xor

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
