"""``backprop explain``: one training step of a small network, number by number.

Without options it explains the classic 2-3-1 network of the textbook
derivations (sigmoid units, no biases, ½(a − y)² loss, x = (0.35, 0.9),
y = 0.5, η = 0.5). Every bad value raises ValueError with a one-line
message, which the ``backprop`` command turns into exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .common import parse_widths

#: The classic network: w[j][k] connects input k to hidden unit j; v to the output.
CLASSIC_LAYERS = [2, 3, 1]
CLASSIC_WEIGHTS = [[[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]], [[0.3, 0.9, 0.5]]]
CLASSIC_X = "0.35,0.9"
CLASSIC_Y = "0.5"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``explain`` subcommand to an argparse subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "explain",
        help="one training step, number by number",
        description="One step of plain gradient descent written out with the four equations "
        "and the actual numbers. Default: the classic 2-3-1 sigmoid network, mse, no biases.",
    )
    parser.add_argument("--layers", help="widths, input first, e.g. 2,3,1 (default 2,3,1, "
                        "or taken from --weights)")
    parser.add_argument("--activation", default="sigmoid", help="hidden activation (sigmoid)")
    parser.add_argument("--output", default="sigmoid", help="output activation (sigmoid)")
    parser.add_argument("--loss", default="mse", help="mse, binary_cross_entropy, cross_entropy")
    parser.add_argument("--no-bias", action="store_true", help="layers without biases")
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--seed", type=int, help="random initial weights from this seed")
    weights.add_argument("--weights", help='JSON file: [{"W": [[...]], "b": [...]}, ...], '
                         "one object per layer")
    parser.add_argument("--x", action="append", help='a sample, e.g. "0.35,0.9"; repeat for '
                        'a batch; write --x=-1,2 when the first value is negative')
    parser.add_argument("--y", action="append", help='its target, e.g. "0.5" (or a class '
                        "label); repeat for a batch")
    parser.add_argument("--lr", default="0.5", help="learning rate η (0.5)")
    parser.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    parser.set_defaults(run=run)
    return parser


def _numbers(text: str, option: str) -> list[float]:
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{option} {text!r}: {part.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{option} {text!r}: {part.strip()!r} is not a finite number")
        values.append(value)
    return values


def _read_weights(path: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"--weights {path}: cannot read it ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"--weights {path}: not valid JSON ({error.msg}, line {error.lineno})"
                         ) from None
    if isinstance(data, dict):
        data = data.get("layers")
    if not isinstance(data, list) or not data or not all(
        isinstance(layer, dict) and "W" in layer for layer in data
    ):
        raise ValueError(f'--weights {path}: expected a list of {{"W": [[...]], "b": [...]}} '
                         "objects, one per layer")
    return data


def _matrix(value: Any, where: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise ValueError(f"{where} is not a rectangular array of numbers") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{where} contains NaN or inf")
    return array


def build_network(args: argparse.Namespace) -> Any:
    """The network the options describe, in float64."""
    from .. import Dense, Network

    layers_given = args.layers is not None
    weights: list[dict[str, Any]] | None = None
    if args.weights is not None:
        weights = _read_weights(args.weights)
        matrices = [_matrix(layer["W"], f"--weights: layer {i + 1} W")
                    for i, layer in enumerate(weights)]
        for i, W in enumerate(matrices):
            if W.ndim != 2 or W.size == 0:
                raise ValueError(f"--weights: layer {i + 1} W must be a non-empty 2-D list "
                                 "(n_out rows of n_in numbers)")
            if i > 0 and W.shape[1] != matrices[i - 1].shape[0]:
                raise ValueError(f"--weights: layer {i + 1} W has {W.shape[1]} columns but "
                                 f"layer {i} has {matrices[i - 1].shape[0]} units")
        inferred = [matrices[0].shape[1]] + [W.shape[0] for W in matrices]
        widths = parse_widths(args.layers) if layers_given else inferred
        if widths != inferred:
            raise ValueError(f"--weights give layers {','.join(map(str, inferred))} but "
                             f"--layers says {args.layers}")
    else:
        widths = parse_widths(args.layers) if layers_given else list(CLASSIC_LAYERS)
    classic = weights is None and args.seed is None
    if classic and widths != CLASSIC_LAYERS:
        raise ValueError("give --seed N or --weights FILE for a network other than 2,3,1")
    # the classic network has no biases, as in the textbook derivations
    bias = not (args.no_bias or classic)
    if weights is not None:
        has_bias = ["b" in layer for layer in weights]
        if args.no_bias and any(has_bias):
            raise ValueError("--weights give biases b but --no-bias was asked for")
        if any(has_bias) and not all(has_bias):
            raise ValueError("--weights: give b for every layer or for none")
        bias = all(has_bias)
    activations = [args.activation] * (len(widths) - 2) + [args.output]
    net = Network(
        [Dense(widths[i], widths[i + 1], activation=activations[i], bias=bias)
         for i in range(len(widths) - 1)],
        loss=args.loss,
        seed=args.seed,
        dtype="float64",
    )
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


def run(args: argparse.Namespace) -> int:
    from ..worked_step import explain

    net = build_network(args)
    xs: list[str] = args.x if args.x else [CLASSIC_X]
    X = [_numbers(text, "--x") for text in xs]
    for text, row in zip(xs, X, strict=True):
        if len(row) != net.n_inputs:
            raise ValueError(f"--x {text!r} has {len(row)} value{'s' if len(row) != 1 else ''} "
                             f"but the network has {net.n_inputs} inputs")
    ys: list[str] | None = args.y if args.y else ([CLASSIC_Y] if not args.x else None)
    if ys is None:
        raise ValueError("give a target --y for each --x")
    if len(xs) != len(ys):
        raise ValueError(f"got {len(xs)} --x but {len(ys)} --y; give one target per sample")
    targets = []
    for text in ys:
        row = _numbers(text, "--y")
        if len(row) == 1 and net.n_outputs > 1:  # a class label
            label = row[0]
            if label != int(label) or not 0 <= label < net.n_outputs:
                raise ValueError(f"--y {text!r}: one value must be a class label "
                                 f"0..{net.n_outputs - 1}")
            row = [float(k == int(label)) for k in range(net.n_outputs)]
        if len(row) != net.n_outputs:
            raise ValueError(f"--y {text!r} has {len(row)} values but the network has "
                             f"{net.n_outputs} outputs")
        targets.append(row)
    lr = _numbers(args.lr, "--lr")
    if len(lr) != 1:
        raise ValueError(f"--lr {args.lr!r}: give one number")
    trace = explain(net, np.array(X), np.array(targets), lr=lr[0])
    if args.format == "markdown":
        print(trace.to_markdown())
    elif args.format == "json":
        print(trace.to_json())
    else:
        print(trace.to_text())
    return 0
