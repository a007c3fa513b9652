"""``backprop gradcheck``: backpropagation against central differences, network from options."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from .. import Dense, Network, gradcheck
from .common import parse_widths


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "gradcheck",
        help="check a network's gradients against central differences",
        description="Build a network from the options, draw a random batch (seeded) and "
        "compare backpropagation's gradients with central differences in float64. "
        "Exit 0 on PASS, 1 on FAIL.",
    )
    parser.add_argument("--layers", default="4,5,3", help="widths, input first (default 4,5,3)")
    parser.add_argument("--activation", default="tanh", help="hidden activation (tanh)")
    parser.add_argument("--output", default="softmax", help="output activation (softmax)")
    parser.add_argument("--loss", default="cross_entropy", help="loss (cross_entropy)")
    parser.add_argument("--init", default="auto", help="weight initialization (auto)")
    parser.add_argument("--no-bias", action="store_true", help="layers without biases")
    parser.add_argument("--batch", type=int, default=8, help="samples in the batch (8)")
    parser.add_argument("--seed", type=int, default=0, help="weights and data seed (0)")
    parser.add_argument("--step", type=float, default=1e-5, help="central-difference step h")
    parser.add_argument("--tolerance", type=float, default=1e-6, help="largest relative error")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
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
    widths = parse_widths(args.layers)
    if args.batch < 1:
        raise ValueError(f"--batch must be at least 1, got {args.batch}")
    activations = [args.activation] * (len(widths) - 2) + [args.output]
    layers = [
        Dense(widths[i], widths[i + 1], activation=activations[i], bias=not args.no_bias)
        for i in range(len(widths) - 1)
    ]
    net = Network(layers, loss=args.loss, init=args.init, seed=args.seed, dtype="float64")
    rng = np.random.default_rng(args.seed)
    X = rng.normal(size=(args.batch, widths[0]))
    report = gradcheck(net, X, _targets(args.loss, args.batch, widths[-1], rng),
                       step=args.step, tolerance=args.tolerance)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report)
    return 0 if report.passed else 1
