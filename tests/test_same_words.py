"""The same words give the same network and optimizer in every front end.

The command's train options (and its TOML config), a sweep's trial, the lab
playground's setup message and the estimators' parameters each translate into
a NetworkSpec and an OptimizerSpec; for the same hidden widths, σ, batch norm,
dropout and optimizer they must give equal specs, and what each front end then
trains must be the same sequence of layers and the same optimizer.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pydantic", reason="the lab needs the extra: pip install 'backprop-mlp[lab]'")
pytest.importorskip("sklearn", reason="the estimators need: pip install 'backprop-mlp[sklearn]'")

import backprop as bp
from backprop.cli import entry
from backprop.cli.building import network_spec as command_network
from backprop.cli.building import optimizer_spec as command_optimizer
from backprop.cli.common import load_data
from backprop.cli.sweep import run_trial
from backprop.cli.train import TrainOptions
from backprop.lab.playground.data import generate
from backprop.lab.playground.model import network_spec as lab_network
from backprop.lab.playground.model import optimizer_spec as lab_optimizer
from backprop.lab.playground.protocol import Setup
from backprop.lab.playground.run import Run
from backprop.sklearn import MLPClassifier
from backprop.sklearn.params import optimizer_spec as estimator_optimizer
from backprop.spec import NetworkSpec, OptimizerSpec, build_network, build_optimizer
from backprop.sweep import parse_config, train_arguments, trial_params

#: The optimizer each front end offers under its own words: the command's and the sweep's
#: train options, the lab's menu word (with its L2 rate) and the estimators' parameters.
OPTIMIZER_WORDS: dict[str, dict[str, Any]] = {
    "sgd": {"train": {"optimizer": "sgd"}, "lab": {"optimizer": "sgd"},
            "estimator": {"solver": "sgd", "momentum": 0.0}},
    "momentum": {"train": {"optimizer": "momentum"}, "lab": {"optimizer": "momentum"},
                 "estimator": {"solver": "sgd", "momentum": 0.9, "nesterovs_momentum": False}},
    "nesterov": {"train": {"optimizer": "sgd", "momentum": 0.9, "nesterov": True},
                 "lab": {"optimizer": "nesterov"},
                 "estimator": {"solver": "sgd", "momentum": 0.9, "nesterovs_momentum": True}},
    "rmsprop": {"train": {"optimizer": "rmsprop"}, "lab": {"optimizer": "rmsprop"},
                "estimator": {"solver": "rmsprop"}},
    "adam": {"train": {"optimizer": "adam"}, "lab": {"optimizer": "adam"},
             "estimator": {"solver": "adam"}},
    "adamw": {"train": {"optimizer": "adamw", "weight_decay": 0.01},
              "lab": {"optimizer": "adamw", "l2": 0.01}, "estimator": {"solver": "adamw"}},
}
#: The network's words, as train options: two hidden layers of tanh, one sigmoid output unit
#: for the two classes of xor, with dropout; float64 and an init named, as the lab has them.
NETWORK_WORDS: dict[str, Any] = {
    "layers": [6, 5], "activation": "tanh", "output_activation": "sigmoid",
    "loss": "binary_cross_entropy", "dropout": 0.2, "init": "xavier_uniform", "seed": 3,
    "dtype": "float64", "lr": 0.05,
}
CASES = [(word, batch_norm) for word in OPTIMIZER_WORDS for batch_norm in (False, True)]


def argv_of(options: dict[str, Any]) -> list[str]:
    """Train options as the command line writes them."""
    argv = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, list):
            argv += [flag, ",".join(map(str, value))]
        else:
            argv += [flag, str(value)]
    return argv


def train_options(word: str, batch_norm: bool) -> dict[str, Any]:
    return {**NETWORK_WORDS, **OPTIMIZER_WORDS[word]["train"],
            **({"batch_norm": True} if batch_norm else {})}


def from_command_line(argv: list[str]) -> tuple[NetworkSpec, OptimizerSpec]:
    """The specs of ``backprop train ARGV``, through the command's own parser."""
    o = TrainOptions.from_args(entry.build_parser().parse_args(["train", *argv]))
    return command_network(o, load_data(o.dataset)), command_optimizer(o)


def from_sweep(word: str, batch_norm: bool, out: Path) -> list[str]:
    """The command line of the one trial of a sweep whose [fixed] table holds the words."""
    options = train_options(word, batch_norm)
    lr = options.pop("lr")
    config = parse_config({"dataset": "xor", "fixed": options, "search": {"lr": [lr]}})
    (params,) = trial_params(config)
    return train_arguments(config.dataset, {**config.fixed, **params}, out)


def lab_setup(word: str) -> Setup:
    words = NETWORK_WORDS
    return Setup(dataset="xor", layers=words["layers"], activation=words["activation"],
                 loss=words["loss"], dropout=words["dropout"], init=words["init"],
                 seed=words["seed"], lr=words["lr"], **OPTIMIZER_WORDS[word]["lab"])


def fitted_estimator(word: str, batch_norm: bool) -> MLPClassifier:
    words = NETWORK_WORDS
    clf = MLPClassifier(
        hidden_layer_sizes=tuple(words["layers"]), activation=words["activation"],
        learning_rate_init=words["lr"], dropout=words["dropout"], batch_norm=batch_norm,
        init=words["init"], dtype=words["dtype"], max_iter=1, random_state=0,
        **OPTIMIZER_WORDS[word]["estimator"])
    X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clf.fit(X, y)


def layers_of(net: bp.Network) -> list[dict[str, Any]]:
    """Each layer's kind, widths, σ, bias flags and rate: its config."""
    return [layer.config() for layer in net.layers]


@pytest.mark.parametrize(("word", "batch_norm"), CASES)
def test_every_front_end_translates_the_same_words_into_the_same_specs(
        word: str, batch_norm: bool, tmp_path: Path) -> None:
    specs: dict[str, tuple[NetworkSpec, OptimizerSpec]] = {}
    specs["command"] = from_command_line(
        ["xor", *argv_of(train_options(word, batch_norm))])
    specs["sweep"] = from_command_line(from_sweep(word, batch_norm, tmp_path / "trial"))
    clf = fitted_estimator(word, batch_norm)
    seed = NETWORK_WORDS["seed"]  # the estimators draw the network's seed from random_state
    specs["estimator"] = (clf._network_spec(2, 1, np.float64, seed),
                          estimator_optimizer(clf.get_params()))
    if not batch_norm:  # the lab offers no batch norm
        setup = lab_setup(word)
        specs["lab"] = (lab_network(setup, n_classes=2), lab_optimizer(setup))
    network, optimizer = specs["command"]
    assert network.hidden == (6, 5) and network.batch_norm is batch_norm
    assert network.dropout == 0.2 and network.hidden_activations == (bp.get_activation("tanh"),) * 2
    for front_end, (other_network, other_optimizer) in specs.items():
        assert other_network == network, front_end
        assert other_optimizer == optimizer, front_end
    # and the same spec is the same layers and optimizer
    built = build_network(network)
    kinds = [type(layer).__name__ for layer in built.layers]
    hidden = ["Dense", "BatchNorm", "ActivationLayer"] if batch_norm else ["Dense"]
    assert kinds == [*hidden, "Dropout", *hidden, "Dropout", "Dense"]
    assert type(build_optimizer(optimizer)).__name__.lower() == optimizer.name


@pytest.mark.parametrize(("word", "batch_norm"), CASES)
def test_what_each_front_end_trains_is_the_same_network_and_optimizer(
        word: str, batch_norm: bool, tmp_path: Path) -> None:
    network, optimizer = from_command_line(["xor", *argv_of(train_options(word, batch_norm))])
    expected_layers = layers_of(build_network(network))
    expected_optimizer = build_optimizer(optimizer)
    trained: dict[str, tuple[bp.Network, bp.Optimizer | None]] = {}
    # the command: a run of `backprop train`, its model file
    out = tmp_path / "train"
    argv = ["train", "xor", *argv_of(train_options(word, batch_norm)), "--epochs", "1",
            "--quiet", "--no-plots", "--out", str(out)]
    assert entry.main(argv) == 0
    trained["command"] = (bp.load(str(out / "model.npz")), None)
    # the sweep: its trial, run as the sweep runs it
    trial_out = tmp_path / "trial"
    outcome = run_trial(from_sweep(word, batch_norm, trial_out))
    assert "error" not in outcome, outcome
    trained["sweep"] = (bp.load(str(trial_out / "model.npz")), None)
    clf = fitted_estimator(word, batch_norm)
    trained["estimator"] = (clf.network_, clf.optimizer_)
    if not batch_norm:
        setup = lab_setup(word)
        run = Run(setup, generate(setup))
        trained["lab"] = (run.net, run.optimizer)
    for front_end, (net, made) in trained.items():
        assert layers_of(net) == expected_layers, front_end
        if made is not None:
            assert type(made) is type(expected_optimizer), front_end
            assert made.config() == expected_optimizer.config(), front_end
