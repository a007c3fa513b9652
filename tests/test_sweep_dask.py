"""Sweeps on a local Dask cluster of worker processes give what the serial run gives."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed", reason="the sweep's cluster needs dask[distributed]")
pytest.importorskip("threadpoolctl", reason="the sweep pins BLAS threads with threadpoolctl")

from distributed import Client, LocalCluster

import backprop.cli.sweep as sweep_command
from backprop.sweep import parse_config, run_sweep

CONFIG = """
dataset = "moons"
[fixed]
epochs = 6
seed = 2
[search]
lr = [0.003, 0.03]
layers = [[8], [16, 16]]
activation = ["tanh", "nosuch"]
"""
SCORES = ("loss", "accuracy", "val_loss", "val_accuracy")


def sweep(config: Path, *options: str) -> dict[str, Any]:
    out = config.parent / ("-".join(options).strip("-") or "default")
    result = subprocess.run(
        [sys.executable, "-m", "backprop", "sweep", str(config), "--out", str(out), *options],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "best: trial" in result.stdout
    document: dict[str, Any] = json.loads((out / "sweep.json").read_text())
    return document


def test_a_local_cluster_sweep_matches_the_serial_one(tmp_path: Path) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    serial = sweep(config, "--serial")
    cluster = sweep(config, "--workers", "2")
    assert cluster["n_trials"] == serial["n_trials"] == 8
    assert cluster["finished"] == 8 and cluster["failed"] == serial["failed"] == 4
    assert cluster["best"]["params"] == serial["best"]["params"]
    assert cluster["best"]["params"]["activation"] == "tanh"
    for mine, theirs in zip(cluster["trials"], serial["trials"], strict=True):
        assert mine["params"] == theirs["params"]
        assert mine["status"] == theirs["status"]
        if mine["status"] == "failed":
            assert "nosuch" in mine["error"]
            continue
        for key in SCORES:
            assert mine["final"][key] == pytest.approx(theirs["final"][key], rel=1e-6), key
        assert mine["test"] == pytest.approx(theirs["test"], rel=1e-6)
        # each of 2 single-thread workers on this machine gets its share of the cores
        share = max(1, (os.cpu_count() or 1) // 2)
        assert mine["worker"].startswith("tcp://") and mine["blas_threads"] == share
    assert len({t["worker"] for t in cluster["trials"]}) == 2


def test_a_crashing_trial_is_retried_once_and_the_rest_finish(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_train = sweep_command.train_command
    calls: dict[str, int] = {}

    def flaky_train(argv: list[str]) -> int:
        # the trial at lr 0.03 crashes on its first attempt; the one at lr 0.3 always
        key = next(a for a in argv if a.startswith("--lr="))
        calls[key] = calls.get(key, 0) + 1
        if key == "--lr=0.3" or (key == "--lr=0.03" and calls[key] == 1):
            raise RuntimeError(f"worker lost during {key}")
        return real_train(argv)

    monkeypatch.setattr(sweep_command, "train_command", flaky_train)
    config = parse_config({"dataset": "moons", "fixed": {"epochs": 2},
                           "search": {"lr": [0.003, 0.03, 0.3]}})
    # threads, not processes: the workers share this process and see the patched train
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None, silence_logs=logging.ERROR) as local, \
            Client(local) as client:
        results = {r.params["lr"]: r for r in run_sweep(config, tmp_path, sweep_command.run_trial,
                                                          client=client)}
    assert calls == {"--lr=0.003": 1, "--lr=0.03": 2, "--lr=0.3": 2}
    assert results[0.003].status == results[0.03].status == "ok"
    assert results[0.3].status == "failed"
    assert "failed twice" in (results[0.3].error or "")
    assert "worker lost during --lr=0.3" in (results[0.3].error or "")
    document = json.loads((tmp_path / "sweep.json").read_text())
    assert document["failed"] == 1 and document["best"]["params"]["lr"] in (0.003, 0.03)


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")  # 15 epochs do not converge
def test_grid_and_randomized_search_on_the_cluster_match_the_serial_search() -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    from joblib import parallel_config
    from sklearn.datasets import make_classification
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    from backprop.sklearn import MLPClassifier

    X, y = make_classification(n_samples=240, n_features=8, n_informative=5, n_classes=3,
                               random_state=0)
    estimator = MLPClassifier(max_iter=15, random_state=0, batch_size=32)
    searches = {
        "grid": lambda jobs: GridSearchCV(
            estimator, {"hidden_layer_sizes": [(8,), (32,)],
                        "learning_rate_init": [0.001, 0.01]}, cv=3, n_jobs=jobs),
        "random": lambda jobs: RandomizedSearchCV(
            estimator, {"alpha": [1e-5, 1e-3, 1e-1], "activation": ["relu", "tanh"],
                        "learning_rate_init": [0.003, 0.03]},
            n_iter=4, cv=3, n_jobs=jobs, random_state=0),
    }
    serial = {name: make(1).fit(X, y) for name, make in searches.items()}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as local, \
            Client(local) as client, parallel_config(backend="dask"):
        spread = {name: make(-1).fit(X, y) for name, make in searches.items()}
        # the fits ran in the workers' processes, not here
        assert len(client.scheduler_info()["workers"]) == 2
        assert sum(client.run(lambda: __import__("sys").modules.get(
            "backprop.sklearn") is not None).values()) == 2
    for name in searches:
        assert spread[name].best_params_ == serial[name].best_params_, name
        assert spread[name].cv_results_["params"] == serial[name].cv_results_["params"]
        assert spread[name].cv_results_["mean_test_score"] == pytest.approx(
            serial[name].cv_results_["mean_test_score"], abs=1e-12)
        assert spread[name].best_score_ > 0.5  # better than chance (1/3) on 3 classes


def die_once_then_train(marker: str, argv: list[str], blas_threads: Any) -> dict[str, Any]:
    """The first call ends its worker process abruptly; later calls run the trial."""
    if not os.path.exists(marker):
        Path(marker).write_text("died once")
        os._exit(1)
    return sweep_command.run_trial(argv, blas_threads)


def test_a_trial_whose_worker_dies_runs_again_on_a_live_worker(tmp_path: Path) -> None:
    import functools

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers lack tests/
    marker = tmp_path / "died"
    config = parse_config({"dataset": "moons", "fixed": {"epochs": 2},
                           "search": {"lr": [0.003, 0.03, 0.3]}})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.CRITICAL) as local, \
            Client(local) as client:
        results = run_sweep(config, tmp_path / "out",
                            functools.partial(die_once_then_train, str(marker)), client=client)
    assert marker.read_text() == "died once"  # a worker process did die
    assert sorted(r.params["lr"] for r in results) == [0.003, 0.03, 0.3]
    assert all(r.status == "ok" for r in results), [r.error for r in results]
