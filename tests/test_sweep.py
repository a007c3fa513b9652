"""backprop.sweep: the configuration, the trials it makes, the ranking, serial runs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from backprop.cli import entry as cli
from backprop.cli.sweep import check_train_options, run_trial
from backprop.sweep import (
    SweepConfigError,
    TrialResult,
    best_trial,
    load_config,
    parse_config,
    run_sweep,
    train_arguments,
    trial_params,
)

GRID = {"dataset": "moons", "fixed": {"epochs": 3},
        "search": {"lr": [0.001, 0.01, 0.1], "layers": [[8], [16, 16]]}}


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"search": {"lr": [0.1]}}, "dataset"),
        ({"dataset": 3, "search": {"lr": [0.1]}}, "dataset"),
        ({"dataset": "moons", "search": {"lr": [0.1]}, "trials": 3}, "trials"),
        ({"dataset": "moons"}, "search"),
        ({"dataset": "moons", "search": {"lr": []}}, "search.lr"),
        ({"dataset": "moons", "search": {"lr": 0.1}}, "search.lr"),
        ({"dataset": "moons", "search": {"lr": {"uniform": [0.0, 1.0]}}}, "search.lr"),
        ({"dataset": "moons", "n_trials": 2, "search": {"lr": {"gauss": [0, 1]}}}, "search.lr"),
        ({"dataset": "moons", "n_trials": 2, "search": {"lr": {"uniform": [1.0, 0.0]}}},
         "search.lr"),
        ({"dataset": "moons", "n_trials": 2, "search": {"lr": {"log_uniform": [0.0, 1.0]}}},
         "search.lr"),
        ({"dataset": "moons", "n_trials": 2, "search": {"epochs": {"int_uniform": [1.5, 3]}}},
         "search.epochs"),
        ({"dataset": "moons", "n_trials": 0, "search": {"lr": [0.1]}}, "n_trials"),
        ({"dataset": "moons", "seed": -1, "search": {"lr": [0.1]}}, "seed"),
        ({"dataset": "moons", "metric": "accuracy", "search": {"lr": [0.1]}}, "metric"),
        ({"dataset": "moons", "fixed": {"out": "x"}, "search": {"lr": [0.1]}}, "fixed.out"),
        ({"dataset": "moons", "search": {"quiet": [True]}}, "search.quiet"),
        ({"dataset": "moons", "fixed": {"lr": 0.1}, "search": {"lr": [0.1]}}, "search.lr"),
        ({"dataset": "moons", "fixed": 3, "search": {"lr": [0.1]}}, "fixed"),
    ],
)
def test_a_bad_config_is_refused_naming_its_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(SweepConfigError) as caught:
        parse_config(raw, source="sweep.toml")
    message = str(caught.value)
    assert message.startswith(f"sweep.toml: {key}:"), message
    assert "\n" not in message


def test_an_option_train_does_not_have_is_refused_naming_its_key() -> None:
    config = parse_config({"dataset": "moons", "fixed": {"epochs": 2, "epochz": 3},
                           "search": {"lr": [0.1], "lernrate": [1]}}, source="s.toml")
    with pytest.raises(SweepConfigError, match=r"s.toml: fixed.epochz, search.lernrate: not an"):
        check_train_options(config, source="s.toml")
    check_train_options(parse_config(GRID))  # train's own options pass


def test_the_grid_is_the_product_of_the_lists_in_file_order() -> None:
    params = trial_params(parse_config(GRID))
    assert len(params) == 6
    assert params[0] == {"lr": 0.001, "layers": [8]}
    assert params[1] == {"lr": 0.001, "layers": [16, 16]}
    assert params[-1] == {"lr": 0.1, "layers": [16, 16]}


def test_random_search_draws_from_the_distributions_reproducibly() -> None:
    raw = {"dataset": "moons", "n_trials": 200, "seed": 3,
           "search": {"lr": {"log_uniform": [1e-4, 1e-1]}, "dropout": {"uniform": [0.0, 0.5]},
                      "epochs": {"int_uniform": [2, 4]}, "layers": [[8], [16]],
                      "optimizer": {"choice": ["sgd", "adam"]}}}
    first, again = trial_params(parse_config(raw)), trial_params(parse_config(raw))
    assert first == again
    assert first != trial_params(parse_config({**raw, "seed": 4}))
    lrs = [p["lr"] for p in first]
    assert all(1e-4 <= lr <= 1e-1 for lr in lrs)
    # log-uniform: about half the draws below the geometric mean √(1e-4 · 1e-1)
    below = sum(lr < math.sqrt(1e-5) for lr in lrs) / len(lrs)
    assert 0.35 < below < 0.65
    assert all(0.0 <= p["dropout"] <= 0.5 for p in first)
    assert {p["epochs"] for p in first} == {2, 3, 4}
    assert {tuple(p["layers"]) for p in first} == {(8,), (16,)}
    assert {p["optimizer"] for p in first} == {"sgd", "adam"}


def test_a_trial_is_a_train_command_line() -> None:
    argv = train_arguments("moons", {"lr": 0.01, "layers": [16, 8], "momentum": -0.0,
                                     "clip_norm": 1.5, "optimizer": "sgd"}, "/tmp/t")
    assert argv == ["moons", "--lr=0.01", "--layers=16,8", "--momentum=-0.0",
                    "--clip-norm=1.5", "--optimizer=sgd", "--out=/tmp/t", "--quiet",
                    "--no-plots"]
    args = cli.build_parser().parse_args(["train", *argv])
    assert args.layers == "16,8" and args.clip_norm == "1.5" and args.quiet


def test_validation_split_defaults_so_the_trials_can_be_ranked() -> None:
    assert parse_config(GRID).fixed["validation_split"] == 0.2
    raw = {**GRID, "fixed": {"validation_split": 0.3}}
    assert parse_config(raw).fixed["validation_split"] == 0.3


def test_a_relative_dataset_path_is_read_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b,label\n0,1,0\n1,0,1\n")
    (tmp_path / "sweep.toml").write_text('dataset = "data.csv"\n[search]\nlr = [0.1]\n')
    assert load_config(tmp_path / "sweep.toml").dataset == str(tmp_path / "data.csv")


def result(trial: int, **final: float) -> TrialResult:
    return TrialResult(trial, {}, [], "", final=final)


def test_the_best_trial_maximizes_accuracy_and_minimizes_loss() -> None:
    results = [result(0, val_accuracy=0.8, val_loss=0.3), result(1, val_accuracy=0.9,
               val_loss=0.4), result(2, val_accuracy=0.9, val_loss=0.2),
               TrialResult(3, {}, [], "", status="failed", error="boom")]
    assert best_trial(results, "val_accuracy").trial == 1  # type: ignore[union-attr]  # tie: first
    assert best_trial(results, "val_loss").trial == 2  # type: ignore[union-attr]
    assert best_trial(results[3:], "val_loss") is None
    assert best_trial([result(0, val_loss=math.nan)], "val_loss") is None


def test_a_serial_sweep_runs_every_trial_and_rewrites_the_json_after_each(
        tmp_path: Path) -> None:
    raw = {"dataset": "moons", "fixed": {"epochs": 4, "seed": 1},
           "search": {"lr": [0.0001, 0.05], "activation": ["tanh", "nosuch"]}}
    config = parse_config(raw)
    seen: list[int] = []

    def check(trial: TrialResult) -> None:
        document = json.loads((tmp_path / "sweep.json").read_text())
        seen.append(document["finished"])
        assert document["trials"][-1]["trial"] == trial.trial  # serial: in trial order

    results = run_sweep(config, tmp_path, run_trial, on_result=check, blas_threads=1)
    assert seen == [1, 2, 3, 4]
    document = json.loads((tmp_path / "sweep.json").read_text())
    assert document["n_trials"] == 4 and document["failed"] == 2
    failed = [r for r in results if r.status == "failed"]
    assert [r.params["activation"] for r in failed] == ["nosuch", "nosuch"]
    assert all("nosuch" in (r.error or "") for r in failed)
    assert document["metric"] == "val_accuracy"
    # the larger learning rate learns the moons in 4 epochs, the tiny one does not
    assert document["best"]["params"] == {"lr": 0.05, "activation": "tanh"}
    assert (tmp_path / "trial-002" / "model.npz").is_file()
    assert all(r.blas_threads == 1 for r in results if r.status == "ok")


def test_the_command_refuses_a_bad_config_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('dataset = "moons"\n[search]\nlr = { uniform = [0.1, 0.2] }\n')
    assert cli.main(["sweep", str(config), "--serial", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"backprop: error: {config}: search.lr:") and err.count("\n") == 1
    assert cli.main(["sweep", str(tmp_path / "none.toml"), "--serial"]) == 2
    assert "no such sweep config file" in capsys.readouterr().err


def test_a_serial_trial_that_crashes_is_retried_once(tmp_path: Path) -> None:
    attempts: dict[str, int] = {}

    def trial(argv: list[str], blas_threads: object) -> dict[str, Any]:
        lr = next(a for a in argv if a.startswith("--lr="))
        attempts[lr] = attempts.get(lr, 0) + 1
        if lr == "--lr=0.2" or (lr == "--lr=0.1" and attempts[lr] == 1):
            raise OSError(f"lost {lr}")
        return {"final": {"val_loss": float(lr.removeprefix("--lr="))}, "seconds": 0.0}

    config = parse_config({"dataset": "moons", "search": {"lr": [0.3, 0.1, 0.2]}})
    results = {r.params["lr"]: r for r in run_sweep(config, tmp_path, trial)}
    assert attempts == {"--lr=0.3": 1, "--lr=0.1": 2, "--lr=0.2": 2}
    assert results[0.1].status == "ok" and results[0.1].final == {"val_loss": 0.1}
    assert results[0.2].status == "failed" and results[0.2].error == "failed twice: OSError: lost --lr=0.2"
    document = json.loads((tmp_path / "sweep.json").read_text())
    assert document["best"]["params"] == {"lr": 0.1} and document["metric"] == "val_loss"
