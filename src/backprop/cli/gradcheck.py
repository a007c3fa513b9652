"""``backprop gradcheck``: backpropagation against central differences, network from options."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from backprop import gradcheck
from backprop.cli.building import in_flags, network_widths
from backprop.cli.option_table import (
    ACTIVATION,
    HIDDEN_WIDTHS,
    INIT,
    INPUTS,
    LOSS,
    OUTPUT_ACTIVATION,
    OUTPUTS,
    SEED,
)
from backprop.cli.options import Option, add_options, at_least, flag, positive, real, resolve, whole
from backprop.spec import NetworkSpec, build_network

#: The options: the network's (train's, with their own defaults) and the check's.
OPTIONS = (
    Option("layers", HIDDEN_WIDTHS, [5], "hidden layer widths, e.g. 5 or 4,4 (the old form "
           "with the input and output widths, e.g. 4,5,3, is read for one more release)"),
    INPUTS.replace(default=4, help="input width"),
    OUTPUTS.replace(default=3, help="output width"),
    ACTIVATION.replace(default="tanh"),
    OUTPUT_ACTIVATION.replace(default="softmax", help="output activation",
                              aliases=("--output",)),
    LOSS.replace(default="cross_entropy", help=LOSS.help.partition(";")[0]),
    INIT,
    Option("bias", flag, True, "layers without biases"),
    Option("batch", whole, 8, "samples in the batch", check=at_least(1)),
    SEED.replace(help="seed of the weights and the data"),
    Option("step", real, 1e-5, "central-difference step h", check=positive),
    Option("tolerance", real, 1e-6, "largest relative error that passes", check=positive),
    Option("json", flag, False, "print the report as JSON"),
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "gradcheck",
        help="check a network's gradients against central differences",
        description="Build a network from the options, draw a random batch (seeded) and "
        "compare backpropagation's gradients with central differences in float64. "
        "Exit 0 on PASS, 1 on FAIL.",
    )
    add_options(parser, OPTIONS)
    parser.set_defaults(run=run)
    return parser


def _targets(loss: str, m: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Targets the loss accepts: class labels for the cross-entropies, values for mse."""
    if loss == "mse":
        return rng.normal(size=(m, n_out))
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=(m, n_out)).astype(float)
    return rng.integers(0, n_out, size=m)


def run(args: argparse.Namespace) -> int:
    o = resolve(args, OPTIONS)
    given = {name: getattr(args, name, None) is not None for name in ("inputs", "outputs")}
    widths = network_widths(o["layers"], o["inputs"] if given["inputs"] else None,
                            o["outputs"] if given["outputs"] else None, None, None,
                            defaults=(o["inputs"], o["outputs"]))
    with in_flags():
        network = NetworkSpec(
            n_inputs=widths[0], n_outputs=widths[-1], hidden=tuple(widths[1:-1]),
            activation=o["activation"], output_activation=o["output_activation"],
            loss=o["loss"], bias=o["bias"], init=o["init"], seed=o["seed"], dtype="float64")
    net = build_network(network)
    rng = np.random.default_rng(o["seed"])
    X = rng.normal(size=(o["batch"], widths[0]))
    report = gradcheck(net, X, _targets(o["loss"], o["batch"], widths[-1], rng),
                       step=o["step"], tolerance=o["tolerance"])
    print(json.dumps(report.as_dict(), indent=2) if o["json"] else report)
    return 0 if report.passed else 1
