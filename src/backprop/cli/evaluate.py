"""``backprop evaluate MODEL DATASET``: a saved model's metrics on a dataset's test split.

A CSV or NPZ file without a test split is evaluated whole. The scaling
fitted at training time (kept in the model file) is applied first.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from backprop.cli.common import (
    check_targets,
    labels_for_model,
    load_data,
    load_model,
    prepare_inputs,
    trained_class_names,
)
from backprop.cli.option_kinds import flag, wholes
from backprop.cli.options import Options, add_command, argument, option
from backprop.cli.train import metric_label


@dataclass(frozen=True, kw_only=True)
class EvaluateOptions(Options):
    model: str = argument("a model file written by `backprop train` (model.npz)")
    dataset: str = argument("a dataset name or a .csv/.npz path")
    classes: list[int] | None = option(wholes(minimum=0), None,
                                       "keep only these classes, e.g. 0,1 (as in training); "
                                       "none: the classes the model was trained on")
    json: bool = option(flag, False, "print the metrics as JSON")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``evaluate`` subcommand to an argparse subparsers object."""
    return add_command(
        subparsers, "evaluate", EvaluateOptions, run,
        help="metrics of a saved model on a dataset's test split",
        description="Loss (and accuracy for classification) of a saved model on the test "
        "split of DATASET, or on the whole file when it has no test split.",
    )


def run(o: EvaluateOptions) -> int:
    net = load_model(o.model)
    data = load_data(o.dataset, o.classes)
    if data.X_test is not None and data.y_test is not None:
        X, y, split = data.X_test, data.y_test, "test"
    else:
        X, y, split = data.X_train, data.y_train, "all"
    if trained_class_names(net) is None:
        check_targets(net, data)
    # labels by name through the model's own classes: a file may hold only some of them
    trained_on_some = o.classes is None and bool(net.metadata.get("classes"))
    X, y = labels_for_model(net, data, X, y, keep_trained=trained_on_some)
    X = prepare_inputs(net, X, o.dataset)
    metrics = net.evaluate(X, y)
    result = {"model": o.model, "dataset": data.name, "split": split,
              "n_samples": int(X.shape[0]), **metrics}
    if o.json:
        print(json.dumps(result))
    else:
        print(f"{data.name} ({split}, {X.shape[0]} samples): "
              + "  ".join(f"{metric_label(k, net.loss.name)} {v:.4f}"
                          for k, v in metrics.items()))
    return 0
