"""``backprop explain``: one training step of a small network, number by number.

Without options it explains the classic 2-3-1 network of the textbook
derivations (sigmoid units, no biases, ½(a − y)² loss, x = (0.35, 0.9),
y = 0.5, η = 0.5). Every bad value raises OptionError with a one-line
message, which the ``backprop`` command turns into exit status 2.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop import spec
from backprop.cli.building import in_flags, network_widths
from backprop.cli.common import parse_list
from backprop.cli.option_kinds import (
    all_of,
    at_least,
    at_most_limit,
    choice,
    flag,
    non_negative,
    real,
    texts,
    whole,
)
from backprop.cli.option_kinds import text as string
from backprop.cli.option_table import (
    ACTIVATION,
    HIDDEN_WIDTHS,
    INPUTS,
    LOSS,
    OUTPUT_ACTIVATION,
    OUTPUTS,
    SEED,
    ActivationSpec,
)
from backprop.cli.options import Options, add_command, option
from backprop.errors import OptionError
from backprop.files.io import read_json
from backprop.network import Network
from backprop.nn.layers import Dense
from backprop.spec import NetworkSpec
from backprop.teaching import classic
from backprop.teaching.worked_step.naming import NOTATIONS

#: The classic network (:mod:`backprop.teaching.classic`), its sample as --x and --y read it.
CLASSIC_LAYERS, CLASSIC_WEIGHTS = classic.LAYERS, classic.WEIGHTS
CLASSIC_X = ",".join(map(repr, classic.X))
CLASSIC_Y = repr(classic.Y)

@dataclass(frozen=True, kw_only=True)
class ExplainOptions(Options):
    """The network's options (train's, with the classic network's defaults), η, the
    samples and the output's format."""

    layers: list[int] | None = option(
        HIDDEN_WIDTHS, None, "hidden layer widths, e.g. 3 or 4,4 (the old form with the input "
        "and output widths, e.g. 2,3,1, is read for one more release)",
        shown="3 or the widths of --weights")
    inputs: int | None = option(INPUTS,
        help="input width; none: the width of --x (2 for the classic sample)")
    outputs: int | None = option(OUTPUTS,
        help="output width; none: the width of --y (1 for a number or a label)")
    activation: ActivationSpec = option(ACTIVATION, default="sigmoid")
    output_activation: str = option(OUTPUT_ACTIVATION, default="sigmoid",
                                                       help="output activation",
                                                       aliases=("--output",))
    loss: str = option(LOSS, default="mse", help=LOSS.help.partition(";")[0])
    bias: bool = option(flag, True, "layers without biases (the classic network has none)")
    batch_norm: bool = option(flag, False, "Dense (no bias) → BatchNorm → σ in each hidden "
                              "layer (needs --seed; shown per tensor)")
    seed: int | None = option(SEED, default=None, help="random initial weights from this seed",
                                    shown="none: the classic weights")
    lr: float = option(real, 0.5, "learning rate η; 0: the gradients only, no update",
                       check=non_negative)
    steps: int = option(whole, 1, "consecutive steps of gradient descent to write out",
                        check=all_of(at_least(1), at_most_limit("BACKPROP_MAX_EPOCHS")))
    notation: str = option(
        choice(*NOTATIONS), "layered",
        "how quantities are named: layered (input = layer 0, w_jk^[l]), from-to (input = "
        "layer 1, w_ij[k] from node i of layer k to node j of layer k+1) or mazur (w1…w8, "
        "2-2-2 networks)")
    stale_weights: bool = option(
        flag, False, "also show each hidden δ as a loop that updates the weights above first "
        "gets it (wrong on purpose)")
    weights: str | None = option(string, None, 'JSON file: [{"W": [[...]], "b": [...]}, ...], '
                                 "one object per layer (not with --seed)")
    x: list[str] | None = option(texts, None, 'a sample, e.g. "0.35,0.9"; repeat for a batch; '
                                 "write --x=-1,2 when the first value is negative",
                                 repeat=True, shown=f"the classic sample {CLASSIC_X}")
    y: list[str] | None = option(texts, None, 'its target, e.g. "0.5" (or a class label); '
                                 "repeat for a batch", repeat=True,
                                 shown=f"{CLASSIC_Y} with the classic sample")
    format: str = option(choice("text", "markdown", "json"), "text",
                         "text, markdown (with LaTeX) or json")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``explain`` subcommand to an argparse subparsers object."""
    return add_command(
        subparsers, "explain", ExplainOptions, run,
        help="one training step, number by number",
        description="One step of plain gradient descent written out with the four equations "
        "and the actual numbers. Default: the classic 2-3-1 sigmoid network, mse, no biases.",
    )


def _numbers(text: str, option: str) -> list[float]:
    return [float(v) for v in parse_list(text, option, float, fewest=1)]


def _read_weights(path: str) -> list[dict[str, Any]]:
    data = read_json(path, "--weights file", OptionError)
    if isinstance(data, dict):
        data = data.get("layers")
    if not isinstance(data, list) or not data or not all(
        isinstance(layer, dict) and "W" in layer for layer in data
    ):
        raise OptionError(f'--weights {path}: expected a list of {{"W": [[...]], "b": [...]}} '
                         "objects, one per layer")
    return data


def _matrix(value: Any, where: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise OptionError(f"{where} is not a rectangular array of numbers") from None
    if not np.all(np.isfinite(array)):
        raise OptionError(f"{where} contains NaN or inf")
    return array


def build_network(o: ExplainOptions) -> Network:
    """The network the options ``o`` (--weights among them) describe, in float64."""
    if o.seed is not None and o.weights is not None:
        raise OptionError("give --seed or --weights, not both")
    weights: list[dict[str, Any]] | None = None
    # the input and output widths the samples show (None: a lone number, maybe a label)
    x_width = len(_numbers(o.x[0], "--x")) if o.x else len(CLASSIC_X.split(","))
    y_widths = {len(_numbers(text, "--y")) for text in (o.y or [CLASSIC_Y])}
    y_width = max(y_widths) if max(y_widths) > 1 else None
    if o.weights is not None:
        weights = _read_weights(o.weights)
        matrices = [_matrix(layer["W"], f"--weights: layer {i + 1} W")
                    for i, layer in enumerate(weights)]
        for i, W in enumerate(matrices):
            if W.ndim != 2 or W.size == 0:
                raise OptionError(f"--weights: layer {i + 1} W must be a non-empty 2-D list "
                                 "(n_out rows of n_in numbers)")
            if i > 0 and W.shape[1] != matrices[i - 1].shape[0]:
                raise OptionError(f"--weights: layer {i + 1} W has {W.shape[1]} columns but "
                                 f"layer {i} has {matrices[i - 1].shape[0]} units")
        inferred = [matrices[0].shape[1]] + [W.shape[0] for W in matrices]
        widths = (inferred if o.layers is None else network_widths(
            o.layers, o.inputs, o.outputs, inferred[0], inferred[-1]))
        if widths != inferred:
            raise OptionError(f"--weights give layers {','.join(map(str, inferred))} but "
                              f"the options say {','.join(map(str, widths))}")
    else:
        if o.seed is None:  # the classic weights: 2 inputs, whatever --x says
            x_width = CLASSIC_LAYERS[0]
        widths = network_widths(o.layers or [CLASSIC_LAYERS[1]],
                                o.inputs, o.outputs, x_width, y_width, defaults=(x_width, 1))
    classic = weights is None and o.seed is None
    if classic and widths != CLASSIC_LAYERS:
        raise OptionError("give --seed N or --weights FILE for a network other than the "
                          "classic 2-3-1")
    # the classic network has no biases, as in the textbook derivations
    bias = o.bias and not classic
    if weights is not None:
        has_bias = ["b" in layer for layer in weights]
        if not o.bias and any(has_bias):
            raise OptionError("--weights give biases b but --no-bias was asked for")
        if any(has_bias) and not all(has_bias):
            raise OptionError("--weights: give b for every layer or for none")
        bias = all(has_bias)
    if o.batch_norm and o.seed is None:
        raise OptionError("--batch-norm needs --seed N (random initial weights)")
    with in_flags():
        network = NetworkSpec(
            n_inputs=widths[0], n_outputs=widths[-1], hidden=tuple(widths[1:-1]),
            activation=o.activation, output_activation=o.output_activation, loss=o.loss,
            bias=bias, batch_norm=o.batch_norm, seed=o.seed, dtype="float64")
    net = spec.build_network(network)
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    if classic:
        for layer, values in zip(dense, CLASSIC_WEIGHTS, strict=True):
            layer.W = values
    if weights is not None:
        for i, (layer, given) in enumerate(zip(dense, weights, strict=True)):
            layer.W = _matrix(given["W"], f"--weights: layer {i + 1} W")
            if "b" in given:
                layer.b = _matrix(given["b"], f"--weights: layer {i + 1} b")
    return net


def run(o: ExplainOptions) -> int:
    from backprop import explain

    net = build_network(o)
    xs: list[str] = o.x if o.x else [CLASSIC_X]
    X = [_numbers(text, "--x") for text in xs]
    for text, row in zip(xs, X, strict=True):
        if len(row) != net.n_inputs:
            raise OptionError(f"--x {text!r} has {len(row)} value{'s' if len(row) != 1 else ''} "
                             f"but the network has {net.n_inputs} inputs")
    ys: list[str] | None = o.y if o.y else ([CLASSIC_Y] if not o.x else None)
    if ys is None:
        raise OptionError("give a target --y for each --x")
    if len(xs) != len(ys):
        raise OptionError(f"got {len(xs)} --x but {len(ys)} --y; give one target per sample")
    targets = []
    for text in ys:
        row = _numbers(text, "--y")
        if len(row) == 1 and net.n_outputs > 1:  # a class label
            label = row[0]
            if label != int(label) or not 0 <= label < net.n_outputs:
                raise OptionError(f"--y {text!r}: one value must be a class label "
                                 f"0..{net.n_outputs - 1}")
            row = [float(k == int(label)) for k in range(net.n_outputs)]
        if len(row) != net.n_outputs:
            raise OptionError(f"--y {text!r} has {len(row)} values but the network has "
                             f"{net.n_outputs} outputs")
        targets.append(row)
    if o.stale_weights and o.lr == 0:
        raise OptionError("--stale-weights needs --lr > 0: with no update no weight is stale")
    if o.steps > 100:
        raise OptionError(f"--steps must be at most 100, got {o.steps}")
    trace = explain(net, np.array(X), np.array(targets), lr=o.lr, steps=o.steps,
                    stale_weights=o.stale_weights, notation=o.notation)
    if o.format == "markdown":
        print(trace.to_markdown())
    elif o.format == "json":
        print(trace.to_json())
    else:
        print(trace.to_text())
    return 0
