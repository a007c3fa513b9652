"""Model files with malformed headers and arrays: one reader, one schema, one line.

Every header field and every array is checked before any of it is used; a
fault is a ModelFileError naming the file and the field, through ``bp.load``
and, in one line, through the command. The fuzz test mutates a valid file's
header JSON (types, nesting, missing and extra keys, huge numbers) and arrays
(dtype, shape, size claims): each mutation loads and predicts finite values,
or fails in one line naming the file, under a memory bound and a hang alarm.
The number of fuzzed examples is BACKPROP_FUZZ_EXAMPLES (100 by default).
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.cli import entry
from backprop.errors import ModelFileError
from backprop.files import model_file
from bounds import bounded

#: Fuzzed examples per run: a few seconds' worth in CI; raise it for a long local run.
FUZZ_EXAMPLES = int(os.environ.get("BACKPROP_FUZZ_EXAMPLES", "100"))


def _net() -> bp.Network:
    """A network with every layer kind, so that every kind's fields are in the header."""
    return bp.Network(
        [bp.Dense(3, 4, activation=None, bias=False), bp.BatchNorm(4),
         bp.ActivationLayer(4, {"name": "leaky_relu", "slope": 0.1}), bp.Dropout(4, rate=0.2),
         bp.Dense(4, 2, activation="softmax")],
        loss="cross_entropy", seed=0,
    )


def _contents(net: bp.Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    header = {"format": model_file.FORMAT_NAME, "version": model_file.FORMAT_VERSION,
              "library_version": bp.__version__, "network": net.config(),
              "metadata": {"task": "classification", "image_shape": None}}
    arrays = dict(net.named_parameters())
    arrays.update(net.named_state())
    return header, arrays


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def npy_claiming(array: np.ndarray, shape: tuple[int, ...]) -> bytes:
    """.npy bytes whose header claims ``shape`` for ``array``'s data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False,
                 "shape": shape})
    return buffer.getvalue() + array.tobytes()


def write_model(path: Path, header_text: str, members: dict[str, bytes],
                compress: bool = False) -> Path:
    """A model file from the header's JSON text and each array's .npy bytes."""
    members = {"__backprop__": npy_bytes(np.frombuffer(header_text.encode(), np.uint8)),
               **members}
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def saved(tmp_path: Path, header: Any, arrays: dict[str, np.ndarray] | None = None,
          name: str = "model.npz") -> Path:
    """A model file of ``_net()`` with ``header`` (and ``arrays``, default its own)."""
    _, own = _contents(_net())
    return write_model(tmp_path / name, json.dumps(header),
                       {k: npy_bytes(v) for k, v in (own if arrays is None else arrays).items()})


def one_line_naming(error: BaseException, path: Path, *fragments: str) -> None:
    message = str(error)
    assert "\n" not in message, message
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def assert_command_says(capsys: pytest.CaptureFixture[str], argv: list[str],
                        *fragments: str) -> None:
    """``backprop argv`` ends with status 2 and one line holding every fragment."""
    assert entry.main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# -- the examples: each one line naming the file and the field ----------------------


HEADER, ARRAYS = _contents(_net())


def _changed(change: dict[str, Any]) -> dict[str, Any]:
    header = copy.deepcopy(HEADER)
    header.update(change)
    return header


@pytest.mark.parametrize(
    ("header", "fragments"),
    [
        (_changed({"version": "2"}), ["field version", "the string '2'"]),
        (_changed({"version": True}), ["field version", "whole number"]),
        (_changed({"metadata": [1, 2]}), ["field metadata", "must be an object, got a list"]),
        (_changed({"metadata": "notes"}), ["field metadata", "the string 'notes'"]),
        (_changed({"network": [1]}), ["field network", "must be an object"]),
        (_changed({"extra": 1}), ["unknown field 'extra'"]),
        (_changed({"library_version": 3}), ["field library_version", "must be a string"]),
    ],
    ids=["version string", "version bool", "metadata list", "metadata string",
         "network list", "extra key", "library_version number"],
)
def test_a_malformed_header_names_the_file_and_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: dict[str, Any],
    fragments: list[str],
) -> None:
    path = saved(tmp_path, header)
    with pytest.raises(ModelFileError) as info:
        bp.load(path)
    one_line_naming(info.value, path, *fragments)
    data = tmp_path / "x.csv"
    data.write_text("1,2,3\n")
    assert_command_says(capsys, ["predict", str(path), str(data)], str(path), *fragments)


def _layer_changed(index: int, change: dict[str, Any], drop: str = "") -> dict[str, Any]:
    header = copy.deepcopy(HEADER)
    layer = header["network"]["layers"][index]
    layer.update(change)
    layer.pop(drop, None)
    return header


@pytest.mark.parametrize(
    ("header", "fragments"),
    [
        (_layer_changed(0, {"n_in": "3"}), ["network.layers[0].n_in", "whole number"]),
        (_layer_changed(0, {"n_in": 3.0}), ["network.layers[0].n_in", "whole number"]),
        (_layer_changed(0, {"bias": "no"}), ["network.layers[0].bias", "true or false"]),
        (_layer_changed(0, {"size": 3}), ["network.layers[0] has an unknown field 'size'"]),
        (_layer_changed(0, {}, drop="n_out"), ["network.layers[0].n_out is missing"]),
        (_layer_changed(1, {"kind": "Conv2D"}), ["network.layers[1].kind", "Conv2D"]),
        (_layer_changed(1, {"momentum": 1e999}), ["network.layers[1].momentum", "finite"]),
        (_layer_changed(2, {"activation": {"name": "leaky_relu", "slope": "steep"}}),
         ["network.layers[2]", "slope must be a number"]),
        (_layer_changed(2, {"activation": {"name": "relu", "alpha": 1}}),
         ["network.layers[2]", "'alpha' is a parameter the activation does not take"]),
        (_layer_changed(2, {"activation": {"name": ["relu"]}}),
         ["network.layers[2]", "unknown activation"]),
        (_layer_changed(3, {"rate": [0.5]}), ["network.layers[3].rate", "must be a number"]),
        (_layer_changed(4, {"n_out": 10**30}), ["network.layers[4]", "BACKPROP_MAX_UNITS"]),
        (_changed({"network": {**HEADER["network"], "seed": -1}}),
         ["network.seed", "at least 0"]),
        (_changed({"network": {**HEADER["network"], "layers": []}}),
         ["network.layers", "1 to 1,000 layers"]),
        (_changed({"network": {**HEADER["network"], "loss": {"name": "mse", "w": 2}}}),
         ["network.loss has an unknown field 'w'"]),
        (_changed({"network": {**HEADER["network"], "loss": ""}}),
         ["field network.loss must be an object, got the string ''"]),
        (_changed({"network": {**HEADER["network"], "dtype": ""}}),
         ["unreadable architecture", "dtype must be one of float32, float64, got ''"]),
        (_changed({"network": {**HEADER["network"], "init": "bogus"}}),
         ["unreadable architecture", "unknown init 'bogus'"]),
    ],
    ids=["width string", "width float", "bias string", "unknown field", "missing field",
         "unknown kind", "infinite momentum", "slope string", "activation parameter",
         "activation name list", "rate list", "huge width", "negative seed", "no layers",
         "loss field", "loss string", "empty dtype", "unknown init"],
)
def test_a_malformed_architecture_names_the_field(
    tmp_path: Path, header: dict[str, Any], fragments: list[str]
) -> None:
    path = saved(tmp_path, header)
    with pytest.raises(ModelFileError) as info:
        bp.load(path)
    one_line_naming(info.value, path, *fragments)


@pytest.mark.parametrize(
    ("array", "fragments"),
    [
        (np.array([["0.1"] * 3] * 4), ["array layers.0.W holds strings"]),
        (np.ones((4, 3), np.complex128) * 1j, ["layers.0.W holds complex numbers"]),
        (np.ones((4, 3), bool), ["layers.0.W holds booleans"]),
        (np.zeros((4, 3), [("a", "<f4")]), ["layers.0.W holds"]),
        (np.zeros((4, 3), "datetime64[s]"), ["layers.0.W holds dates"]),
        (np.array([[None] * 3] * 4, dtype=object), ["layers.0.W holds Python objects"]),
        (np.ones((3, 4), np.float32), ["layers.0.W has shape (3, 4)", "needs (4, 3)"]),
    ],
    ids=["strings", "complex", "bool", "structured", "dates", "objects", "transposed"],
)
def test_weights_that_are_not_real_numbers_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], array: np.ndarray,
    fragments: list[str],
) -> None:
    path = saved(tmp_path, HEADER, {**ARRAYS, "layers.0.W": array})
    with pytest.raises(ModelFileError) as info:
        bp.load(path)
    one_line_naming(info.value, path, *fragments)
    data = tmp_path / "x.csv"
    data.write_text("1,2,3\n")
    assert_command_says(capsys, ["predict", str(path), str(data)], *fragments)


def test_complex_weights_are_refused_without_a_numpy_warning(tmp_path: Path) -> None:
    path = saved(tmp_path, HEADER, {**ARRAYS, "layers.0.W": ARRAYS["layers.0.W"] + 0j})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's ComplexWarning would fail here
        with pytest.raises(ModelFileError, match="complex numbers"):
            bp.load(path)


def test_an_unused_array_is_refused_before_any_array_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real_read = np.lib.format.read_array

    def counting(stream: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        reads.append(getattr(stream, "name", "?"))
        return real_read(stream, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "read_array", counting)
    path = saved(tmp_path, HEADER, {**ARRAYS, "junk": np.zeros(1000)})
    with pytest.raises(ModelFileError, match=r"does not use: \['junk'\]"):
        bp.load(path)
    assert reads == ["__backprop__.npy"]  # the header only: no weights were read
    assert bp.load(saved(tmp_path, HEADER, name="good.npz")).n_params == _net().n_params


@pytest.mark.parametrize(
    ("shape", "fragments"),
    [(["a", "b"], ["image_shape", "['a', 'b']"]), (5, ["image_shape", "got 5"]),
     ([2, 0], ["image_shape", "[2, 0]"])],
)
def test_predict_on_a_png_names_a_bad_image_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: Any, fragments: list[str]
) -> None:
    pytest.importorskip("PIL", reason="reading a PNG needs Pillow: pip install 'backprop-mlp[cli]'")
    from PIL import Image

    image = tmp_path / "digit.png"
    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(image)
    net = bp.Network([bp.Dense(4, 2, activation="softmax")], loss="cross_entropy", seed=0)
    net.metadata["image_shape"] = shape
    model = tmp_path / "model.npz"
    net.save(str(model))
    assert_command_says(capsys, ["predict", str(model), str(image)], str(model), *fragments)
    net.metadata["image_shape"] = [2, 2]
    net.save(str(model))
    assert entry.main(["predict", str(model), str(image)]) == 0
    assert capsys.readouterr().out.startswith("label: ")


# -- the fuzz test ----------------------------------------------------------------------




#: A placeholder that becomes a deep nesting of lists once the header is JSON text.
NEST = "\x00nest"
HUGE = st.sampled_from([10**9, 2**31, 2**63, 2**64 + 1, 10**100, -(10**30), 1e308, -1e308,
                        5e-324, 0, -1, 1, float("nan"), float("inf")])
KEYS = st.sampled_from(["kind", "n", "n_in", "n_out", "name", "rate", "slope", "momentum",
                        "eps", "bias", "init", "seed", "dtype", "layers", "loss", "format",
                        "version", "metadata", "activation", "x"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | HUGE
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6) | KEYS
    | st.sampled_from(["Dense", "BatchNorm", "Dropout", "ActivationLayer", "relu",
                       "leaky_relu", "softmax", "mse", "float64", "float16", "he"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
DTYPES = st.sampled_from(["complex128", "<U3", "S2", "bool", "int8", "uint64", "float16",
                          ">f8", "datetime64[s]", "object", "V8", [("a", "<f4")], "longdouble"])


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value nested in ``value`` (itself included)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


def _mutate_header(header: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    for _ in range(data.draw(st.integers(0, 3), label="header mutations")):
        places = [p for p in _places(header) if p]
        place = data.draw(st.sampled_from(places), label="where")
        *above, last = place
        parent: Any = header
        for key in above:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "add", "nest", "wrap"]))
        if action == "replace":
            parent[last] = data.draw(JSON, label="value")
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(KEYS, label="key")] = data.draw(JSON, label="value")
        elif action == "nest":
            parent[last] = NEST
        elif action == "wrap":
            parent[last] = [parent[last]] if data.draw(st.booleans()) else {"name": parent[last]}
    return header


def _mutate_arrays(arrays: dict[str, bytes], originals: dict[str, np.ndarray],
                   data: st.DataObject) -> dict[str, bytes]:
    for _ in range(data.draw(st.integers(0, 2), label="array mutations")):
        name = data.draw(st.sampled_from(sorted(originals)), label="array")
        array = originals[name]
        action = data.draw(st.sampled_from(["dtype", "shape", "drop", "extra", "values",
                                            "claim", "raw"]))
        if action == "dtype":
            dtype = np.dtype(data.draw(DTYPES, label="dtype"))
            changed = (np.zeros(array.shape, dtype) if dtype.kind in "VMO"
                       else np.abs(array).astype(dtype) if dtype.kind == "u"
                       else array.astype(dtype))
            arrays[name] = npy_bytes(changed)
        elif action == "shape":
            shape = data.draw(st.sampled_from(
                [array.T.shape, (*array.shape, 1), (0, *array.shape[1:]), (array.size,), ()]))
            arrays[name] = npy_bytes(np.resize(array, shape))
        elif action == "drop":
            arrays.pop(name, None)
        elif action == "extra":
            arrays[data.draw(st.sampled_from(["junk", "layers.9.W", "optimizer.m",
                                              "__training__"]))] = npy_bytes(array)
        elif action == "values":
            bad = array.astype(np.float64)
            bad.flat[0] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e39]))
            arrays[name] = npy_bytes(bad)
        elif action == "claim":
            shape = data.draw(st.sampled_from(
                [(10**6, 10**6), (2**40,), (array.size + 1,), (-1,), (2**62, 4)]))
            arrays[name] = npy_claiming(array, shape)
        else:  # a flipped byte in the .npy header (in the data it is a "values" case)
            raw = bytearray(arrays.get(name, npy_bytes(array)))
            spot = data.draw(st.integers(0, min(len(raw), 128) - 1), label="byte")
            raw[spot] ^= data.draw(st.integers(1, 255), label="mask")
            arrays[name] = bytes(raw)
    return arrays


@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_model_file_loads_and_predicts_or_fails_in_one_line(
    tmp_path: Path, data: st.DataObject
) -> None:
    header, originals = _contents(_net())
    header = _mutate_header(header, data)
    arrays = _mutate_arrays({k: npy_bytes(v) for k, v in originals.items()}, originals, data)
    text = json.dumps(header)
    depth = data.draw(st.sampled_from([1, 40, 100_000]), label="nesting")
    text = text.replace(json.dumps(NEST), "[" * depth + "]" * depth)
    path = write_model(tmp_path / "fuzzed.npz", text, arrays,
                       compress=data.draw(st.booleans(), label="deflate"))
    with bounded("reading a model file"):
        try:
            net = bp.load(path)
        except ModelFileError as error:
            one_line_naming(error, path)
            return
        outputs = net.forward(np.ones((2, net.n_inputs)))
    assert outputs.shape == (2, net.n_outputs)
    assert np.all(np.isfinite(outputs))


# -- more than the memory holds: one line, not a traceback ------------------------------


def _zip_of_zeros(path: Path, members: dict[str, bytes], big: str, header: bytes,
                  zeros: int) -> None:
    """A zip file holding ``members`` as they are and the .npy member ``big``: ``header``
    then ``zeros`` zero bytes, deflated by repeating one compressed block (fast to write)."""
    block = 1 << 24
    assert zeros % block == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    chunk = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = head + chunk * (zeros // block) + compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(header)
    for _ in range(zeros // block):
        crc = zlib.crc32(bytes(block), crc)
    entries = [(name, data, zlib.crc32(data), len(data), 0) for name, data in members.items()]
    entries.append((big, body, crc, len(header) + zeros, 8))
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, checksum, size, method in entries:
        encoded = name.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, checksum,
                              len(data), size, len(encoded), 0) + encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21,
                                  checksum, len(data), size, len(encoded), 0, 0, 0, 0, 0,
                                  offset) + encoded)
    start = out.tell()
    out.write(central.getvalue())
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                          len(central.getvalue()), start, 0))
    path.write_bytes(out.getvalue())


#: A child that limits its address space to argv[1] bytes (at least what it uses now plus
#: 64 MiB), then runs the command.
LIMITED = """
import re, resource, sys
from backprop.cli.entry import main
status = open("/proc/self/status").read()
used = int(re.search(r"VmSize:\\s+(\\d+) kB", status).group(1)) * 1024
most = max(int(sys.argv[1]), used + (64 << 20))
resource.setrlimit(resource.RLIMIT_AS, (most, most))
sys.exit(main(sys.argv[2:]))
"""


def run_limited(most: int, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", LIMITED, str(most), *argv],
                          capture_output=True, text=True, env=env, timeout=120)


#: The size of the big array in MiB; the command's address space is limited to twice that:
#: the array fits, the network built for it (parameters and gradients, as large again
#: each) does not. BACKPROP_BOMB_MIB=1024 is a 1 GiB array under 2 GiB.
BOMB_MIB = int(os.environ.get("BACKPROP_BOMB_MIB", "256"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_small_file_inflating_past_the_memory_is_one_line(tmp_path: Path) -> None:
    """A 1 MB model file whose weights inflate to 1 GiB passed the size check, then ended
    in a traceback under a 2 GiB address-space limit."""
    side = int(np.sqrt(BOMB_MIB * (1 << 20) // 4))
    header = json.dumps({"format": model_file.FORMAT_NAME, "version": 1,
                         "network": {"layers": [{"kind": "Dense", "n_in": side, "n_out": side}],
                                     "loss": {"name": "mse"}}}).encode()
    npy_head = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy_head, {"descr": "<f4", "fortran_order": False,
                                                    "shape": (side, side)})
    model = tmp_path / "inflating.npz"
    _zip_of_zeros(model, {"__backprop__.npy": npy_bytes(np.frombuffer(header, np.uint8)),
                          "layers.0.b.npy": npy_bytes(np.zeros(side, np.float32))},
                  "layers.0.W.npy", npy_head.getvalue(), side * side * 4)
    assert model.stat().st_size < 2 << 20  # about 1 MB per GiB
    data = tmp_path / "x.npz"
    np.savez(data, X=np.zeros((1, side), np.float32))
    result = run_limited(2 * BOMB_MIB << 20, "predict", str(model), str(data))
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert str(model) in lines[0] and "not enough memory" in lines[0], lines[0]
    assert re.search(r"\d", lines[0].split("not enough memory", 1)[1]), lines[0]  # a size
