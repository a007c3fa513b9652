"""Reading the IDX files that MNIST (and its look-alikes) are distributed in.

An IDX file is a 4-byte magic number — two zero bytes, a type code, the
number of dimensions — then each dimension as a big-endian uint32, then
the data, big-endian, in C order. Files may be gzip-compressed (detected
by their content, whatever the name).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backprop.datasets.base import Dataset
from backprop.errors import DataError
from backprop.files.io import gunzip, read_bytes

#: IDX type code -> NumPy dtype (big-endian where it matters).
IDX_TYPES: dict[int, np.dtype[np.generic]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The four MNIST file stems: (images, labels) for train and test.
MNIST_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, inflated when gzipped; a regular file within the size limits."""
    raw = read_bytes(path, "IDX file", DataError)
    if raw[:2] == b"\x1f\x8b":
        return gunzip(raw, "IDX file", path, DataError)
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """Any IDX file as an array of its stored type and shape (native byte order)."""
    p = Path(path)
    raw = _read_bytes(p)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or raw[3] == 0:
        head = raw[:4].hex(" ") or "none"
        raise DataError(
            f"{p}: not an IDX file (first bytes {head}; expected 00 00, a type code "
            "08/09/0b/0c/0d/0e, and a dimension count)"
        )
    dtype = IDX_TYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            f"{p}: truncated IDX header ({len(raw)} bytes; {ndim} dimensions need {header})"
        )
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    count = math.prod(dims)
    expected = count * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise DataError(
            f"{p}: truncated: the header says shape {dims}, which needs {expected} bytes "
            f"of data, but the file has {found}"
        )
    if found > expected:
        raise DataError(
            f"{p}: {found - expected} unexpected bytes after the data of shape {dims}; "
            "not a valid IDX file"
        )
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def _load_pair(
    images_path: str | Path, labels_path: str | Path
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], tuple[int, int]]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{images_path}: expected unsigned-byte images of shape (n, rows, cols), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(
            f"{labels_path}: expected integer labels of shape (n,), "
            f"got {labels.dtype} {labels.shape}"
        )
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{images_path} has {images.shape[0]} images but {labels_path} has "
            f"{labels.shape[0]} labels; they must match"
        )
    m, rows, cols = images.shape
    X = images.reshape(m, rows * cols).astype(np.float32)
    X *= np.float32(1 / 256)  # exact; the same values as Nielsen's mnist.pkl.gz
    return X, labels.astype(np.int64), (int(rows), int(cols))


def load_idx(
    images_path: str | Path, labels_path: str | Path
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Images and labels from a pair of IDX files.

    Returns X, float32 of shape (n, rows·cols) with pixel/256 (in [0, 1),
    the scaling of Nielsen's mnist.pkl.gz, so both MNIST sources agree), and
    y, int64 of shape (n,).
    """
    X, y, _ = _load_pair(images_path, labels_path)
    return X, y


def _find(directory: Path, stem: str) -> Path:
    dotted = stem.replace("-idx", ".idx")  # some mirrors name them train-images.idx3-ubyte
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataError(
        f"{directory}: no {stem} (or {stem}.gz) found; MNIST needs "
        + ", ".join(s for pair in MNIST_IDX_FILES.values() for s in pair)
    )


def load_mnist_idx(directory: str | Path) -> Dataset:
    """MNIST from the four standard IDX files (optionally .gz) in ``directory``.

    Returns 60,000 training and 10,000 test images as float32 rows of 784
    values in [0, 1) (pixel/256) with int64 labels 0..9.
    """
    d = Path(directory)
    if not d.is_dir():
        raise DataError(f"{d}: no such directory (expected the four MNIST IDX files in it)")
    train_images, train_labels = (_find(d, stem) for stem in MNIST_IDX_FILES["train"])
    test_images, test_labels = (_find(d, stem) for stem in MNIST_IDX_FILES["test"])
    X_train, y_train, shape = _load_pair(train_images, train_labels)
    X_test, y_test, test_shape = _load_pair(test_images, test_labels)
    if test_shape != shape:
        raise DataError(f"{test_images}: test images are {test_shape} but train images are {shape}")
    for path, y in ((train_labels, y_train), (test_labels, y_test)):
        bad = np.flatnonzero((y < 0) | (y > 9))
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{path}: label {i + 1} is {int(y[i])}; MNIST labels are digits 0..9")
    return Dataset(
        X_train,
        y_train,
        X_test,
        y_test,
        name="mnist",
        task="classification",
        n_classes=10,
        image_shape=shape,
    )
