"""Model files from a hostile world: sizes, non-regular paths, mutations, and safe writes.

Every case ends in a one-line ModelFileError (or ValueError) that names the
problem, allocates nothing large, never blocks, and loses nothing on disk.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.errors import ModelFileError
from backprop.files import model_file as persistence


def _net(dtype: str = "float32") -> bp.Network:
    return bp.Network(
        [bp.Dense(3, 4, activation="tanh"), bp.Dense(4, 2, activation="softmax")],
        loss="cross_entropy", seed=0, dtype=dtype,
    )


def _arrays_of(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    np.savez(path, **arrays)  # type: ignore[arg-type]


def _header(path: Path) -> dict[str, object]:
    header = json.loads(_arrays_of(path)["__backprop__"].tobytes())
    assert isinstance(header, dict)
    return header


def _with_header(path: Path, header: object) -> None:
    arrays = _arrays_of(path)
    arrays["__backprop__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    _write_npz(path, arrays)


# -- paths that are not regular files -------------------------------------------------


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match=r"is a FIFO \(named pipe\), not a file"):
        bp.load(fifo)


def test_a_folder_a_device_and_a_symlink_loop_are_named(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="is a folder, not a file"):
        bp.load(tmp_path)
    with pytest.raises(ModelFileError, match="is a character device, not a file"):
        bp.load("/dev/null")
    loop = tmp_path / "loop.npz"
    loop.symlink_to(loop)
    with pytest.raises(ModelFileError, match="is a symlink loop"):
        bp.load(loop)
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "gone.npz")
    with pytest.raises(ModelFileError, match="symlink to a missing file"):
        bp.load(dangling)


# -- sizes claimed before anything is allocated ---------------------------------------


def _npy_claiming(shape: tuple[int, ...], payload: bytes) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


def test_an_array_header_claiming_terabytes_is_refused_by_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("layers.0.W.npy", _npy_claiming((700_000, 700_000), b"\0" * 64))
    assert path.stat().st_size < 1000
    with pytest.raises(ModelFileError, match=r"layers\.0\.W declares shape .*BACKPROP_MAX_ARRAY_BYTES"):
        bp.load(path)


def test_an_array_claiming_more_than_the_file_holds_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("layers.0.W.npy", _npy_claiming((1000,), b"\0" * 80))
    with pytest.raises(ModelFileError, match=r"holds .* corrupt or truncated"):
        bp.load(path)


def test_the_array_limit_can_be_raised_by_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.npz"
    _net().save(str(path))
    monkeypatch.setenv("BACKPROP_MAX_ARRAY_BYTES", "16")
    with pytest.raises(ModelFileError, match="above the limit of 16 bytes"):
        bp.load(path)
    monkeypatch.setenv("BACKPROP_MAX_ARRAY_BYTES", "100000")
    assert bp.load(path).n_params == _net().n_params
    monkeypatch.setenv("BACKPROP_MAX_ARRAY_BYTES", "lots")
    with pytest.raises(ValueError, match="BACKPROP_MAX_ARRAY_BYTES='lots' must be a positive integer"):
        bp.load(path)


def test_an_architecture_claiming_a_billion_units_is_refused_before_allocating(
    tmp_path: Path,
) -> None:
    path = tmp_path / "model.npz"
    _net().save(str(path))
    header = _header(path)
    header["network"]["layers"][1]["n_out"] = 10**9  # type: ignore[index]
    _with_header(path, header)
    with pytest.raises(ModelFileError, match=r"n_out is 1,000,000,000, above the limit .*BACKPROP_MAX_UNITS"):
        bp.load(path)


def test_widths_and_parameter_counts_have_limits_in_the_api_too() -> None:
    with pytest.raises(ValueError, match="n_out is 1,000,000,000, above the limit"):
        bp.Dense(10, 10**9)
    with pytest.raises(ValueError, match=r"number of parameters is 1,000,001,000, above the limit .*BACKPROP_MAX_PARAMETERS"):
        bp.Network([bp.Dense(1_000_000, 1_000)])


def test_the_number_of_layers_has_a_limit() -> None:
    """`backprop diagnose --compare --depths 100000 --width 4` built its networks for minutes."""
    many = [bp.Dense(4, 4) for _ in range(1001)]
    with pytest.raises(ValueError, match=r"number of layers is 1,001, above the limit of 1,000 \(BACKPROP_MAX_LAYERS\)"):
        bp.Network(many)
    assert len(bp.Network(many[:1000]).layers) == 1000


# -- parseable but malformed ----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ([1, 2, 3], r"not a backprop model \(format 'list'\)"),
        ("text", r"not a backprop model \(format 'str'\)"),
        ({"format": "other"}, r"not a backprop model \(format 'other'\)"),
    ],
)
def test_a_header_of_the_wrong_shape(tmp_path: Path, header: object, message: str) -> None:
    path = tmp_path / "model.npz"
    _net().save(str(path))
    _with_header(path, header)
    with pytest.raises(ModelFileError, match=message):
        bp.load(path)


def test_a_header_nested_too_deeply(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    _net().save(str(path))
    arrays = _arrays_of(path)
    arrays["__backprop__"] = np.frombuffer(b"[" * 100_000 + b"]" * 100_000, dtype=np.uint8)
    _write_npz(path, arrays)
    with pytest.raises(ModelFileError, match="nested too deeply"):
        bp.load(path)


def test_random_bytes_are_not_called_pickled_data(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(ModelFileError, match=r"not a backprop model file \(not an \.npz archive\)"):
        bp.load(path)


def test_weights_beyond_float32_are_refused_not_turned_into_inf(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    _net().save(str(path))
    arrays = _arrays_of(path)
    arrays["layers.0.W"] = np.full((4, 3), 1e300)  # finite in float64, inf in float32
    _write_npz(path, arrays)
    with pytest.raises(ModelFileError, match=r"layers\.0\.W holds values beyond the range of float32"):
        bp.load(path)
    arrays["layers.0.W"] = np.full((4, 3), 1e300)
    header = _header(path)
    header["network"]["dtype"] = "float64"  # type: ignore[index]
    arrays["__backprop__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    _write_npz(path, arrays)
    assert bp.load(path).layers[0].W[0, 0] == 1e300  # type: ignore[attr-defined]


# -- checkpoints: every field checked, a failed resume changes nothing -----------------


def _checkpoint(tmp_path: Path) -> tuple[bp.Network, Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)
    net = _net("float64")
    path = tmp_path / "run.npz"
    net.fit(X, y, epochs=2, batch_size=8, optimizer=bp.Adam(0.01),
            callbacks=[bp.ModelCheckpoint(path)])
    return net, path, X, y


def _with_training(path: Path, change: dict[str, object]) -> None:
    arrays = _arrays_of(path)
    state = json.loads(arrays["__training__"].tobytes())
    state.update(change)
    arrays["__training__"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    _write_npz(path, arrays)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epoch": -3}, "epoch must be a whole number ≥ 0, got -3"),
        ({"epoch": 1.5}, "epoch must be a whole number ≥ 0, got 1.5"),
        ({"optimizer_t": -1}, "optimizer_t must be a whole number"),
        ({"history_epochs": [1]}, "has 2 values for 1 epochs"),
        ({"history": [1, 2]}, "history must map each metric"),
        ({"initial_lr": "fast"}, "initial_lr must be a finite number"),
        ({"epoch": 1}, "history reaches epoch 2, past the checkpoint's 1"),
    ],
)
def test_a_checkpoint_field_out_of_range_is_named(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    _, path, _, _ = _checkpoint(tmp_path)
    _with_training(path, change)
    with pytest.raises(ModelFileError, match=message):
        bp.load_checkpoint(path)


def test_a_checkpoint_beyond_the_runs_epochs_is_refused(tmp_path: Path) -> None:
    net, path, X, y = _checkpoint(tmp_path)
    with pytest.raises(ValueError, match="at epoch 2, beyond epochs=1"):
        net.fit(X, y, epochs=1, batch_size=8, optimizer=bp.Adam(0.01), resume_from=path)


def test_a_failed_resume_leaves_the_network_and_its_generator_untouched(tmp_path: Path) -> None:
    _, path, X, y = _checkpoint(tmp_path)
    fresh = _net("float64")
    before, rng_before = fresh.params.copy(), fresh.rng.bit_generator.state
    arrays = _arrays_of(path)
    arrays["layers.1.b"] = np.zeros(7)  # the last array checked: every other one is valid
    _write_npz(path, arrays)
    with pytest.raises(ModelFileError, match=r"layers\.1\.b has shape \(7,\)"):
        fresh.fit(X, y, epochs=3, batch_size=8, optimizer=bp.Adam(0.01), resume_from=path)
    np.testing.assert_array_equal(fresh.params, before)
    assert fresh.rng.bit_generator.state == rng_before


def test_optimizer_moments_of_the_wrong_shape_are_refused(tmp_path: Path) -> None:
    _, path, X, y = _checkpoint(tmp_path)
    arrays = _arrays_of(path)
    name = next(n for n in arrays if n.startswith("optimizer."))
    arrays[name] = np.zeros(3)
    _write_npz(path, arrays)
    with pytest.raises(ModelFileError, match=f"optimizer array {name[10:]} has shape"):
        _net("float64").fit(X, y, epochs=3, optimizer=bp.Adam(0.01), resume_from=path)


# -- writing: only regular files are replaced, modes kept, links followed ---------------


def test_saving_onto_a_fifo_refuses_and_leaves_it(tmp_path: Path) -> None:
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="it is a FIFO"):
        _net().save(str(fifo))
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(ModelFileError, match="it is a folder"):
        _net().save(str(tmp_path))


def test_a_saved_file_keeps_its_mode_and_a_new_one_gets_the_umasks(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    _net().save(str(path))
    path.chmod(0o640)
    _net().save(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    old = os.umask(0o027)
    try:
        _net().save(str(tmp_path / "new.npz"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.npz").stat().st_mode) == 0o640


def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "run3.npz"
    _net().save(str(target))
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    other = bp.Network([bp.Dense(3, 2, activation="softmax")], loss="cross_entropy", seed=5)
    other.save(str(link))
    assert link.is_symlink()
    assert bp.load(target).config()["layers"] == other.config()["layers"]


def test_temporary_files_of_killed_writers_are_cleaned_on_the_next_save(tmp_path: Path) -> None:
    """Every killed writer's temporary in the folder goes, whatever file it was writing;
    a live writer's stays."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(done.stdout)
    stale = tmp_path / f".model.npz.{dead}.k3x9q2ab.tmp"
    stale.write_bytes(b"half a model")
    alive = tmp_path / f".model.npz.{os.getpid()}.zz11yy22.tmp"
    alive.write_bytes(b"a writer still at work")
    other = tmp_path / f".other.npz.{dead}.aa11bb22.tmp"
    other.write_bytes(b"another file's, its writer killed too")
    _net().save(str(tmp_path / "model.npz"))
    assert not stale.exists() and not other.exists()
    assert alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "model.npz"])


# -- fuzzing the reader -----------------------------------------------------------------


def _valid_model_bytes() -> bytes:
    buffer = io.BytesIO()
    net = _net()
    arrays = {"__backprop__": np.frombuffer(json.dumps({
        "format": persistence.FORMAT_NAME, "version": persistence.FORMAT_VERSION,
        "network": net.config(), "metadata": {},
    }).encode(), dtype=np.uint8)}
    arrays.update(net.named_parameters())
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


VALID = _valid_model_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(min_value=0, max_value=len(VALID)),
    flips=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)), max_size=4),
)
def test_a_mutated_or_truncated_model_file_loads_or_fails_cleanly(
    tmp_path: Path, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(VALID[:cut] if cut < len(VALID) // 2 else VALID)
    for position, mask in flips:
        if position < len(data):
            data[position] ^= mask
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(bytes(data))
    try:
        net = bp.load(path)
    except ModelFileError as error:
        assert "\n" not in str(error) and str(path) in str(error)
    else:  # a flip in a harmless place: the model must still be whole and finite
        outputs = net.forward(np.ones((2, net.n_inputs)))
        assert outputs.shape == (2, net.n_outputs) and np.all(np.isfinite(outputs))
