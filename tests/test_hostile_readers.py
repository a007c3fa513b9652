"""Every file reader against hostile bytes: truncation, bit flips, header mutations and
size claims.

A reader either returns something whole or raises one of the library's errors
(a BackpropError) with a one-line message; it never raises anything else,
never blocks, and never allocates much more than the file claims within the
limits. Each case runs under a memory bound (tracemalloc's peak, which sees
NumPy's buffers) and an alarm that turns a hang into a failure.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.cli.common import saved_scaler
from backprop.cli.options import read_config
from backprop.cli.predict import read_image
from backprop.cli.train import TrainOptions
from backprop.datasets import load_csv, load_npz, read_idx
from backprop.errors import BackpropError, DataError, OptionError
from backprop.files.io import MAX_NESTING, read_json
from backprop.streaming import BatchIterable, NpyFile, Source, open_source, scan, shuffled_batches
from backprop.sweep import SweepConfigError, load_config
from bounds import bounded

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])




def read_or_fail_cleanly(read: Callable[[], Any], path: Path) -> Any:
    """read() within the bounds; a failure must be a BackpropError of one line naming path."""
    with bounded():
        try:
            return read()
        except BackpropError as error:
            message = str(error)
            assert "\n" not in message, message
            assert path.name in message, message
            return None


def mutate(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    """data cut to ``cut`` bytes (when that is shorter), with bytes XOR-ed at ``flips``."""
    out = bytearray(data[:cut])
    for position, mask in flips:
        if position < len(out):
            out[position] ^= mask
    return bytes(out)


def mutations(size: int) -> st.SearchStrategy[tuple[int, list[tuple[int, int]]]]:
    return st.tuples(
        st.one_of(st.just(size), st.integers(0, size)),
        st.lists(st.tuples(st.integers(0, max(size - 1, 0)), st.integers(1, 255)), max_size=6),
    )


# -- the valid files the fuzzing starts from ----------------------------------------------

CSV = b"x1,x2,label\n0.5,1.5,cat\n-1,2e3,dog\n3,4,cat\n\"5\",6,dog\n"


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


NPZ = npz_bytes(X=np.arange(12, dtype=np.float32).reshape(6, 2), y=np.arange(6) % 2)


def idx_bytes(array: np.ndarray) -> bytes:
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(np.uint8).tobytes()


IDX = idx_bytes(np.arange(48).reshape(3, 4, 4))


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    pixels = (np.arange(width * height).reshape(height, width) % 256).astype(np.uint8)
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


TOML = b'epochs = 3\nlayers = [4, 2]\nlr = 0.1\nactivation = "tanh"\n'
TRAIN_OPTIONS = TrainOptions.declaration()  # the options a config file for train may set
WEIGHTS = json.dumps([{"W": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "b": [0, 0, 0]},
                      {"W": [[1, 2, 3]], "b": [0.5]}]).encode()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- fuzzing: truncation and bit flips ----------------------------------------------------


@FUZZ
@given(mutation=mutations(len(CSV)))
def test_csv_reader_fuzzed(tmp_path: Path, mutation: tuple[int, list[tuple[int, int]]]) -> None:
    path = write(tmp_path, "fuzzed.csv", mutate(CSV, *mutation))
    data = read_or_fail_cleanly(lambda: load_csv(path), path)
    if data is not None:
        assert np.isfinite(data.X_train).all() and len(data.X_train) == len(data.y_train)


@FUZZ
@given(mutation=mutations(len(NPZ)))
def test_npz_reader_fuzzed(tmp_path: Path, mutation: tuple[int, list[tuple[int, int]]]) -> None:
    path = write(tmp_path, "fuzzed.npz", mutate(NPZ, *mutation))
    data = read_or_fail_cleanly(lambda: load_npz(path), path)
    if data is not None:
        assert np.isfinite(data.X_train).all() and len(data.X_train) == len(data.y_train)


@FUZZ
@given(mutation=mutations(len(IDX)), zipped=st.booleans())
def test_idx_reader_fuzzed(
    tmp_path: Path, mutation: tuple[int, list[tuple[int, int]]], zipped: bool
) -> None:
    raw = gzip.compress(IDX) if zipped else IDX
    path = write(tmp_path, "fuzzed.idx", mutate(raw, *mutation[:1], mutation[1]))
    array = read_or_fail_cleanly(lambda: read_idx(path), path)
    if array is not None:
        assert array.size * array.itemsize <= len(IDX) * 8


PNG = png_bytes()
IMAGE_NET = bp.Network([bp.Dense(64, 3, activation="softmax")], loss="cross_entropy", seed=0)


@FUZZ
@given(mutation=mutations(len(PNG)))
def test_png_reader_fuzzed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutation: tuple[int, list[tuple[int, int]]]
) -> None:
    monkeypatch.setenv("BACKPROP_MAX_PIXELS", "250000")  # the memory bound's share of pixels
    path = write(tmp_path, "fuzzed.png", mutate(PNG, *mutation))
    row = read_or_fail_cleanly(lambda: read_image(path, IMAGE_NET), path)
    if row is not None:
        assert row.shape == (1, 64) and np.isfinite(row).all()


@FUZZ
@given(mutation=mutations(len(TOML)))
def test_toml_config_fuzzed(tmp_path: Path, mutation: tuple[int, list[tuple[int, int]]]) -> None:
    path = write(tmp_path, "fuzzed.toml", mutate(TOML, *mutation))
    values = read_or_fail_cleanly(lambda: read_config(str(path), TRAIN_OPTIONS), path)
    if values is not None:
        assert set(values) <= {option.name for option in TRAIN_OPTIONS if not option.positional}


@FUZZ
@given(mutation=mutations(len(WEIGHTS)))
def test_weights_json_fuzzed(tmp_path: Path, mutation: tuple[int, list[tuple[int, int]]]) -> None:
    path = write(tmp_path, "fuzzed.json", mutate(WEIGHTS, *mutation))
    read_or_fail_cleanly(lambda: read_json(path, "weights file", OptionError), path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12,
)


@FUZZ
@given(
    kind=st.one_of(JSON_VALUES, st.sampled_from(["standard", "minmax"])),
    offset=st.one_of(JSON_VALUES, st.lists(st.floats(), min_size=2, max_size=2)),
    scale=st.one_of(JSON_VALUES, st.lists(st.floats(), min_size=2, max_size=2)),
    drop=st.sets(st.sampled_from(["kind", "offset", "scale"])),
)
def test_saved_scaler_fuzzed(kind: Any, offset: Any, scale: Any, drop: set[str]) -> None:
    net = bp.Network([bp.Dense(2, 1)], seed=0)
    state = {key: value for key, value in
             {"kind": kind, "offset": offset, "scale": scale}.items() if key not in drop}
    net.metadata["scaler"] = state
    with bounded():
        try:
            scaler = saved_scaler(net)
        except DataError as error:
            assert "\n" not in str(error)
        else:
            assert scaler is not None
            assert np.isfinite(scaler.transform(np.ones((1, 2)))).all()


# -- header mutations and size claims ------------------------------------------------------


def npy_claiming(shape: tuple[int, ...], payload: bytes = b"\0" * 64) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + payload


@FUZZ
@given(shape=st.lists(st.integers(0, 2**40), min_size=1, max_size=3).map(tuple))
def test_npz_data_size_claims_are_checked_before_reading(
    tmp_path: Path, shape: tuple[int, ...]
) -> None:
    path = tmp_path / "claims.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", npy_claiming(shape))
        archive.writestr("y.npy", npy_claiming((2,), b"\0" * 8))
    read_or_fail_cleanly(lambda: load_npz(path), path)


def test_an_npz_claiming_terabytes_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", npy_claiming((1_000_000, 1_000_000)))
        archive.writestr("y.npy", npy_claiming((2,), b"\0" * 8))
    with bounded(), pytest.raises(DataError, match=r"array X declares shape .*"
                                                   r"BACKPROP_MAX_ARRAY_BYTES"):
        load_npz(path)


def test_an_npz_that_inflates_past_the_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKPROP_MAX_ARRAY_BYTES", str(1 << 20))
    path = tmp_path / "bomb.npz"
    path.write_bytes(npz_bytes(X=np.zeros((1 << 20, 2), np.float32), y=np.zeros(1 << 20)))
    assert path.stat().st_size < 100_000  # 16 MiB of zeros inflates from a few kB
    with bounded(), pytest.raises(DataError, match="BACKPROP_MAX_ARRAY_BYTES"):
        load_npz(path)
    monkeypatch.delenv("BACKPROP_MAX_ARRAY_BYTES")
    assert load_npz(path).n_train == 1 << 20  # under the default limit it is fine


def test_random_bytes_and_a_single_npy_are_named(tmp_path: Path) -> None:
    noise = write(tmp_path, "noise.npz", bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"noise\.npz: not a NumPy \.npz archive"):
        load_npz(noise)
    single = tmp_path / "single.npz"
    with single.open("wb") as file:
        np.save(file, np.zeros(3))
    with pytest.raises(DataError, match="holds a single array"):
        load_npz(single)


def test_a_gzip_bomb_idx_is_stopped_at_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKPROP_MAX_ARRAY_BYTES", str(1 << 20))
    path = write(tmp_path, "bomb-idx3-ubyte.gz",
                 gzip.compress(idx_bytes(np.zeros((64, 256, 256), np.uint8))))
    with bounded(), pytest.raises(DataError, match=r"inflates to more than 1,048,576 bytes"):
        read_idx(path)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height grey pixels, with almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_png_claiming_225_megapixels_is_refused_before_decoding(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.png", png_claiming(15_000, 15_000))
    assert path.stat().st_size < 200
    with bounded(), pytest.raises(DataError, match=r"15000x15000.*BACKPROP_MAX_PIXELS"):
        read_image(path, IMAGE_NET)


@pytest.mark.parametrize(("reader", "suffix"), [
    (lambda p: load_csv(p), ".csv"), (lambda p: load_npz(p), ".npz"),
    (lambda p: read_idx(p), ".idx"), (lambda p: read_image(p, IMAGE_NET), ".png"),
    (lambda p: read_config(str(p), TRAIN_OPTIONS), ".toml"),
    (lambda p: read_json(p, "weights file", OptionError), ".json"),
    (lambda p: open_source(p), ".npy"), (lambda p: load_config(p), ".toml"),
])
def test_every_reader_refuses_a_fifo_a_folder_and_a_device(
    tmp_path: Path, reader: Callable[[Path], Any], suffix: str
) -> None:
    fifo = tmp_path / f"pipe{suffix}"
    os.mkfifo(fifo)
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    loop = tmp_path / f"loop{suffix}"
    loop.symlink_to(loop.name)
    for path, kind in ((fifo, "FIFO"), (folder, "folder"), (Path("/dev/zero"), "device"),
                       (loop, "symlink loop")):
        with bounded(), pytest.raises(BackpropError, match=kind):
            reader(path)


@pytest.mark.parametrize("text", [
    "a = " + "[" * 100_000 + "]" * 100_000, "a = " + "{b = " * 5_000 + "1" + "}" * 5_000,
])
def test_deeply_nested_toml_is_one_line(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "deep.toml", text.encode())
    with bounded(), pytest.raises(OptionError, match=f"nested more than {MAX_NESTING} levels"):
        read_config(str(path), TRAIN_OPTIONS)


def test_deeply_nested_json_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.json", b"[" * 100_000 + b"]" * 100_000)
    with bounded(), pytest.raises(OptionError, match=f"nested more than {MAX_NESTING} levels"):
        read_json(path, "weights file", OptionError)


def test_a_csv_cell_over_the_field_limit_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", b"a,b,y\n" + b"1" * 200_000 + b",2,0\n")
    with pytest.raises(DataError, match=r"long.csv, row 2: a cell longer than 131,072"):
        load_csv(path)


def test_the_file_size_limit_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPROP_MAX_FILE_BYTES", "100")
    path = write(tmp_path, "big.csv", b"1,2,0\n" * 100)
    with pytest.raises(DataError, match=r"big.csv has 600 bytes.*BACKPROP_MAX_FILE_BYTES"):
        load_csv(path)


@pytest.mark.parametrize("claim", [1 << 26, 1 << 30, (1 << 31) - 1])
def test_a_png_chunk_claiming_more_than_the_file_holds_is_refused_unallocated(
    tmp_path: Path, claim: int
) -> None:
    data = bytearray(PNG)
    start = 33  # the chunk after IHDR (8 signature + 25 IHDR bytes)
    data[start : start + 4] = struct.pack(">I", claim)
    path = write(tmp_path, "claims.png", bytes(data[:80]))
    with bounded(), pytest.raises(DataError, match=rf"claims {claim:,} bytes"):
        read_image(path, IMAGE_NET)


# -- the streaming readers: a large .npy file, a folder of shards, batches; a sweep config ----


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


NPY = npy_bytes(np.arange(18, dtype=np.float32).reshape(6, 3) % 5)
SHARDS = {"X_000.npy": npy_bytes(np.arange(8, dtype=np.float32).reshape(4, 2)),
          "y_000.npy": npy_bytes(np.arange(4) % 2),
          "X_001.npy": npy_bytes(np.ones((3, 2), np.float64)),
          "y_001.npy": npy_bytes(np.array([1, 0, 1]))}
SWEEP = (b'dataset = "xor"\nmetric = "loss"\nn_trials = 2\n[fixed]\nepochs = 3\n'
         b'[search]\nlr = { log_uniform = [0.001, 0.1] }\nlayers = [[4], [8, 8]]\n')


def stream_everything(source: Any) -> None:
    """Read a streaming source as fit does: its targets, then one shuffled epoch."""
    if isinstance(source, Source):
        source.targets()
    for X, y in shuffled_batches(source, 2, buffer_size=8, rng=np.random.default_rng(0)):
        assert len(X) == len(y) and np.isfinite(X).all()


def read_cleanly_naming_one_of(read: Callable[[], Any], names: list[str]) -> None:
    """read() within the bounds; a failure is a one-line BackpropError naming one of names."""
    with bounded():
        try:
            read()
        except BackpropError as error:
            message = str(error)
            assert "\n" not in message, message
            assert any(name in message for name in names), message


@FUZZ
@given(mutation=mutations(len(NPY)))
def test_a_large_npy_file_fuzzed(
    tmp_path: Path, mutation: tuple[int, list[tuple[int, int]]]
) -> None:
    path = write(tmp_path, "fuzzed.npy", mutate(NPY, *mutation))
    read_cleanly_naming_one_of(lambda: stream_everything(open_source(path)), [path.name])


@FUZZ
@given(victim=st.sampled_from(sorted(SHARDS)), mutation=mutations(len(SHARDS["X_000.npy"])))
def test_a_shard_folder_fuzzed(
    tmp_path: Path, victim: str, mutation: tuple[int, list[tuple[int, int]]]
) -> None:
    folder = tmp_path / "shards"
    folder.mkdir(exist_ok=True)
    for name, data in SHARDS.items():
        write(folder, name, mutate(data, *mutation) if name == victim else data)
    read_cleanly_naming_one_of(lambda: stream_everything(open_source(folder)), list(SHARDS))


@FUZZ
@given(shape=st.lists(st.integers(0, 2**40), min_size=1, max_size=3).map(tuple))
def test_npy_size_claims_are_checked_before_reading(
    tmp_path: Path, shape: tuple[int, ...]
) -> None:
    path = write(tmp_path, "claims.npy", npy_claiming(shape))
    read_cleanly_naming_one_of(lambda: stream_everything(NpyFile(path)), [path.name])


def test_an_npy_claiming_terabytes_or_more_than_it_holds_is_refused_unread(
    tmp_path: Path
) -> None:
    huge = write(tmp_path, "huge.npy", npy_claiming((1_000_000, 1_000_000)))
    # streamed, a file may be of any size; what it claims must be there
    with bounded(), pytest.raises(DataError, match=r"huge\.npy declares shape \(1000000, "
                                                   r"1000000\) \(4,000,000,000,000 bytes\) but "
                                                   r"the file holds 64"):
        NpyFile(huge)
    short = write(tmp_path, "short.npy", npy_claiming((1000, 3)))
    with bounded(), pytest.raises(DataError, match=r"short\.npy declares shape \(1000, 3\) "
                                                   r"\(12,000 bytes\) but the file holds 64"):
        NpyFile(short)


@st.composite
def batches(draw: st.DrawFn) -> list[Any]:
    """Lists of (X, y) batches of odd shapes, dtypes and kinds of item."""
    dtypes = st.sampled_from(["f4", "f8", "i8", "u1", "?", "c8", "U3", "O"])
    shapes = st.lists(st.integers(0, 4), max_size=3).map(tuple)
    arrays = st.builds(lambda dtype, shape: np.zeros(shape, dtype), dtypes, shapes)
    item = st.one_of(st.tuples(arrays, arrays), st.tuples(arrays), arrays, st.none(),
                     st.tuples(arrays, arrays, arrays))
    return draw(st.lists(item, max_size=3))


@FUZZ
@given(items=batches())
def test_an_iterable_of_batches_fuzzed(items: list[Any]) -> None:
    read_cleanly_naming_one_of(lambda: stream_everything(open_source(items)),
                               ["batch", "batches"])
    read_cleanly_naming_one_of(lambda: scan(BatchIterable(items)), ["batch", "batches"])


@FUZZ
@given(mutation=mutations(len(SWEEP)))
def test_a_sweep_config_fuzzed(tmp_path: Path, mutation: tuple[int, list[tuple[int, int]]]) -> None:
    path = write(tmp_path, "fuzzed.toml", mutate(SWEEP, *mutation))
    read_or_fail_cleanly(lambda: load_config(path), path)


def test_a_deeply_nested_sweep_config_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.toml", b"dataset = " + b"[" * 100_000 + b"]" * 100_000)
    with bounded(), pytest.raises(SweepConfigError, match=f"nested more than {MAX_NESTING}"):
        load_config(path)


def test_a_sweep_config_over_the_file_size_limit_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKPROP_MAX_FILE_BYTES", "100")
    path = write(tmp_path, "big.toml", SWEEP + b"#" * 100)
    with pytest.raises(SweepConfigError, match=r"big\.toml has .*\(BACKPROP_MAX_FILE_BYTES\)"):
        load_config(path)


def shard_folder(folder: Path, files: dict[str, Any]) -> Path:
    """A folder of shard files: an array is saved, "fifo", "folder" and "loop" make those."""
    folder.mkdir()
    for name, content in files.items():
        if isinstance(content, np.ndarray):
            np.save(folder / name, content)
        elif content == "fifo":
            os.mkfifo(folder / name)
        elif content == "folder":
            (folder / name).mkdir()
        elif content == "loop":
            (folder / name).symlink_to(name)
    return folder


X3, Y3 = np.zeros((3, 2), np.float32), np.array([0, 1, 0])
BAD_SHARDS: list[tuple[dict[str, Any], str]] = [
    ({}, "shards is an empty folder"),
    ({"X_0.npy": X3, "y_0.npy": Y3, "y_1.npy": Y3}, "y_1.npy: no features file X_1.npy"),
    ({"X_0.npy": X3, "y_0.npy": Y3, "y_test.npy": Y3}, "y_test.npy: no features file"),
    ({"X_0.npy": X3, "y_0.npy": np.zeros(4)}, "X_0.npy has 3 rows but y_0.npy has 4"),
    ({"X_0.npy": X3, "y_0.npy": Y3, "X_1.npy": np.zeros((3, 5)), "y_1.npy": Y3},
     "X_1.npy has 5 features but X_0.npy has 2"),
    ({"X_0.npy": X3, "y_0.npy": Y3, "X_1.npy": X3, "y_1.npy": np.zeros((3, 2))},
     "y_1.npy has targets of shape (2,) per row but y_0.npy has ()"),
    ({"X_0.npy": X3, "y_0.npy": Y3, "X_1.npy": X3, "y_1.npy": Y3 + 0.5},
     "y_1.npy holds floats (float64) but y_0.npy holds whole numbers"),
    ({"X_0.npy": X3, "y_0.npy": np.array(["a", "b", "c"])}, "y_0.npy: dtype <U1"),
    ({"X_0.npy": np.zeros((3, 0)), "y_0.npy": Y3}, "X_0.npy: shape (3, 0)"),
    ({"X_0.npy": X3, "y_0.npy": Y3, "X_test.npy": np.zeros((2, 4)), "y_test.npy": Y3[:2]},
     "X_test.npy has 4 features but X_0.npy has 2"),
    ({"X_0.npy": "fifo", "y_0.npy": Y3}, "X_0.npy is a FIFO (named pipe), not a file"),
    ({"X_0.npy": X3, "y_0.npy": "folder"}, "y_0.npy is a folder, not a file"),
    ({"X_0.npy": X3, "y_0.npy": "loop"}, "y_0.npy is a symlink loop"),
]


@pytest.mark.parametrize(("files", "message"), BAD_SHARDS)
def test_a_bad_shard_folder_is_one_line_naming_the_file(
    tmp_path: Path, files: dict[str, Any], message: str
) -> None:
    folder = shard_folder(tmp_path / "shards", files)
    with bounded(), pytest.raises(DataError) as caught:
        open_source(folder)
    assert message in str(caught.value) and "\n" not in str(caught.value)
