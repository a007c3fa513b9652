"""`backprop diagnose`: the real command in a subprocess on small generated data."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backprop.commands.diagnose_plots import (
    GRADIENTS_SIZE,
    UNITS_SIZE,
    UPDATES_SIZE,
    compare_size,
)
from backprop.commands.plots import DPI
from test_cli_errors import assert_user_error
from test_cli_train import png_size


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backprop", "diagnose", *args],
                          capture_output=True, text=True, timeout=180)


def pixels(size: tuple[float, float]) -> tuple[int, int]:
    return round(size[0] * DPI), round(size[1] * DPI)


def strict_json(path: Path) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{path} holds {name}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_one_network_writes_report_plots_and_records(tmp_path: Path) -> None:
    out = tmp_path / "diag"
    result = run("moons", "--layers", "8,8,8", "--activation", "tanh", "--epochs", "3",
                 "--batch-size", "16", "--every", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    for name in ("report.html", "gradients.png", "update_ratio.png", "units.png",
                 "diagnostics.json"):
        assert (out / name).is_file(), name
    assert png_size(out / "gradients.png") == pixels(GRADIENTS_SIZE)
    assert png_size(out / "update_ratio.png") == pixels(UPDATES_SIZE)
    assert png_size(out / "units.png") == pixels(UNITS_SIZE)
    document = strict_json(out / "diagnostics.json")
    # moons: 160 training samples, batches of 16: 10 per epoch, 30 in all; every 2nd recorded
    assert document["every"] == 2 and document["depth"] == 4
    assert sorted({r["step"] for r in document["records"]}) == list(range(1, 31, 2))
    assert len(document["records"]) == 15 * 4
    assert [row["epoch"] for row in document["history"]] == [1, 2, 3]
    assert document["config"]["activation"] == "tanh"
    reading = document["reading"]
    assert reading["paragraph"] and reading["verdict"]
    # the reading is printed and is in the report
    assert reading["paragraph"] in result.stdout
    assert f"verdict: {reading['verdict']}" in result.stdout
    page = (out / "report.html").read_text()
    assert html.escape(reading["paragraph"]) in page
    for image in ("gradients.png", "update_ratio.png", "units.png"):
        assert f'src="{image}"' in page
    assert "VANISHING_RATIO" in page  # the thresholds table


def test_markdown_report(tmp_path: Path) -> None:
    result = run("xor", "--epochs", "2", "--format", "markdown", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "report.md").read_text()
    paragraph = strict_json(tmp_path / "diagnostics.json")["reading"]["paragraph"]
    assert "## Reading" in text and paragraph in text
    assert "![Gradient norms](gradients.png)" in text
    assert "| layer | units |" in text
    assert not (tmp_path / "report.html").exists()


def test_a_diverging_network_is_read_as_exploding(tmp_path: Path) -> None:
    result = run("moons", "--optimizer", "sgd", "--lr", "1e4", "--epochs", "3",
                 "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    document = strict_json(tmp_path / "diagnostics.json")
    assert document["diverged"] and "exploding" in document["reading"]["verdict"]
    assert "Gradients explode" in result.stdout
    assert "RuntimeWarning" not in result.stderr


def test_regression_compare_has_no_accuracy(tmp_path: Path) -> None:
    result = run("line", "--compare", "relu:he", "--depths", "3", "--epochs", "1",
                 "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("relu + he  "))
    assert row.split()[6] == "-"


def verdicts(stdout: str) -> dict[tuple[str, int], str]:
    """(configuration, depth) → verdict, from the table the command prints."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[1] == "+" and parts[3].isdigit():
            rows[(f"{parts[0]} + {parts[2]}", int(parts[3]))] = " ".join(parts[7:])
    return rows


def test_compare_the_classic_experiment(tmp_path: Path) -> None:
    out = tmp_path / "compare"
    result = run("moons", "--compare", "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = verdicts(result.stdout)
    assert sorted(table) == sorted((config, depth) for config in
                                   ("sigmoid + small_random", "relu + he")
                                   for depth in (2, 5, 10))
    assert "vanishing" in table[("sigmoid + small_random", 10)]
    assert "vanishing" not in table[("relu + he", 10)]
    assert table[("relu + he", 10)] == "healthy"
    assert png_size(out / "compare.png") == pixels(compare_size(3, 2))
    document = strict_json(out / "diagnostics.json")
    assert document["compare"] == ["sigmoid:small_random", "relu:he"]
    assert document["depths"] == [2, 5, 10] and document["width"] == 32
    # the same data and seed, the classic defaults: sgd, lr 0.1, 5 epochs
    assert document["config"]["optimizer"] == "sgd" and document["config"]["epochs"] == 5
    runs = {(r["label"], r["depth"]): r for r in document["runs"]}
    deep = runs[("sigmoid + small_random", 10)]
    assert deep["reading"]["stats"]["first_last_ratio"] < 1e-10
    assert deep["network"]["layers"][0]["activation"]["name"] == "sigmoid"
    assert len(deep["network"]["layers"]) == 10
    assert runs[("relu + he", 10)]["reading"]["findings"] == []
    page = (out / "report.html").read_text()
    assert 'src="compare.png"' in page
    assert "<td>sigmoid + small_random</td><td>10</td>" in page
    assert html.escape(deep["reading"]["paragraph"]) in page


def test_compare_chosen_configurations_and_depths(tmp_path: Path) -> None:
    result = run("gaussians", "--compare", "tanh:xavier_uniform,leaky_relu", "--depths", "3",
                 "--width", "8", "--epochs", "2", "--format", "markdown", "--out",
                 str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(verdicts(result.stdout)) == [("leaky_relu + auto", 3),
                                               ("tanh + xavier_uniform", 3)]
    assert png_size(tmp_path / "compare.png") == pixels(compare_size(1, 2))
    document = strict_json(tmp_path / "diagnostics.json")
    assert [r["network"]["layers"][0]["n_out"] for r in document["runs"]] == [8, 8]
    assert "![gradient norms per layer" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--compare", "sigmoid:tiny"], ["--compare 'sigmoid:tiny'", "unknown init 'tiny'"]),
        (["--compare", "swish:he"], ["--compare 'swish:he'", "unknown activation 'swish'"]),
        (["--compare", "relu:he,relu:he"], ["'relu:he' is given twice"]),
        (["--compare", ","], ["give at least one ACTIVATION:INIT"]),
        (["--compare", "--depths", "2,x"], ["--depths", "'x' is not a whole number"]),
        (["--compare", "--depths", "1,5"], ["--depths", "at least 2"]),
        (["--compare", "--depths", ","], ["--depths", "at least one depth"]),
        (["--compare", "--width", "0"], ["--width", "at least 1"]),
        (["--compare", "--width", "4,4"], ["--width", "one number"]),
        (["--compare", "--layers", "8,8"], ["--layers does not go with --compare"]),
        (["--compare", "--init", "he"], ["--init does not go with --compare"]),
        (["--depths", "2,5"], ["--depths and --width go with --compare"]),
        (["--every", "0"], ["--every must be at least 1"]),
        (["--every", "x"], ["--every", "invalid int value"]),
        (["--format", "pdf"], ["--format", "'pdf'"]),
        (["--activation", "wiggle"], ["wiggle"]),
        (["--lr", "-1"], ["--lr", "positive"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], fragments: list[str],
                                          tmp_path: Path) -> None:
    assert_user_error(run("moons", *args, "--out", str(tmp_path)), *fragments)


def test_unknown_dataset(tmp_path: Path) -> None:
    assert_user_error(run("nosuchset", "--out", str(tmp_path)), "unknown dataset 'nosuchset'")


def test_unwritable_output_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_user_error(run("moons", "--compare", "--out", str(blocker / "out")),
                      "cannot write to output directory", str(blocker / "out"))
    assert not list(tmp_path.glob("**/*.png"))
