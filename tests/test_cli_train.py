"""`backprop train`: the real command in a subprocess on small generated data."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backprop.cli.plots import (
    BOUNDARY_SIZE,
    CONFUSION_SIZE,
    CURVES_SIZE,
    DPI,
    MISCLASSIFIED_SIZE,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backprop", *args],
        capture_output=True, text=True, timeout=timeout,
    )


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def expected(size: tuple[float, float]) -> tuple[int, int]:
    return round(size[0] * DPI), round(size[1] * DPI)


def test_train_moons_writes_model_metrics_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run("train", "moons", "--epochs", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout
    for name in ("model.npz", "metrics.json", "curves.png", "confusion.png", "boundary.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("dataset", "task", "history", "final", "test", "wall_time_s", "samples_per_s",
                "config", "versions", "epochs_run", "network"):
        assert key in metrics, key
    assert metrics["epochs_run"] == 3 and len(metrics["history"]) == 3
    assert {"loss", "accuracy", "epoch"} <= set(metrics["history"][0])
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0
    assert metrics["config"]["epochs"] == 3 and metrics["config"]["dataset"] == "moons"
    assert "numpy" in metrics["versions"] and "backprop" in metrics["versions"]
    assert png_size(out / "curves.png") == expected(CURVES_SIZE)
    assert png_size(out / "confusion.png") == expected(CONFUSION_SIZE)
    assert png_size(out / "boundary.png") == expected(BOUNDARY_SIZE)


def test_json_lines_one_object_per_epoch(tmp_path: Path) -> None:
    result = run("train", "xor", "--epochs", "4", "--json-lines", "--validation-split", "0.2",
                 "--out", str(tmp_path), "--no-plots")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    rows = [json.loads(line) for line in lines]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert "val_loss" in rows[0] and "samples_per_s" in rows[0]
    assert not list(tmp_path.glob("*.png"))


def test_options_and_config_file(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('layers = [8, 4]\noptimizer = "sgd"\nmomentum = 0.9\nlr = 0.05\n'
                      'schedule = "step"\nstep-size = 2\nepochs = 3\nscale = "minmax"\n'
                      'dropout = 0.1\nclip_norm = 5.0\nwarmup = 1\n')
    out = tmp_path / "out"
    result = run("train", "circles", "--config", str(config), "--epochs", "2", "--quiet",
                 "--early-stopping", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    metrics = json.loads((out / "metrics.json").read_text())
    config_used = metrics["config"]
    assert config_used["layers"] == [8, 4] and config_used["optimizer"] == "sgd"
    assert config_used["epochs"] == 2  # the command line wins
    assert config_used["scale"] == "minmax"


def test_regression_csv_and_evaluate_predict(tmp_path: Path) -> None:
    data = tmp_path / "line.csv"
    rows = ["x,y"] + [f"{x / 10},{2 * x / 10 - 1}" for x in range(-10, 11)]
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = run("train", str(data), "--epochs", "20", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert (out / "curves.png").is_file() and not (out / "confusion.png").exists()
    evaluated = run("evaluate", str(out / "model.npz"), str(data), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["n_samples"] == 21
    samples = tmp_path / "x.csv"
    samples.write_text("0.5\n-0.5\n")
    predicted = run("predict", str(out / "model.npz"), str(samples))
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.strip().splitlines()
    assert lines[0] == "y" and len(lines) == 3


def test_image_data_writes_misclassified_grid(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.random((120, 4, 4)).astype(np.float32)
    y = (X.mean(axis=(1, 2)) > 0.5).astype(np.int64)
    path = tmp_path / "images.npz"
    np.savez(path, X=X[:80], y=y[:80], X_test=X[80:], y_test=y[80:])
    out = tmp_path / "out"
    result = run("train", str(path), "--epochs", "2", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert png_size(out / "misclassified.png") == expected(MISCLASSIFIED_SIZE)


def test_ctrl_c_saves_the_model_and_exits_130(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("needs SIGINT")
    import signal

    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop", "train", "spirals", "--epochs", "100000",
         "--batch-size", "1", "--out", str(out), "--json-lines"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # the first epoch has finished
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert (out / "model.npz").is_file()
    assert json.loads((out / "metrics.json").read_text())["interrupted"] is True


def test_mnist_subset_one_epoch_above_90_percent(tmp_path: Path) -> None:
    from backprop.datasets import mnist_cache_path

    if not mnist_cache_path().is_file():
        fetched = run("datasets", "fetch", "mnist", timeout=600)
        if fetched.returncode != 0:
            pytest.skip(f"MNIST is not cached and cannot be fetched: {fetched.stderr.strip()}")
    out = tmp_path / "out"
    result = run("train", "mnist", "--train-samples", "6000", "--epochs", "1",
                 "--batch-size", "16", "--lr", "0.002", "--out", str(out), "--no-plots",
                 "--quiet")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_train"] == 6000 and metrics["n_test"] == 10000
    assert metrics["test"]["accuracy"] > 0.90


def test_regression_says_how_it_scales_and_reports_the_line_in_the_data_units(
        tmp_path: Path) -> None:
    """`backprop train line --layers "" --optimizer sgd --lr 0.1 --batch-size 80` said
    nothing of the standardized inputs; its model held W 1.209, b −0.784 (the line in
    standardized x) for y = 2x − 1, and "test loss" was half of "test mse" unexplained."""
    out = tmp_path / "line"
    result = run("train", "line", "--layers", "none", "--optimizer", "sgd", "--lr", "0.1",
                 "--batch-size", "full", "--epochs", "300", "--no-plots", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("inputs standardized") and "data's own units" in line
               for line in lines)
    fitted = next(line for line in lines if line.startswith("linear model in the data's"))
    slope, intercept = (float(v) for v in
                        re.search(r"y = (-?[\d.]+)·x − ([\d.]+)", fitted).groups())  # type: ignore[union-attr]
    assert slope == pytest.approx(2.0, abs=0.1) and -intercept == pytest.approx(-1.0, abs=0.1)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["linear_model"]["coefficients"][0][0] == pytest.approx(slope, abs=1e-3)
    test = metrics["test"]
    assert test["loss"] == pytest.approx(test["mse"] / 2, rel=1e-5)
    assert f"test loss (½·mse) {test['loss']:.4f}  test mse {test['mse']:.4f}" in result.stdout
    # the saved model takes and predicts the data's own units
    samples = tmp_path / "x.csv"
    samples.write_text("x\n-1\n0\n0.5\n1\n")
    predicted = run("predict", str(out / "model.npz"), str(samples))
    assert predicted.returncode == 0, predicted.stderr
    values = [float(row.split(",")[0]) for row in predicted.stdout.strip().splitlines()[1:]]
    assert values == pytest.approx([-3.0, -1.0, 0.0, 1.0], abs=0.15)


def test_a_csv_of_whole_number_quantities_trains_as_regression_with_task(tmp_path: Path) -> None:
    """Whole-number targets read as classes by default, with a note when there are many;
    --task regression, --target and --test-fraction make it a regression with a test set."""
    rows = ["price,a,b"]
    for i in range(300):
        a, b = (i * 37 % 101) / 50 - 1, (i * 53 % 97) / 48 - 1
        rows.append(f"{round(50 + 20 * a - 10 * b)},{a:.4f},{b:.4f}")
    path = tmp_path / "prices.csv"
    path.write_text("\n".join(rows) + "\n")
    auto = run("train", str(path), "--target", "price", "--epochs", "1", "--no-plots",
               "--out", str(tmp_path / "auto"))
    assert auto.returncode == 0, auto.stderr
    classes = int(re.search(r"classification, (\d+) classes", auto.stdout).group(1))  # type: ignore[union-attr]
    assert classes > 30
    assert f"note: {classes} classes for 300 training samples; if the target is a quantity, " \
           "train with --task regression" in auto.stdout
    result = run("train", str(path), "--target", "1", "--task", "regression", "--test-fraction",
                 "0.2", "--layers", "16", "--epochs", "60", "--no-plots",
                 "--out", str(tmp_path / "reg"))
    assert result.returncode == 0, result.stderr
    assert "prices: regression, 1 target, 2 features, 240 train / 60 test" in result.stdout
    assert "note:" not in result.stdout
    metrics = json.loads((tmp_path / "reg" / "metrics.json").read_text())
    assert metrics["task"] == "regression" and metrics["test"]["r2"] > 0.8
    for args, message in [
        (["xor", "--task", "regression"], "--task applies to a .csv or .npz file, not to xor"),
        (["xor", "--test-fraction", "0.2"], "--test-fraction applies to a .csv file, not to xor"),
        ([str(path), "--test-fraction", "1"], "--test-fraction must be in [0, 1), got 1"),
        ([str(path), "--task", "counts"], "--task: unknown value 'counts'; valid: auto, "),
    ]:
        bad = run("train", *args, "--out", str(tmp_path / "bad"))
        assert bad.returncode == 2 and bad.stderr.startswith("backprop: error: "), bad.stderr
        assert message in bad.stderr and bad.stderr.count("\n") == 1
