"""``backprop gradcheck``: backpropagation against central differences, network from options."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop import gradcheck
from backprop.cli.building import in_flags, network_widths
from backprop.cli.option_kinds import at_least, flag, positive, real, whole
from backprop.cli.option_table import (
    ACTIVATION,
    HIDDEN_WIDTHS,
    INIT,
    INPUTS,
    LOSS,
    OUTPUT_ACTIVATION,
    OUTPUTS,
    SEED,
    ActivationSpec,
)
from backprop.cli.options import Options, add_command, option
from backprop.limits import enforce_array_limit
from backprop.spec import NetworkSpec, build_network
from backprop.teaching.gradcheck import check_settings


@dataclass(frozen=True, kw_only=True)
class GradcheckOptions(Options):
    """The network's options (train's, with their own defaults) and the check's."""

    layers: list[int] = option(
        HIDDEN_WIDTHS, [5], "hidden layer widths, e.g. 5 or 4,4 (the old form with the input "
        "and output widths, e.g. 4,5,3, is read for one more release)")
    inputs: int = option(INPUTS, default=4, help="input width")
    outputs: int = option(OUTPUTS, default=3, help="output width")
    activation: ActivationSpec = option(ACTIVATION, default="tanh")
    output_activation: str = option(OUTPUT_ACTIVATION, default="softmax",
                                                       help="output activation",
                                                       aliases=("--output",))
    loss: str = option(LOSS, default="cross_entropy", help=LOSS.help.partition(";")[0])
    init: str = option(INIT)
    bias: bool = option(flag, True, "layers without biases")
    batch: int = option(whole, 8, "samples in the batch", check=at_least(1))
    seed: int = option(SEED, help="seed of the weights and the data")
    step: float = option(real, 1e-5, "central-difference step h", check=positive)
    tolerance: float = option(real, 1e-6, "largest relative error that passes", check=positive)
    json: bool = option(flag, False, "print the report as JSON")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    return add_command(
        subparsers, "gradcheck", GradcheckOptions, run,
        help="check a network's gradients against central differences",
        description="Build a network from the options, draw a random batch (seeded) and "
        "compare backpropagation's gradients with central differences in float64. "
        "Exit 0 on PASS, 1 on FAIL.",
    )


def _targets(loss: str, m: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Targets the loss accepts: class labels for the cross-entropies, values for mse,
    counts for poisson."""
    if loss == "mse":
        return rng.normal(size=(m, n_out))
    if loss == "poisson":
        return rng.poisson(1.5, size=(m, n_out)).astype(float)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=(m, n_out)).astype(float)
    return rng.integers(0, n_out, size=m)


def run(o: GradcheckOptions) -> int:
    check_settings(o.step, o.tolerance, step_name="--step", tolerance_name="--tolerance")
    # the old form of --layers (input and output widths included) is read when neither
    # --inputs nor --outputs is given
    widths = network_widths(o.layers, o.inputs if "inputs" in o.given else None,
                            o.outputs if "outputs" in o.given else None, None, None,
                            defaults=(o.inputs, o.outputs))
    # X and each layer's activations hold batch × width float64 numbers: sized before any is
    enforce_array_limit(f"--batch {o.batch:,}", (o.batch, max(widths)), 8)
    with in_flags():
        network = NetworkSpec(
            n_inputs=widths[0], n_outputs=widths[-1], hidden=tuple(widths[1:-1]),
            activation=o.activation, output_activation=o.output_activation, loss=o.loss,
            bias=o.bias, init=o.init, seed=o.seed, dtype="float64")
    net = build_network(network)
    rng = np.random.default_rng(o.seed)
    X = rng.normal(size=(o.batch, widths[0]))
    report = gradcheck(net, X, _targets(o.loss, o.batch, widths[-1], rng),
                       step=o.step, tolerance=o.tolerance)
    print(json.dumps(report.as_dict(), indent=2) if o.json else report)
    return 0 if report.passed else 1
