"""IDX files: the header, the data, truncation, foreign files, and the MNIST directory."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from backprop.datasets import load_idx, load_mnist_idx, read_idx
from backprop.errors import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file holding ``array``, written from the format description."""
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}  # fmt: skip
    code = codes[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def images_and_labels(
    m: int = 5, rows: int = 3, cols: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (m, rows, cols), dtype=np.uint8)
    return images, rng.integers(0, 10, m).astype(np.uint8)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_round_trips_every_type(tmp_path: Path, dtype: type) -> None:
    array: np.ndarray = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = read_idx(write(tmp_path / "a.idx", array))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_read_idx_reads_gzip_by_content(tmp_path: Path) -> None:
    array = np.arange(6, dtype=np.int32).reshape(6)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "a.gz", array, gz=True)), array)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "plain", array, gz=True)), array)


def test_load_idx_scales_pixels_by_256_and_flattens(tmp_path: Path) -> None:
    images, labels = images_and_labels()
    X, y = load_idx(write(tmp_path / "i", images), write(tmp_path / "l", labels))
    assert X.dtype == np.float32 and X.shape == (5, 12)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X, images.reshape(5, 12) / np.float32(256))
    np.testing.assert_array_equal(y, labels)


def test_truncated_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_bytes(idx_bytes(np.zeros((4, 2, 2), np.uint8))[:-3])
    with pytest.raises(
        DataError,
        match=r"short: truncated: the header says shape \(4, 2, 2\), which needs 16 bytes "
        r"of data, but the file has 13",
    ):
        read_idx(path)


def test_truncated_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "head"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 4]))
    with pytest.raises(
        DataError, match=r"head: truncated IDX header \(8 bytes; 3 dimensions need 16\)"
    ):
        read_idx(path)


def test_truncated_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 50), np.uint8)))[:-20])
    with pytest.raises(DataError, match=r"cut\.gz: corrupt or truncated gzip data"):
        read_idx(path)


def test_extra_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"junk")
    with pytest.raises(DataError, match="long: 4 unexpected bytes after the data"):
        read_idx(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n0000",
        b"hello world",
        b"\x00\x00\x07\x01\x00\x00\x00\x01x",
        b"\x00\x00",
        b"",
    ],
)
def test_foreign_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "foreign"
    path.write_bytes(content)
    with pytest.raises(DataError, match="foreign: not an IDX file"):
        read_idx(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nothing: no such file"):
        read_idx(tmp_path / "nothing")


def test_images_and_labels_must_match(tmp_path: Path) -> None:
    images, labels = images_and_labels(m=5)
    i = write(tmp_path / "i", images)
    with pytest.raises(DataError, match=r"has 5 images but .* has 4 labels"):
        load_idx(i, write(tmp_path / "l", labels[:4]))
    with pytest.raises(
        DataError, match=r"expected unsigned-byte images of shape \(n, rows, cols\)"
    ):
        load_idx(write(tmp_path / "flat", images.reshape(5, 12)), write(tmp_path / "l2", labels))
    with pytest.raises(DataError, match=r"expected integer labels of shape \(n,\)"):
        load_idx(i, write(tmp_path / "l3", labels.astype(np.float32)))


def mnist_dir(tmp_path: Path, gz: bool, dotted: bool = False) -> Path:
    d = tmp_path / "mnist"
    d.mkdir()
    suffix = ".gz" if gz else ""
    for part, m in (("train", 6), ("t10k", 3)):
        images, labels = images_and_labels(m=m, rows=28, cols=28, seed=m)
        sep = "." if dotted else "-"
        write(d / f"{part}-images{sep}idx3-ubyte{suffix}", images, gz)
        write(d / f"{part}-labels{sep}idx1-ubyte{suffix}", labels, gz)
    return d


@pytest.mark.parametrize(("gz", "dotted"), [(False, False), (True, False), (True, True)])
def test_load_mnist_idx_finds_the_four_files(tmp_path: Path, gz: bool, dotted: bool) -> None:
    d = load_mnist_idx(mnist_dir(tmp_path, gz, dotted))
    assert (d.n_train, d.n_test, d.n_features, d.image_shape, d.n_classes) == (
        6,
        3,
        784,
        (28, 28),
        10,
    )
    images, labels = images_and_labels(m=6, rows=28, cols=28, seed=6)
    np.testing.assert_array_equal(d.X_train, images.reshape(6, 784) / np.float32(256))
    np.testing.assert_array_equal(d.y_train, labels)
    assert d.X_train.min() >= 0.0 and d.X_train.max() < 1.0


def test_load_mnist_idx_names_a_missing_file(tmp_path: Path) -> None:
    d = mnist_dir(tmp_path, gz=False)
    (d / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(
        DataError, match=r"no t10k-labels-idx1-ubyte \(or t10k-labels-idx1-ubyte.gz\) found"
    ):
        load_mnist_idx(d)
    with pytest.raises(DataError, match="no such directory"):
        load_mnist_idx(tmp_path / "elsewhere")


def test_load_mnist_idx_refuses_labels_beyond_nine(tmp_path: Path) -> None:
    d = mnist_dir(tmp_path, gz=False)
    write(d / "t10k-labels-idx1-ubyte", np.array([1, 12, 3], np.uint8))
    with pytest.raises(
        DataError, match=r"t10k-labels-idx1-ubyte: label 2 is 12; MNIST labels are digits 0\.\.9"
    ):
        load_mnist_idx(d)
