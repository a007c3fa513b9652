"""``backprop train DATASET``: train an MLP, save the model, metrics and plots.

Options come from the command line, or from a TOML file (--config) whose
keys are the long option names (dashes or underscores); the command line
wins. They are declared once, in :class:`TrainOptions` (its shared part,
:class:`~backprop.cli.option_table.TrainingOptions`, with diagnose), and
``backprop train --help`` shows each one's default. A bad value raises
OptionError with a one-line message, which the ``backprop`` command turns
into exit status 2.

On MNIST the defaults give a 784-256-10 network (relu, softmax output,
He init) trained by Adam at lr 0.003 with a cosine schedule, batches of
128, for 4 epochs, without scaling; other datasets get two hidden layers of
32 units, Adam at lr 0.01, batches of 32, 50 epochs and standard scaling.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import platform
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop import __version__
from backprop.cli.building import build_network, build_optimizer, build_schedule
from backprop.cli.common import prepare_out, scaler_state, training_arrays, write_json
from backprop.cli.option_kinds import flag, non_negative, whole
from backprop.cli.option_table import TrainingOptions
from backprop.cli.options import add_command, option
from backprop.cli.plots import PLOT_FILES, write_plots
from backprop.cli.progress import Progress
from backprop.datasets import Dataset, Scaler
from backprop.files.run_folder import written_together
from backprop.network import Network
from backprop.training.callbacks import Callback

#: The files a run writes into --out; they replace the previous run's as one unit.
OUTPUTS = ("model.npz", "metrics.json", *PLOT_FILES)


@dataclass(frozen=True, kw_only=True)
class TrainOptions(TrainingOptions):
    """train's options: the shared ones (the network, optimizer, schedule, data) and its own."""

    early_stopping: int | None = option(
        whole, None, "stop after PATIENCE epochs without improvement; none: never",
        check=non_negative, metavar="PATIENCE")
    quiet: bool = option(flag, False, "print only errors")
    json_lines: bool = option(flag, False, "one JSON object per epoch on stdout")
    plots: bool = option(flag, True, "write no PNG plots")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to an argparse subparsers object."""
    return add_command(
        subparsers, "train", TrainOptions, run,
        help="train a network on a dataset; save model, metrics and plots",
        description="Train an MLP on a named dataset or a .csv/.npz file. Writes model.npz, "
        "metrics.json and PNG plots into --out. Defaults marked mnist apply to mnist.",
    )


# -- the command ---------------------------------------------------------------
def _versions() -> dict[str, str]:
    versions = {"backprop": __version__, "numpy": np.__version__,
                "python": platform.python_version()}
    for module in ("matplotlib", "rich"):  # read from their metadata: importing them is slow
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[module] = importlib.metadata.version(module)
    return versions


def scaling_line(kind: str, task: str) -> str:
    """The one line that says the inputs were rescaled, and in which units the model works."""
    how = ("standardized (mean 0, standard deviation 1)" if kind == "standard"
           else "scaled to [0, 1] (min-max)")
    targets = ("; the targets keep their own units, so predictions are in the data's units"
               if task == "regression" else "")
    return (f"inputs {how} with the training data's statistics, kept in the model file: "
            f"evaluate and predict take inputs in the data's own units{targets}")


def many_classes_hint(data: Dataset, o: TrainingOptions) -> str | None:
    """A note when a file's whole-number targets were taken as more classes than a tenth of
    the samples: a quantity (a price, a count) is more likely than so many classes."""
    n_classes, m = data.n_classes or 0, data.n_train
    if o.task != "auto" or data.task != "classification" or n_classes <= 10:
        return None
    if n_classes * 10 <= m:
        return None
    return (f"note: {n_classes} classes for {m} training samples; if the target is a quantity, "
            "train with --task regression")


def metric_label(name: str, loss: str) -> str:
    """A test metric's name as printed: the mse loss says it is half the mean squared error."""
    return "loss (½·mse)" if name == "loss" and loss == "mse" else name


def linear_model(net: Network, scaler: Scaler | None) -> dict[str, Any] | None:
    """For a network of linear layers only: y = A x + c in the data's own units (the input
    scaling folded in), as {"coefficients": A (n_out, n_in), "intercept": c}; else None."""
    from backprop.nn.layers import Dense

    if not all(isinstance(layer, Dense) and layer.activation.name == "linear"
               for layer in net.layers):
        return None
    points = np.vstack([np.zeros(net.n_inputs), np.eye(net.n_inputs)])  # 0 and e_i, raw units
    scaled = points if scaler is None else scaler.transform(points)
    outputs = net.forward(np.asarray(scaled, dtype=np.float64)).astype(np.float64)
    intercept = outputs[0]
    return {"coefficients": (outputs[1:] - intercept).T.tolist(),
            "intercept": intercept.tolist()}


def linear_model_line(affine: dict[str, Any]) -> str:
    """y = a·x + c, written out, one output after another."""
    equations = []
    for k, (row, c) in enumerate(zip(affine["coefficients"], affine["intercept"], strict=True)):
        names = ["x"] if len(row) == 1 else [f"x{i + 1}" for i in range(len(row))]
        terms = " + ".join(f"{a:.4g}·{name}" for a, name in zip(row, names, strict=True))
        target = "y" if len(affine["intercept"]) == 1 else f"y{k + 1}"
        equations.append(f"{target} = {terms} + {c:.4g}".replace("+ -", "− "))
    return "linear model in the data's own units: " + ";  ".join(equations)


def run(o: TrainOptions) -> int:
    out = prepare_out(o.out)
    data, X, y, X_test, y_test, scaler = training_arrays(o.dataset, o)
    net = build_network(o, data)
    optimizer = build_optimizer(o)
    schedule = build_schedule(o)
    net.metadata.update({
        "dataset": data.name,
        "task": data.task,
        "class_names": list(data.class_names) if data.class_names else None,
        "image_shape": list(data.image_shape) if data.image_shape else None,
        "classes": o.classes,
        "run_id": uuid.uuid4().hex,  # also in metrics.json: the two files of one run
    })
    if scaler is not None:
        net.metadata["scaler"] = scaler_state(scaler)
    say: Callable[[str], None] = (
        (lambda _text: None) if o.quiet or o.json_lines else print
    )
    say(f"{data.summary()}")
    hint = many_classes_hint(data, o)
    if hint:
        say(hint)
    if scaler is not None:
        say(scaling_line(scaler.kind, data.task))
    say(f"network: {'-'.join(str(w) for w in [net.n_inputs, *o.layers, net.n_outputs])}, "
        f"{net.n_params:,} parameters; {optimizer!r}")
    progress = Progress(quiet=o.quiet, json_lines=o.json_lines)
    callbacks: list[Callback] = [progress]
    if o.early_stopping is not None:
        from backprop.training.callbacks import EarlyStopping

        monitor = "val_loss" if o.validation_split else "loss"
        callbacks.append(EarlyStopping(monitor=monitor, patience=o.early_stopping,
                                       restore_best_weights=True))
    interrupted = False
    start = time.perf_counter()
    try:
        net.fit(X, y, epochs=o.epochs, batch_size=o.batch_size, optimizer=optimizer,
                validation_split=o.validation_split, schedule=schedule,
                clip_norm=o.clip_norm, callbacks=callbacks)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
    wall = time.perf_counter() - start
    metrics: dict[str, Any] = {
        "run_id": net.metadata["run_id"],
        "dataset": data.name,
        "task": data.task,
        "n_train": int(X.shape[0]),
        "n_test": 0 if X_test is None else int(X_test.shape[0]),
        "network": net.config(),
        "n_params": net.n_params,
        "epochs_run": len(progress.rows),
        "interrupted": interrupted,
        "wall_time_s": wall,
        "samples_per_s": progress.samples / max(wall, 1e-9),
        "history": progress.rows,
        "final": {k: v for k, v in (progress.rows[-1] if progress.rows else {}).items()
                  if k not in ("epoch", "seconds", "samples_per_s")},
        "test": None,
        "config": o.values(),
        "versions": _versions(),
    }
    if X_test is not None and y_test is not None:
        metrics["test"] = net.evaluate(X_test, y_test)
    affine = linear_model(net, scaler) if data.task == "regression" else None
    if affine is not None:
        metrics["linear_model"] = affine
    with written_together(out, OUTPUTS) as folder:  # the run's files replace the last run's
        net.save(str(folder / "model.npz"))
        write_json(folder / "metrics.json", metrics)
        if o.plots and not interrupted:
            write_plots(folder, net, data, progress.rows, X_test, y_test, scaler)
    if affine is not None:
        say(linear_model_line(affine))
    if metrics["test"] is not None:
        test = metrics["test"]
        parts = [f"test {metric_label(k, net.loss.name)} {v:.4f}" for k, v in test.items()]
        say("  ".join(parts))
    say(f"{len(progress.rows)} epochs in {wall:.1f}s "
        f"({metrics['samples_per_s']:,.0f} samples/s); wrote {out}/")
    if interrupted:
        print(f"backprop: interrupted; model saved to {out / 'model.npz'}", file=sys.stderr)
        return 130
    return 0
