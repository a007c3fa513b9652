"""`backprop diagnose`: the real command in a subprocess on small generated data."""

from __future__ import annotations

import html
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backprop.cli.diagnose_plots import (
    GRADIENTS_SIZE,
    UNITS_SIZE,
    UPDATES_SIZE,
    compare_size,
)
from backprop.cli.plots import DPI
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
    assert row.split()[7] == "-"


def verdicts(out: Path) -> dict[tuple[str, int], str]:
    """(configuration, depth) → verdict, from the diagnostics.json the command wrote."""
    return {(r["label"], r["depth"]): r["reading"]["verdict"]
            for r in strict_json(out / "diagnostics.json")["runs"]}


def test_compare_the_classic_experiment(tmp_path: Path) -> None:
    out = tmp_path / "compare"
    result = run("moons", "--compare", "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = verdicts(out)
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
    assert html.escape(deep["reading"]["facts"]) in page
    assert "not_learning" in table[("sigmoid + small_random", 10)]


def test_compare_chosen_configurations_and_depths(tmp_path: Path) -> None:
    result = run("gaussians", "--compare", "tanh:xavier_uniform,leaky_relu", "--depths", "3",
                 "--width", "8", "--epochs", "2", "--format", "markdown", "--out",
                 str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(verdicts(tmp_path)) == [("leaky_relu + auto", 3),
                                               ("tanh + xavier_uniform", 3)]
    assert png_size(tmp_path / "compare.png") == pixels(compare_size(1, 2))
    document = strict_json(tmp_path / "diagnostics.json")
    assert [r["network"]["layers"][0]["n_out"] for r in document["runs"]] == [8, 8]
    assert "![gradient norms per layer" in (tmp_path / "report.md").read_text()


def test_a_network_that_learns_nothing_is_not_healthy(tmp_path: Path) -> None:
    """Old behaviour: `backprop diagnose xor --layers 4 --activation sigmoid
    --output-activation sigmoid --loss binary_cross_entropy --init small_random
    --optimizer sgd --lr 0.01 --batch-size 100000 --epochs 200` ended at loss 0.6931,
    accuracy 0.50 with the verdict "healthy"."""
    result = run("xor", "--layers", "4", "--activation", "sigmoid", "--output-activation",
                 "sigmoid", "--loss", "binary_cross_entropy", "--init", "small_random",
                 "--optimizer", "sgd", "--lr", "0.01", "--batch-size", "100000", "--epochs",
                 "200", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    document = strict_json(tmp_path / "diagnostics.json")
    losses = [row["loss"] for row in document["history"]]
    assert losses[-1] > 0.99 * losses[0]  # the loss really did not fall
    reading = document["reading"]
    assert reading["verdict"] != "healthy" and reading["verdict"].startswith("not_learning")
    assert "The network is not learning" in result.stdout
    assert "The likely cause is" in reading["paragraph"]
    assert "verdict: healthy" not in result.stdout


def test_compare_reads_a_rising_loss_as_not_learning(tmp_path: Path) -> None:
    """Old behaviour: `backprop diagnose digits --compare tanh:small_random,relu:he`
    read tanh + small_random at depth 5 as "healthy" while its loss rose from 2.3037
    to 2.3039."""
    result = run("digits", "--compare", "tanh:small_random,relu:he", "--depths", "5",
                 "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    runs = {r["label"]: r for r in strict_json(tmp_path / "diagnostics.json")["runs"]}
    stuck = runs["tanh + small_random"]
    losses = [row["loss"] for row in stuck["history"]]
    assert losses[-1] > 0.99 * losses[0]
    assert stuck["reading"]["verdict"].startswith("not_learning")
    assert runs["relu + he"]["reading"]["verdict"] == "healthy"


def check_advice_against_table(document: dict[str, Any]) -> None:
    """Each sentence of the compare advice says only what its table shows."""
    trouble = ("not_learning", "symmetric", "vanishing", "exploding")
    verdict = {(r["label"], r["depth"]): r["reading"]["verdict"] for r in document["runs"]}
    loss = {(r["label"], r["depth"]): r["history"][-1]["loss"] for r in document["runs"]}
    assert [piece["depth"] for piece in document["advice"]] == document["depths"]
    for piece in document["advice"]:
        depth, text = piece["depth"], piece["text"]
        assert text.startswith(f"At depth {depth}, ")
        for label in piece["trained"]:
            assert not any(k in verdict[(label, depth)] for k in trouble), (label, text)
        for label in piece["failed"]:
            assert any(k in verdict[(label, depth)] for k in trouble), (label, text)
            assert f"{label} ({verdict[(label, depth)]})" in text
        assert sorted(piece["trained"] + piece["failed"]) == sorted(
            label for label, d in verdict if d == depth)
        recommended = re.findall(r"use (.+?) at this depth|; (.+?) reached the lowest", text)
        if piece["use"] is None:
            assert not recommended and "none of the configurations compared trained" in text
        else:
            named = [a or b for a, b in recommended]
            assert named == [piece["use"]] and piece["use"] in piece["trained"]
            best = min(loss[(label, depth)] for label in piece["trained"])
            assert loss[(piece["use"], depth)] == best


def test_the_advice_agrees_with_its_table(tmp_path: Path) -> None:
    """Old behaviour: `backprop diagnose digits --compare sigmoid:xavier_uniform,relu:he
    --depths 10` advised Xavier initialization while its table showed sigmoid +
    xavier_uniform at depth 10 vanishing (ratio 7.8e-6)."""
    result = run("digits", "--compare", "sigmoid:xavier_uniform,relu:he", "--depths", "3,10",
                 "--epochs", "3", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    document = strict_json(tmp_path / "diagnostics.json")
    check_advice_against_table(document)
    deep = next(r for r in document["runs"]
                if r["label"] == "sigmoid + xavier_uniform" and r["depth"] == 10)
    assert "vanishing" in deep["reading"]["verdict"]
    advice = " ".join(f["advice"] for f in deep["reading"]["findings"])
    assert "Xavier initialization does not stop it" in advice
    assert "use relu + he at this depth" in document["advice"][1]["text"]
    for piece in document["advice"]:
        assert piece["text"] in result.stdout
        assert html.escape(piece["text"]) in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize(
    ("compare", "labels"),
    [("optimizer:sgd,momentum,adam", ["sgd lr 0.1", "momentum lr 0.01", "adam lr 0.001"]),
     ("optimizer:sgd@0.05,adam@0.01", ["sgd lr 0.05", "adam lr 0.01"]),
     ("batch-norm", ["no batch norm", "batch norm"]),
     ("batch-size:1,32,full", ["online (batch 1)", "batch 32", "full batch"])],
)
def test_compare_other_columns(compare: str, labels: list[str], tmp_path: Path) -> None:
    """Old behaviour: `backprop diagnose moons --compare optimizer:sgd,momentum,adam` failed
    with "unknown activation 'optimizer'": only activation × init could be compared."""
    result = run("moons", "--compare", compare, "--depths", "2,4", "--width", "8",
                 "--epochs", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    document = strict_json(tmp_path / "diagnostics.json")
    assert [r["label"] for r in document["runs"]] == labels * 2
    assert png_size(tmp_path / "compare.png") == pixels(compare_size(2, len(labels)))
    check_advice_against_table(document)
    for r in document["runs"]:
        kinds = [layer["kind"] for layer in r["network"]["layers"]]
        assert kinds.count("Dense") == r["depth"]
        steps = max(record["step"] for record in r["records"])
        if compare == "batch-norm":
            assert kinds.count("BatchNorm") == (r["depth"] - 1 if r["label"] == "batch norm"
                                                else 0)
        if compare.startswith("batch-size"):
            # moons: 160 training samples; 2 epochs
            size = {"online (batch 1)": 1, "batch 32": 32, "full batch": 160}[r["label"]]
            assert steps <= 2 * math.ceil(160 / size)
            assert steps > 2 * math.ceil(160 / size) - r["every"]
            if size == 1:  # a batch of one says nothing about dead units
                assert "dead" not in r["reading"]["verdict"]


def test_batch_norm_columns_start_from_the_same_weights() -> None:
    import numpy as np

    import backprop as bp
    from backprop.cli.diagnose import with_batch_norm

    net = bp.Network([bp.Dense(3, 5, activation="relu"), bp.Dense(5, 5, activation="relu"),
                      bp.Dense(5, 2, activation="softmax")], loss="cross_entropy", seed=4)
    normed = with_batch_norm(net)
    # batch norm placed as everywhere: Dense without bias → BatchNorm → σ
    assert [type(layer).__name__ for layer in normed.layers] == [
        "Dense", "BatchNorm", "ActivationLayer", "Dense", "BatchNorm", "ActivationLayer", "Dense"]
    before = [layer for layer in net.layers if isinstance(layer, bp.Dense)]
    after = [layer for layer in normed.layers if isinstance(layer, bp.Dense)]
    for old, new in zip(before, after, strict=True):
        assert np.array_equal(old.W, new.W)
    assert [layer.b is None for layer in after] == [True, True, False]
    assert np.array_equal(before[-1].b, after[-1].b)
    sigmas = [layer.activation.name for layer in normed.layers
              if isinstance(layer, bp.ActivationLayer)]
    assert sigmas == ["relu", "relu"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--compare", "sigmoid:tiny"], ["--compare 'sigmoid:tiny'", "unknown init 'tiny'"]),
        (["--compare", "rleu:he"], ["--compare 'rleu:he'", "unknown activation 'rleu'"]),
        (["--compare", "relu:he,relu:he"], ["'relu:he' is given twice"]),
        (["--compare", ","], ["give at least one ACTIVATION:INIT"]),
        (["--compare", "optimizer:sgd,nadam"], ["unknown optimizer 'nadam'"]),
        (["--compare", "optimizer:adam@fast"], ["'fast' is not a number"]),
        (["--compare", "optimizer:adam@-1"], ["learning rate must be positive"]),
        (["--compare", "optimizer:sgd", "--optimizer", "adam"], ["--optimizer does not go"]),
        (["--compare", "batch-size:1,x"], ["'x' is not a whole number, full or all"]),
        (["--compare", "batch-size:32", "--batch-size", "8"], ["--batch-size does not go"]),
        (["--compare", "batch-norm:on"], ["batch-norm takes no values"]),
        (["--compare", "batch-norm", "--layers", "8"], ["--layers does not go with"]),
        (["--compare", "--depths", "2,x"], ["--depths", "'x' is not a whole number"]),
        (["--compare", "--depths", "1,5"], ["--depths", "at least 2"]),
        (["--compare", "--depths", ","], ["--depths", "at least one depth"]),
        (["--compare", "--width", "0"], ["--width", "at least 1"]),
        (["--compare", "--width", "4,4"], ["--width '4,4'", "not a whole number"]),
        (["--compare", "--layers", "8,8"], ["--layers does not go with --compare"]),
        (["--compare", "--init", "he"], ["--init does not go with --compare"]),
        (["--depths", "2,5"], ["--depths and --width go with --compare"]),
        (["--every", "0"], ["--every must be at least 1"]),
        (["--every", "x"], ["--every 'x'", "not a whole number"]),
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
