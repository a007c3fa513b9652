"""The command does what the library does: one-vs-rest, batch norm with an activation layer,
full-batch descent, and activations with a parameter.

Each test names the command that showed the old behaviour.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.cli.common import load_data


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backprop", *args], capture_output=True,
                          text=True, timeout=300)


def test_one_vs_rest_trains_one_sigmoid_unit_per_class_and_predicts_the_argmax(
        tmp_path: Path) -> None:
    """`backprop train mnist --classes 0,1,2 --output-activation sigmoid --loss
    binary_cross_entropy` stopped with "sigmoid + binary_cross_entropy needs 2 classes"
    (digits here: the same data path, without the download)."""
    out = tmp_path / "ovr"
    trained = run("train", "digits", "--classes", "0,1,2", "--output-activation", "sigmoid",
                  "--loss", "binary_cross_entropy", "--epochs", "15", "--scale", "none", "--no-plots",
                  "--quiet", "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    net = bp.load(str(out / "model.npz"))
    assert net.n_outputs == 3 and net.output_layer.activation.name == "sigmoid"
    assert net.loss.name == "binary_cross_entropy"
    metrics = json.loads((out / "metrics.json").read_text())
    history = [row["loss"] for row in metrics["history"]]
    assert history[-1] < 0.5 * history[0]  # the loss really falls
    data = load_data("digits", [0, 1, 2])
    assert data.X_test is not None and data.y_test is not None
    scores = net.forward(data.X_test)
    labels = scores.argmax(axis=1)
    accuracy = float(np.mean(labels == data.y_test))
    assert accuracy > 0.9
    evaluated = run("evaluate", str(out / "model.npz"), "digits", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] == pytest.approx(accuracy)
    samples = tmp_path / "x.npz"
    np.savez(samples, X=data.X_test[:20])
    predicted = run("predict", str(out / "model.npz"), str(samples))
    assert predicted.returncode == 0, predicted.stderr
    rows = predicted.stdout.strip().splitlines()[1:]
    assert [int(row.split(",")[0]) for row in rows] == [int(k) for k in labels[:20]]


def test_batch_norm_from_the_command_builds_dense_batchnorm_sigma(tmp_path: Path) -> None:
    """`backprop train moons --batch-norm` was "unrecognized arguments"."""
    out = tmp_path / "bn"
    trained = run("train", "moons", "--batch-norm", "--layers", "8,8", "--epochs", "20",
                  "--no-plots", "--quiet", "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    net = bp.load(str(out / "model.npz"))
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "BatchNorm", "ActivationLayer"] * 2 + ["Dense"]
    first = net.layers[0]
    assert isinstance(first, bp.Dense) and first.b is None
    assert first.activation.name == "linear"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["history"][-1]["loss"] < metrics["history"][0]["loss"]
    assert metrics["test"]["accuracy"] > 0.8


def test_full_batch_from_the_command(tmp_path: Path) -> None:
    """`backprop train moons --batch-size full` was "'full' is not a whole number"."""
    for spelling in ("full", "all"):
        out = tmp_path / spelling
        trained = run("train", "moons", "--batch-size", spelling, "--epochs", "3",
                      "--json-lines", "--no-plots", "--out", str(out))
        assert trained.returncode == 0, trained.stderr
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["config"]["batch_size"] is None
    # one update per epoch: after 3 epochs from the same seed, full batch equals three
    # steps of plain gradient descent on the whole training set
    full = bp.load(str(tmp_path / "full" / "model.npz"))
    explicit = tmp_path / "explicit"
    n_train = json.loads((tmp_path / "full" / "metrics.json").read_text())["n_train"]
    again = run("train", "moons", "--batch-size", str(n_train), "--epochs", "3",
                "--no-plots", "--quiet", "--out", str(explicit))
    assert again.returncode == 0, again.stderr
    np.testing.assert_allclose(full.params, bp.load(str(explicit / "model.npz")).params,
                               rtol=1e-6)
    bad = run("train", "moons", "--batch-size", "-2", "--epochs", "1", "--out",
              str(tmp_path / "bad"))
    assert bad.returncode == 2 and "give full (or all)" in bad.stderr
    zero = run("train", "moons", "--batch-size", "0", "--epochs", "1", "--out",
               str(tmp_path / "zero"))  # 0 once meant full batch: now refused, pointing there
    assert zero.returncode == 2 and "got 0; for full-batch gradient descent give full" in zero.stderr
    diagnosed = run("diagnose", "moons", "--batch-size", "full", "--epochs", "2", "--out",
                    str(tmp_path / "diagnose"))
    assert diagnosed.returncode == 0, diagnosed.stderr


@pytest.mark.parametrize("spec", ["leaky_relu:0.2", '{"name": "leaky_relu", "slope": 0.2}'])
def test_an_activation_with_its_parameter_from_the_command(tmp_path: Path, spec: str) -> None:
    """`backprop train moons --activation leaky_relu:0.2` was "unknown activation"."""
    out = tmp_path / "leaky"
    trained = run("train", "moons", "--activation", spec, "--epochs", "2", "--no-plots",
                  "--quiet", "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    hidden = bp.load(str(out / "model.npz")).layers[0]
    assert isinstance(hidden, bp.Dense)
    assert hidden.activation.config() == {"name": "leaky_relu", "slope": 0.2}
    explained = run("explain", "--activation", spec, "--seed", "0", "--layers", "2,2,1")
    assert explained.returncode == 0, explained.stderr
    assert "σ'(z) = 1 if z > 0 else 0.2" in explained.stdout


@pytest.mark.parametrize(("spec", "message"), [
    ("leaky_relu:x", "'x' is not a number"),
    ("relu:2", "relu takes no parameter"),
    ("nope:1", "unknown activation 'nope'"),
    ('{"name": "leaky_relu", "slop": 1}', "a parameter the activation does not take"),
    ("{bad json", "not valid JSON")])
def test_a_bad_activation_is_a_one_line_error(spec: str, message: str, tmp_path: Path) -> None:
    result = run("train", "moons", "--activation", spec, "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_layers_means_the_hidden_widths_in_every_subcommand(tmp_path: Path) -> None:
    """`backprop gradcheck --layers 3` answered "needs at least an input and an output
    width", and `backprop explain --layers 3 --seed 0` the same, while `backprop train
    --layers 3` meant one hidden layer of 3."""
    explained = run("explain", "--layers", "3", "--seed", "0", "--format", "json")
    assert explained.returncode == 0, explained.stderr
    layers = json.loads(explained.stdout)["layers"]
    assert [(info["n_in"], info["n_out"]) for info in layers] == [(2, 3), (3, 1)]
    wide = run("explain", "--layers", "4,4", "--seed", "1", "--x", "1,2,3", "--y", "1,0",
               "--output", "softmax", "--loss", "cross_entropy", "--format", "json")
    assert wide.returncode == 0, wide.stderr
    assert [info["n_out"] for info in json.loads(wide.stdout)["layers"]] == [4, 4, 2]
    checked = run("gradcheck", "--layers", "3", "--inputs", "2", "--outputs", "4", "--json")
    assert checked.returncode == 0, checked.stderr
    shapes = [t["shape"] for t in json.loads(checked.stdout)["tensors"]]
    assert shapes == [[3, 2], [3], [4, 3], [4]]
    trained = run("train", "xor", "--layers", "3", "--epochs", "1", "--no-plots", "--quiet",
                  "--out", str(tmp_path / "t"))
    assert trained.returncode == 0, trained.stderr
    assert [layer.n_out for layer in bp.load(str(tmp_path / "t" / "model.npz")).layers] == [3, 2]


def test_the_old_form_of_layers_still_works_with_a_deprecation_line() -> None:
    old = run("explain", "--layers", "2,3,1")
    assert old.returncode == 0, old.stderr
    assert old.stderr.strip() == ("backprop: deprecated: --layers 2,3,1 includes the input "
                                  "and output widths; --layers is the hidden widths: write "
                                  "--inputs 2 --layers 3 --outputs 1")
    assert old.stdout == run("explain").stdout  # the same classic network
    check = run("gradcheck", "--layers", "3,4,2", "--json")
    assert check.returncode == 0 and "deprecated" in check.stderr
    assert json.loads(check.stdout)["tensors"][0]["shape"] == [4, 3]
