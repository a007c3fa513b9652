"""``backprop export MODEL --format onnx [--out FILE]``: a model file as an ONNX graph.

The graph (opset 17, :mod:`backprop.export.onnx`) takes the raw inputs: a
model trained by ``backprop train`` with input scaling carries the scaling
as its first two nodes, so X goes in as it came from the data file.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backprop.cli.common import load_model
from backprop.cli.option_kinds import REQUIRED, choice, text
from backprop.cli.options import Options, add_command, argument, option
from backprop.errors import OptionError

FORMATS = ("onnx",)


@dataclass(frozen=True, kw_only=True)
class ExportOptions(Options):
    model: str = argument("a model file (model.npz)")
    format: str = option(choice(*FORMATS), REQUIRED, f"the output format: {', '.join(FORMATS)}")
    out: str | None = option(text, None, "the output file",
                             shown="MODEL with the format's suffix")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to an argparse subparsers object."""
    return add_command(
        subparsers, "export", ExportOptions, run,
        help="write a saved model in another format (ONNX)",
        description="Write MODEL (a model file written by `backprop train` or net.save) as an "
        "ONNX graph (opset 17) that onnxruntime and other runtimes can run.",
    )


def run(o: ExportOptions) -> int:
    net = load_model(o.model)
    out = Path(o.out) if o.out else Path(o.model).with_suffix(f".{o.format}")
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
