"""The command's options: the defaults --help shows are the values used, and a config
file's keys are the long option names, checked like the command line."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backprop.cli.entry import build_parser
from backprop.cli.option_kinds import real, whole, wholes
from backprop.cli.options import Options, add_command, argument, option
from backprop.cli.train import TrainOptions
from backprop.errors import OptionError
from test_cli_errors import assert_user_error, run

#: "--flag METAVAR   help text (default: VALUE; mnist: VALUE)", an option's entry in
#: --help on one line; a flag that switches something off shows "(default: key = VALUE)".
HELP_ENTRY = re.compile(r"^(--[\w-]+).*\(default: (?:(\w+) = )?(.*?)(?:; mnist: (.*))?\)$")


def help_entries(*command: str) -> list[str]:
    """Each option's entry in the command's --help, on one line."""
    environment = {**os.environ, "COLUMNS": "1000"}  # no wrapped help text
    result = subprocess.run([sys.executable, "-m", "backprop", *command, "--help"],
                            capture_output=True, text=True, timeout=60, env=environment)
    assert result.returncode == 0, result.stderr
    entries: list[str] = []  # argparse may put the help on the line after the flag
    for line in result.stdout.splitlines():
        if line.startswith("  -"):
            entries.append(line.strip())
        elif line.startswith("   ") and entries:
            entries[-1] += " " + line.strip()
    return entries


def help_defaults(*command: str) -> dict[str, tuple[str, str | None]]:
    """{config key: (default shown, mnist's default shown or None)} from --help."""
    shown: dict[str, tuple[str, str | None]] = {}
    for entry in help_entries(*command):
        match = HELP_ENTRY.match(entry)
        if match:
            flag, key, default, mnist = match.groups()
            name = key or flag.removeprefix("--").replace("-", "_")
            shown[name] = (default, mnist)
    return shown


def as_shown(value: Any) -> str:
    """A value from metrics.json written the way the help writes it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(as_shown(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_every_default_in_train_help_is_the_value_used(tmp_path: Path) -> None:
    shown = help_defaults("train")
    # every declared option shows its default (all but --config and --debug)
    options = [o for o in TrainOptions.declaration() if not o.positional]
    assert len(shown) == len(options) >= 31, sorted(shown)
    # a run with no options at all, in an empty folder: every value is a default
    result = subprocess.run([sys.executable, "-m", "backprop", "train", "xor"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "runs" / "xor" / "metrics.json").read_text())
    used = metrics["config"]
    assert set(used) == {"dataset", *shown}
    for name, (default, _) in shown.items():
        expected = default.replace("DATASET", "xor")
        assert as_shown(used[name]) == expected, (name, used[name], default)
    # the defaults took effect, not only their record
    assert metrics["epochs_run"] == 50
    assert metrics["network"]["layers"][0]["n_out"] == 32
    assert (tmp_path / "runs" / "xor" / "curves.png").is_file()  # plots = true


def test_mnist_defaults_in_the_help_are_the_ones_resolved() -> None:
    shown = help_defaults("train")
    used = TrainOptions.from_args(build_parser().parse_args(["train", "mnist"])).values()
    differing = {name: mnist for name, (_, mnist) in shown.items() if mnist is not None}
    assert set(differing) == {"layers", "lr", "schedule", "batch_size", "epochs", "scale"}
    for name, mnist in differing.items():
        assert as_shown(used[name]) == mnist, name
    assert used["out"] == str(Path("runs") / "mnist")


def test_diagnose_gradcheck_and_explain_show_their_own_defaults() -> None:
    diagnose = help_defaults("diagnose")
    assert diagnose["out"] == ("runs/DATASET-diagnose", None)
    assert diagnose["lr"] == ("0.01", "0.003")
    gradcheck = help_defaults("gradcheck")
    assert gradcheck["layers"] == ("5", None)  # the hidden widths, as train's
    assert gradcheck["inputs"] == ("4", None) and gradcheck["outputs"] == ("3", None)
    assert gradcheck["activation"] == ("tanh", None)
    assert gradcheck["bias"] == ("true", None)
    explain = help_defaults("explain")
    assert explain["lr"] == ("0.5", None) and explain["loss"] == ("mse", None)


def test_optimizer_help_names_every_optimizer_the_command_accepts(tmp_path: Path) -> None:
    line = next(entry for entry in help_entries("train") if entry.startswith("--optimizer"))
    for name in ("sgd", "momentum", "rmsprop", "adam", "adamw"):
        assert name in line, name
    result = run("train", "xor", "--optimizer", "momentum", "--epochs", "2", "--no-plots",
                 "--quiet", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["optimizer"] == "momentum"


def test_gradcheck_reads_a_config_file_and_the_command_line_wins(tmp_path: Path) -> None:
    config = tmp_path / "check.toml"
    config.write_text('layers = [3, 4, 2]\noutput-activation = "sigmoid"\nbatch = 3\n'
                      'loss = "binary_cross_entropy"\njson = true\n')
    result = run("gradcheck", "--config", str(config), "--batch", "2")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert len(report["tensors"]) == 4  # W and b of two layers: 3-4-2


@dataclass(frozen=True, kw_only=True)
class TinyOptions(Options):
    dataset: str = argument("the data")
    epochs: int = option(whole, 5, "passes", check=lambda v: None if v > 0 else "must be > 0",
                         per_dataset={"mnist": 4})
    lr: float = option(real, 0.1, "rate")
    layers: list[int] = option(wholes(minimum=1), [8], "widths")


def tiny(*words: str) -> TinyOptions:
    parser = argparse.ArgumentParser()
    add_command(parser.add_subparsers(), "tiny", TinyOptions, lambda o: 0, help="a test")
    return TinyOptions.from_args(parser.parse_args(["tiny", *words]))


def test_resolve_order_and_checks(tmp_path: Path) -> None:
    assert tiny("xor").values() == {"dataset": "xor", "epochs": 5, "lr": 0.1, "layers": [8]}
    assert tiny("xor").given == frozenset()
    assert tiny("MNIST").epochs == 4  # the per-dataset default
    config = tmp_path / "c.toml"
    config.write_text("lr = 0.2\nepochs = 7\n")
    given = tiny("x", "--lr", "0.5", "--layers", "4,2", "--config", str(config))
    assert (given.epochs, given.lr, given.layers) == (7, 0.5, [4, 2])  # command line wins
    assert given.given == {"lr", "layers", "epochs"}
    # other defaults (diagnose --compare's) give way to what the user set
    other = given.with_defaults({"lr": 0.3, "epochs": 2, "layers": [1]})
    assert (other.epochs, other.lr, other.layers) == (7, 0.5, [4, 2])
    assert tiny("x").with_defaults({"lr": 0.3}).lr == 0.3
    with pytest.raises(OptionError, match=r"--epochs must be > 0, got 0"):
        tiny("x", "--epochs", "0")
    with pytest.raises(OptionError, match=r"--layers '4,x': 'x' is not a whole number"):
        tiny("x", "--layers", "4,x")
    config.write_text("batch = 3\n")
    with pytest.raises(OptionError, match=r"c.toml: unknown key 'batch'; valid keys: epochs, "
                                          r"lr, layers$"):
        tiny("x", "--config", str(config))


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["spirals", "--seed", "-1"], ["--seed", "at least 0"]),
        (["spirals", "--optimizer", "adam", "--momentum", "0.5"], ["--momentum", "adam"]),
        (["spirals", "--early-stopping", "-2"], ["--early-stopping", "negative"]),
        (["spirals", "--dropout", "1"], ["--dropout", "[0, 1)"]),
        (["spirals", "--classes", "0,0"], ["repeat"]),
    ],
)
def test_more_bad_train_options(args: list[str], fragments: list[str], tmp_path: Path) -> None:
    assert_user_error(run("train", *args, "--out", str(tmp_path)), *fragments)


def test_config_checks_name_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("batch-size = -1\n")
    assert_user_error(run("train", "xor", "--config", str(config), "--out", str(tmp_path)),
                      "c.toml: batch-size must be a positive whole number, got -1; for "
                      "full-batch gradient descent give full (or all)")
