"""fit on streamed data (memmaps, shards, iterables of batches) and `backprop train` on shards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.errors import DataError
from backprop.streaming import open_source
from backprop.streaming.budget import plan_rows


def blobs(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 6-D (the same centers for every seed): an easy problem."""
    centers = np.random.default_rng(42).normal(scale=3.0, size=(3, 6))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=m)
    return (centers[y] + rng.normal(size=(m, 6))).astype(np.float32), y


def network(seed: int = 0, batch_norm: bool = False) -> bp.Network:
    layers: list[bp.Layer] = [bp.Dense(6, 16, activation="relu")]
    if batch_norm:
        layers.append(bp.BatchNorm(16))
    layers.append(bp.Dense(16, 3, activation="softmax"))
    return bp.Network(layers, loss="cross_entropy", seed=seed)


def test_a_memmap_with_a_buffer_as_large_as_the_data_trains_exactly_as_in_memory(
        tmp_path: Path) -> None:
    X, y = blobs(3000)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    in_memory, streamed = network(), network()
    h1 = in_memory.fit(X, y, epochs=3, batch_size=64, optimizer=bp.Adam(1e-2))
    h2 = streamed.fit(mapped, y, epochs=3, batch_size=64, optimizer=bp.Adam(1e-2))
    # the default buffer holds all 3000 rows: one permutation per epoch, the same one
    assert np.array_equal(in_memory.params, streamed.params)
    assert h1["loss"] == h2["loss"] and h1["accuracy"] == h2["accuracy"]


def test_a_small_buffer_trains_to_the_same_accuracy(tmp_path: Path) -> None:
    X, y = blobs(6000)
    X_test, y_test = blobs(1000, seed=1)
    reference = network()
    reference.fit(X, y, epochs=3, batch_size=32, optimizer=bp.Adam(1e-2))
    streamed = network()
    history = streamed.fit(open_source(X, y, buffer_size=256), None, epochs=3, batch_size=32,
                           optimizer=bp.Adam(1e-2), validation_data=(X_test, y_test))
    assert history["loss"][-1] < history["loss"][0]
    assert not np.array_equal(reference.params, streamed.params)  # another sample order
    expected = reference.evaluate(X_test, y_test)["accuracy"]
    assert abs(history["val_accuracy"][-1] - expected) < 0.02
    assert history["accuracy"][-1] > 0.9  # the epoch's accuracy is tallied while streaming


def test_an_iterable_of_batches_trains_for_several_epochs() -> None:
    X, y = blobs(2000)
    parts = [(X[i:i + 300], y[i:i + 300]) for i in range(0, 2000, 300)]
    net = network()
    history = net.fit(parts, None, epochs=4, batch_size=50, optimizer=bp.Adam(1e-2))
    assert len(history["loss"]) == 4 and history["loss"][-1] < history["loss"][0]
    assert net.evaluate(X, y)["accuracy"] > 0.9
    with pytest.raises(DataError, match="used up after one epoch"):
        network().fit(iter(parts), None, epochs=2, batch_size=50)


def test_streaming_refuses_what_needs_the_data_in_memory(tmp_path: Path) -> None:
    X, y = blobs(100)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    with pytest.raises(ValueError, match="validation_split needs the data in memory"):
        network().fit(mapped, y, validation_split=0.2)
    with pytest.raises(ValueError, match=r"batch_size=None \(full batch\) needs the data"):
        network().fit(mapped, y, batch_size=None)
    with pytest.raises(DataError, match="X has 100 rows but y has 99"):
        network().fit(mapped, y[:99])
    bad = X.copy()
    bad[57, 2] = np.inf
    with pytest.raises(DataError, match="row 57, column 2 is inf"):
        network().fit(open_source(bad, y), None, batch_size=10)


def test_batch_norm_never_gets_a_batch_of_one_sample() -> None:
    X, y = blobs(65)  # 64 + 1: the last sample joins the batch before it
    net = network(batch_norm=True)
    sizes: list[float] = []

    class Sizes(bp.Callback):
        def on_batch_end(self, state: object, logs: dict[str, float]) -> None:
            sizes.append(logs["batch_size"])

    net.fit(open_source(X, y, buffer_size=16), None, epochs=1, batch_size=16,
            callbacks=[Sizes()])
    assert sum(sizes) == 65 and min(sizes) >= 2 and sizes[-1] == 17


def write_shards(folder: Path, X: np.ndarray, y: np.ndarray, size: int) -> None:
    for i, start in enumerate(range(0, len(X), size)):
        np.save(folder / f"X_{i:03d}.npy", X[start:start + size])
        np.save(folder / f"y_{i:03d}.npy", y[start:start + size])


def test_backprop_train_on_a_directory_of_shards(tmp_path: Path) -> None:
    X, y = blobs(4000)
    X_test, y_test = blobs(500, seed=1)
    shards = tmp_path / "shards"
    shards.mkdir()
    write_shards(shards, X * 10 + 5, y + 1, 700)  # labels 1..3, features far from standard
    np.save(shards / "X_test.npy", X_test * 10 + 5)
    np.save(shards / "y_test.npy", y_test + 1)
    result = subprocess.run(
        [sys.executable, "-m", "backprop", "train", str(shards), "--epochs", "3",
         "--out", str(tmp_path / "run"), "--no-plots"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "4000 train / 500 test" in result.stdout
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_train"] == 4000
    assert metrics["test"]["accuracy"] > 0.9
    model = bp.load(str(tmp_path / "run" / "model.npz"))
    # the scaler was fitted block by block on every training sample
    scaler = model.metadata["scaler"]
    assert np.allclose(scaler["offset"], (X * 10 + 5).astype(np.float64).mean(axis=0), atol=1e-3)
    assert np.allclose(scaler["scale"], (X * 10 + 5).astype(np.float64).std(axis=0), rtol=1e-4)
    assert model.metadata["class_names"] == ["1", "2", "3"]
    evaluate = subprocess.run(
        [sys.executable, "-m", "backprop", "evaluate", str(tmp_path / "run" / "model.npz"),
         str(shards)], capture_output=True, text=True, timeout=120)
    assert evaluate.returncode == 2
    assert evaluate.stderr == (f"backprop: error: {shards}: a folder of .npy shards, which "
                               "`backprop train` streams; here give a dataset name or a .csv "
                               "or .npz file (np.savez(path, X=..., y=...))\n")


def test_backprop_train_on_one_large_npy_file_and_its_errors(tmp_path: Path) -> None:
    X, y = blobs(2000)
    np.save(tmp_path / "data.npy", np.column_stack([X, y.astype(np.float32)]))
    run = [sys.executable, "-m", "backprop", "train", str(tmp_path / "data.npy"),
           "--epochs", "2", "--out", str(tmp_path / "run"), "--no-plots", "--quiet"]
    result = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_train"] == 2000 and metrics["task"] == "classification"
    assert metrics["final"]["accuracy"] > 0.9
    for extra, message in [(["--validation-split", "0.2"],
                            "--validation-split does not apply to data streamed from"),
                           (["--classes", "0,1"], "--classes does not apply to data streamed")]:
        result = subprocess.run(run + extra, capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert result.stderr.startswith("backprop: error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1


def test_backprop_train_buffer_size_sets_the_shuffle_buffer(tmp_path: Path) -> None:
    """--buffer-size N with N the default's rows (half the default memory budget) gives the
    default's run bit for bit; a small buffer another sample order, trained as well;
    in-memory data refuses the option."""
    X, y = blobs(2000)
    np.save(tmp_path / "data.npy", np.column_stack([X, y.astype(np.float32)]))
    default_rows = plan_rows(X.shape[1], X.itemsize, 32).buffer_rows
    models = {}
    for name, extra in [("default", []), ("same", ["--buffer-size", str(default_rows)]),
                        ("small", ["--buffer-size", "64"])]:
        out = tmp_path / name
        result = subprocess.run(
            [sys.executable, "-m", "backprop", "train", str(tmp_path / "data.npy"), "--epochs",
             "2", "--batch-size", "32", "--out", str(out), "--no-plots", "--quiet", *extra],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert json.loads((out / "metrics.json").read_text())["final"]["accuracy"] > 0.9
        models[name] = bp.load(str(out / "model.npz")).params
    assert np.array_equal(models["same"], models["default"])
    assert not np.array_equal(models["small"], models["default"])
    for dataset, extra, message in [
        ("xor", ["--buffer-size", "10"], "--buffer-size applies to data streamed from disk"),
        (str(tmp_path / "data.npy"), ["--buffer-size", "0"], "--buffer-size must be at least 1"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "backprop", "train", dataset, "--out", str(tmp_path / "bad"),
             "--quiet", *extra], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert result.stderr.startswith("backprop: error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1
        assert not (tmp_path / "bad" / "model.npz").exists()
