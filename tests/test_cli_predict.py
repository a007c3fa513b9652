"""`backprop evaluate`, `predict` (CSV, NPZ, PNG) and `datasets` on saved models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop.cli.predict import resize


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backprop", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def images_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model on 28x28 'images': class 1 when the left half is bright."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    X = rng.random((300, 28, 28)).astype(np.float32) * 0.2
    y = rng.integers(0, 2, 300)
    X[y == 1, :, :14] += 0.7
    X[y == 0, :, 14:] += 0.7
    np.savez(root / "images.npz", X=X[:240], y=y[:240], X_test=X[240:], y_test=y[240:])
    result = run("train", str(root / "images.npz"), "--epochs", "3", "--out", str(root),
                 "--quiet", "--no-plots")
    assert result.returncode == 0, result.stderr
    return root / "model.npz"


def test_evaluate_uses_the_test_split(images_model: Path) -> None:
    result = run("evaluate", str(images_model), str(images_model.parent / "images.npz"))
    assert result.returncode == 0, result.stderr
    assert "test, 60 samples" in result.stdout and "accuracy 1.0000" in result.stdout


def test_predict_npz_to_csv_file(images_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    result = run("predict", str(images_model), str(images_model.parent / "images.npz"),
                 "--output", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "prediction,p_0,p_1" and len(lines) == 241


def test_predict_png_digit_white_background(images_model: Path, tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    picture = np.ones((56, 56, 3))  # white paper, dark ink on the left half
    picture[:, :28] = 0.1
    path = tmp_path / "digit.png"
    mpimg.imsave(path, picture)
    result = run("predict", str(images_model), str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "label: 1"
    assert "0:" in result.stdout and "1:" in result.stdout


def test_resize_averages_blocks_and_repeats_pixels() -> None:
    image = np.arange(16, dtype=np.float64).reshape(4, 4)
    assert resize(image, 2, 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert resize(np.eye(2), 4, 4)[0].tolist() == [1.0, 1.0, 0.0, 0.0]


def test_datasets_lists_names_and_cache() -> None:
    result = run("datasets")
    assert result.returncode == 0, result.stderr
    for name in ("mnist", "moons", "line"):
        assert name in result.stdout
    assert "cache:" in result.stdout
