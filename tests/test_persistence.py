"""Model files: a round trip is exact; corrupt, truncated and foreign files get clear errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.files import model_file as persistence


def _trained() -> tuple[bp.Network, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    net = bp.Network(
        [
            bp.Dense(4, 6, activation={"name": "leaky_relu", "slope": 0.2}),  # type: ignore[arg-type]
            bp.Dense(6, 5, activation="tanh", bias=False),
            bp.Dense(5, 3, activation="softmax"),
        ],
        loss="cross_entropy", seed=3,
    )
    net.fit(X, rng.integers(0, 3, size=30), epochs=2, batch_size=8, lr=0.1)
    return net, X


def test_save_load_predict_gives_identical_outputs(tmp_path: Path) -> None:
    net, X = _trained()
    net.metadata["note"] = "kept"
    path = tmp_path / "model.npz"
    net.save(str(path))
    loaded = bp.load(path)
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.config() == net.config()
    assert loaded.metadata == {"note": "kept"}
    assert loaded.layers[0].activation.slope == 0.2  # type: ignore[attr-defined]
    assert loaded.dtype == np.float32


def test_model_file_is_a_plain_npz_without_pickles(tmp_path: Path) -> None:
    net, _ = _trained()
    path = tmp_path / "model.npz"
    bp.save(net, path)
    with np.load(path, allow_pickle=False) as archive:
        assert "layers.0.W" in archive.files and "layers.1.b" not in archive.files
        header = json.loads(archive["__backprop__"].tobytes())
    assert header["format"] == "backprop-model"
    assert header["network"]["loss"]["name"] == "cross_entropy"


def test_a_crash_while_writing_leaves_the_old_model_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net, _ = _trained()
    path = tmp_path / "model.npz"
    net.save(str(path))
    before = path.read_bytes()

    def crash(file: object, **arrays: object) -> None:
        file.write(b"PK\x03\x04 half a zip")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(persistence.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        net.save(str(path))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temp file left behind


def test_truncated_file(tmp_path: Path) -> None:
    net, _ = _trained()
    path = tmp_path / "model.npz"
    net.save(str(path))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(bp.ModelFileError, match=r"model\.npz is (corrupt or truncated|not a backprop)"):
        bp.load(path)


def test_corrupt_bytes(tmp_path: Path) -> None:
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"this is not a model at all" * 10)
    with pytest.raises(bp.ModelFileError, match=r"garbage\.npz"):
        bp.load(path)


def test_foreign_npz(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.ones(3))
    with pytest.raises(bp.ModelFileError, match=r"not a backprop model.*weights"):
        bp.load(path)


def test_object_array_needing_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    np.savez(path, __backprop__=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(bp.ModelFileError, match=r"pickled\.npz"):
        bp.load(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(bp.ModelFileError, match=r"model file .*: no such file"):
        bp.load(tmp_path / "nope.npz")
    with pytest.raises(bp.ModelFileError, match="is a folder"):
        bp.load(tmp_path)


def test_wrong_shape_and_unknown_version(tmp_path: Path) -> None:
    net, _ = _trained()
    path = tmp_path / "model.npz"
    net.save(str(path))
    with zipfile.ZipFile(path) as archive:
        arrays = dict(np.load(path, allow_pickle=False))
    arrays["layers.0.W"] = np.ones((2, 2), dtype=np.float32)
    np.savez(tmp_path / "bad_shape.npz", **arrays)
    with pytest.raises(bp.ModelFileError, match=r"layers\.0\.W has shape \(2, 2\)"):
        bp.load(tmp_path / "bad_shape.npz")
    header = json.loads(arrays["__backprop__"].tobytes())
    header["version"] = 99
    arrays["__backprop__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(bp.ModelFileError, match=r"format 99.*upgrade backprop"):
        bp.load(tmp_path / "future.npz")
    assert archive is not None


def test_unwritable_folder(tmp_path: Path) -> None:
    net, _ = _trained()
    with pytest.raises(bp.ModelFileError, match="does not exist"):
        net.save(str(tmp_path / "missing" / "model.npz"))
