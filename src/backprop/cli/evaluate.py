"""``backprop evaluate MODEL DATASET``: a saved model's metrics on a dataset's test split.

A CSV or NPZ file without a test split is evaluated whole. The scaling
fitted at training time (kept in the model file) is applied first.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from backprop.cli.common import (
    check_targets,
    labels_for_model,
    load_data,
    load_model,
    prepare_inputs,
    trained_class_names,
)
from backprop.cli.train import metric_label


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``evaluate`` subcommand to an argparse subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "evaluate",
        help="metrics of a saved model on a dataset's test split",
        description="Loss (and accuracy for classification) of a saved model on the test "
        "split of DATASET, or on the whole file when it has no test split.",
    )
    parser.add_argument("model", help="a model file written by `backprop train` (model.npz)")
    parser.add_argument("dataset", help="a dataset name or a .csv/.npz path")
    parser.add_argument("--classes", help="keep only these classes, e.g. 0,1 (as in training)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of errors")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    net = load_model(args.model)
    data = load_data(args.dataset, args.classes)
    if data.X_test is not None and data.y_test is not None:
        X, y, split = data.X_test, data.y_test, "test"
    else:
        X, y, split = data.X_train, data.y_train, "all"
    if trained_class_names(net) is None:
        check_targets(net, data)
    # labels by name through the model's own classes: a file may hold only some of them
    trained_on_some = args.classes is None and bool(net.metadata.get("classes"))
    X, y = labels_for_model(net, data, X, y, keep_trained=trained_on_some)
    X = prepare_inputs(net, X, args.dataset)
    metrics = net.evaluate(X, y)
    result = {"model": args.model, "dataset": data.name, "split": split,
              "n_samples": int(X.shape[0]), **metrics}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{data.name} ({split}, {X.shape[0]} samples): "
              + "  ".join(f"{metric_label(k, net.loss.name)} {v:.4f}"
                          for k, v in metrics.items()))
    return 0
