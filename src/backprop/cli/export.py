"""``backprop export MODEL --format onnx [--out FILE]``: a model file as an ONNX graph.

The graph (opset 17, :mod:`backprop.export.onnx`) takes the raw inputs: a
model trained by ``backprop train`` with input scaling carries the scaling
as its first two nodes, so X goes in as it came from the data file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from backprop.cli.common import load_model
from backprop.errors import OptionError

FORMATS = ("onnx",)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to an argparse subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="write a saved model in another format (ONNX)",
        description="Write MODEL (a model file written by `backprop train` or net.save) as an "
        "ONNX graph (opset 17) that onnxruntime and other runtimes can run.",
    )
    parser.add_argument("model", help="a model file (model.npz)")
    parser.add_argument("--format", choices=FORMATS, required=True, help="the output format")
    parser.add_argument("--out", help="the output file (default: MODEL with the format's suffix)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of errors")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    net = load_model(args.model)
    out = Path(args.out) if args.out else Path(args.model).with_suffix(f".{args.format}")
    scaler = net.metadata.get("scaler") or {}
    from backprop.export.onnx import to_onnx

    try:
        to_onnx(
            net,
            out,
            input_offset=None if not scaler else np.asarray(scaler["offset"], dtype=np.float64),
            input_scale=None if not scaler else np.asarray(scaler["scale"], dtype=np.float64),
        )
    except ImportError as error:  # the onnx extra is missing: say which, in one line
        raise OptionError(str(error)) from None
    print(f"wrote {out} (ONNX opset 17, input X: (batch, {net.n_inputs}) {net.dtype.name})")
    return 0
