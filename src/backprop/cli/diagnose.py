"""``backprop diagnose DATASET``: train while recording diagnostics, and say what they mean.

    backprop diagnose digits --layers 32,32 --activation sigmoid --init small_random
    backprop diagnose digits --compare                       # the classic experiment
    backprop diagnose digits --compare sigmoid:small_random,tanh:xavier_uniform,relu:he \\
        --depths 2,5,10 --width 32
    backprop diagnose digits --compare optimizer:sgd,momentum,adam
    backprop diagnose digits --compare batch-norm --activation sigmoid --init small_random
    backprop diagnose digits --compare batch-size:1,32,full

One network (train's options, train's defaults) is trained with a
:class:`Diagnostics` callback; the command prints the reading of
:func:`read_diagnostics` and writes into --out: report.html (or report.md
with --format markdown), gradients.png, update_ratio.png, units.png and
diagnostics.json (the raw records, the loss per epoch and the reading).

--compare trains one network per configuration (a column: activation × init,
an optimizer, without or with batch norm, a batch size; see
:mod:`.diagnose_compare`) and depth (the number of weight layers: depth − 1
hidden layers of --width units), each on the same data from the same seed,
and writes compare.png (a grid of gradient-norm curves, depths down,
configurations across, one shared log scale), a table of each one's verdict
and advice drawn from that table. With no value it runs the classic
vanishing-gradient experiment: sigmoid with small random weights against ReLU
with He initialization, at depths 2, 5 and 10; a compare run defaults to plain
SGD (lr 0.1) for 5 epochs, so that what the gradients do is what the weights
do. Bad values raise OptionError with a one-line message (exit status 2).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from backprop import spec
from backprop.cli import diagnose_plots as plots
from backprop.cli.building import build_network, build_optimizer, build_schedule
from backprop.cli.common import prepare_out, pyplot, training_arrays
from backprop.cli.diagnose_compare import (
    DEFAULT_COMPARE,
    Axis,
    compare_table,
    parse_compare,
    run_grid,
)
from backprop.cli.diagnose_compare import table_advice as advise
from backprop.cli.diagnose_output import (
    Run,
    dense_layers,
    every_text,
    final,
    fraction,
    run_json,
    setup_text,
    short,
    text_table,
    thresholds,
    write_json,
    wrote,
)
from backprop.cli.option_kinds import at_least, choice, text, whole, wholes
from backprop.cli.option_table import TrainingOptions
from backprop.cli.options import add_command, option
from backprop.cli.progress import Progress
from backprop.cli.report import FORMATS, Block, Heading, Image, Paragraph, Table, write_report
from backprop.datasets import Dataset
from backprop.errors import DivergenceError, OptionError
from backprop.network import Network
from backprop.teaching.diagnostics import Diagnostics
from backprop.teaching.reading import read_diagnostics

#: A compare run's defaults where train's differ (the options still win).
COMPARE_DEFAULTS: dict[str, Any] = {"optimizer": "sgd", "lr": 0.1, "epochs": 5}
#: --every by default: about this many recorded batches over the run.
RECORDS = 200
COMPARE_FORMS = ("ACT:INIT,... | optimizer:sgd,momentum,adam[@LR] | batch-norm | "
                 "batch-size:1,32,full")


def _diagnose_folder(dataset: str) -> str:
    return str(Path("runs") / f"{Path(dataset).stem}-diagnose")


@dataclass(frozen=True, kw_only=True)
class DiagnoseOptions(TrainingOptions):
    """diagnose's options: train's shared ones (its own output folder) and its own; the
    network is trained as train's, without the few train options fixed here."""

    batch_norm: bool = False  # --compare batch-norm adds it, before each hidden layer's σ
    freeze_biases: bool = False
    compiled_step: bool = False
    compiled: bool = False
    validation_split: float | None = None
    buffer_size: int | None = None
    out: str = option(text, _diagnose_folder, "output folder", shown="runs/DATASET-diagnose")
    every: int | None = option(whole, None, "record every N-th batch", check=at_least(1),
                               shown=f"about {RECORDS} records", metavar="N")
    format: str = option(choice(*FORMATS), "html", "report.html or report.md")
    compare: str | None = option(
        text, None,
        f"compare configurations, one of {COMPARE_FORMS} (with no value: {DEFAULT_COMPARE}); "
        "a compare run's defaults are "
        + ", ".join(f"--{name.replace('_', '-')} {value}"
                    for name, value in COMPARE_DEFAULTS.items())
        + "; optimizer columns without @LR or --lr take sgd 0.1, momentum 0.01, others 0.001",
        const=DEFAULT_COMPARE, metavar="WHAT")
    depths: list[int] = option(wholes(minimum=2, fewest=1, fewest_text="one depth, e.g. 2,5,10"),
                               [2, 5, 10], "with --compare: numbers of weight layers")
    width: int = option(whole, 32, "with --compare: units per hidden layer", check=at_least(1))


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``diagnose`` subcommand to an argparse subparsers object."""
    return add_command(
        subparsers, "diagnose", DiagnoseOptions, run,
        help="train while recording per-layer diagnostics; report what they mean",
        description="Train a network (train's options) while recording per-layer gradient "
        "norms, update/weight ratios and dead/saturated units; print a reading of them and "
        "write a report with plots into --out. --compare trains several configurations "
        "(activation × init, optimizers, batch norm, batch sizes) at several depths on the "
        "same data and seed, side by side.",
    )


# -- options ---------------------------------------------------------------------------
def compare_axis(o: DiagnoseOptions, compare: str) -> Axis:
    """What --compare varies; OptionError on a bad value or an option that clashes with it."""
    axis = parse_compare(compare, o.lr if "lr" in o.given else None)
    clashing = ["layers", *(("activation", "init") if axis.sets_network else ())]
    for name in clashing:
        if name in o.given:
            raise OptionError(f"--{name} does not go with --compare {compare}, which sets "
                              "each network's layers from --depths and --width"
                              + (" and its activation and init" if axis.sets_network else ""))
    if axis.kind == "batch_size" and "batch_size" in o.given:
        raise OptionError("--batch-size does not go with --compare batch-size:...")
    if axis.kind == "optimizer" and "optimizer" in o.given:
        raise OptionError("--optimizer does not go with --compare optimizer:...")
    return axis


# -- training ----------------------------------------------------------------------------
def _every(o: TrainingOptions, n_samples: int, every: int | None) -> int:
    if every is not None:
        return every
    batch_size = o.batch_size or n_samples  # None: the whole training set
    batches = int(o.epochs) * math.ceil(n_samples / int(batch_size))
    return max(1, round(batches / RECORDS))


def with_batch_norm(net: Network) -> Network:
    """The same network with batch norm in each hidden layer (Dense without bias → BatchNorm
    → σ, as :mod:`backprop.spec` places it), from the same initial weights W."""
    normed = spec.build_network(replace(spec.network_spec_of(net), batch_norm=True, seed=0))
    dense = dense_layers(net)
    for old, new in zip(dense, dense_layers(normed), strict=True):
        new.W = old.W
        if new.b is not None and old.b is not None:
            new.b = old.b
    return normed


def train_one(o: TrainingOptions, data: Dataset, arrays: tuple[Any, ...], every: int,
              label: str, *, verbose: bool, batch_norm: bool = False) -> Run:
    """Train the network ``o`` describes on arrays = (X, y, X_test, y_test), recording."""
    X, y, X_test, y_test = arrays
    net = build_network(o, data)
    if batch_norm:
        net = with_batch_norm(net)
    diag = Diagnostics(every=every)
    progress = Progress(quiet=not verbose, json_lines=False)
    diverged = None
    start = time.perf_counter()
    try:
        # overflow on the way to a divergence is a finding here, not a warning
        with np.errstate(over="ignore", invalid="ignore"):
            net.fit(X, y, epochs=o.epochs, batch_size=o.batch_size,
                    optimizer=build_optimizer(o), schedule=build_schedule(o),
                    clip_norm=o.clip_norm, callbacks=[progress, diag])
    except DivergenceError as error:
        diverged = str(error)
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    with np.errstate(over="ignore", invalid="ignore"):  # weights left by a divergence
        trained = net.evaluate(X, y)
        test = None if X_test is None or y_test is None else net.evaluate(X_test, y_test)
    reading = read_diagnostics(diag.records, [row["loss"] for row in progress.rows],
                               diverged=diverged, accuracy=trained.get("accuracy"),
                               n_classes=data.n_classes if net.is_classifier else None,
                               r2=trained.get("r2"), network=net)
    return Run(label, len(dense_layers(net)), net, diag, progress.rows, reading, seconds, test,
               diverged)


# -- the reports ---------------------------------------------------------------------------
def _single_report(run: Run, data: Dataset, o: DiagnoseOptions, X: np.ndarray,
                   images: list[Path]) -> list[Block]:
    widths = "-".join(str(w) for w in [run.net.n_inputs, *o.layers, run.net.n_outputs])
    records = int(run.reading.stats["records"])
    blocks: list[Block] = [
        Heading(f"backprop diagnose: {data.name}", 1),
        Paragraph(f"A {widths} network ({o.activation} hidden layers, init {o.init}): "
                  f"{setup_text(o, X)}; diagnostics recorded {every_text(run.diagnostics.every)} "
                  f"({records} batches). {final(run)}; {run.seconds:.1f} s."),
        Heading("Reading"),
        Paragraph(run.reading.paragraph),
        Paragraph(f"Verdict: {run.reading.verdict}."),
        Heading("Per layer"),
        Paragraph("Medians over the recorded batches; dead and saturated fractions are means "
                  "over the second half of training."),
        Table(["layer", "units", "median ‖∂L/∂W‖", "median ‖ΔW‖/‖W‖", "dead", "saturated"],
              [[f"{int(row['layer'])}", f"{layer.n_in} → {layer.n_out} "
                f"{layer.activation.name}", short(row["grad_norm_W"]),
                short(row["update_ratio"]), fraction(row["dead_fraction"]),
                fraction(row["saturated_fraction"])]
               # (no rows when training diverged before a batch was recorded)
               for row, layer in zip(run.reading.layers, dense_layers(run.net), strict=False)]),
    ]
    for path, title in zip(images, ("Gradient norms", "Update/weight ratio",
                                    "Dead and saturated units"), strict=False):
        blocks += [Heading(title), Image(path.name, title)]
    return blocks + thresholds()


def _compare_report(runs: list[Run], advice: list[dict[str, Any]], data: Dataset,
                    o: DiagnoseOptions, X: np.ndarray, image: Path | None) -> list[Block]:
    header, rows = compare_table(runs)
    blocks: list[Block] = [
        Heading(f"backprop diagnose --compare: {data.name}", 1),
        Paragraph(f"Every network trained on the same data from the same seed and the same "
                  f"initial weights: {setup_text(o, X)} unless its column says otherwise. "
                  f"Depth is the number of weight layers: depth − 1 hidden layers of {o.width} "
                  "units, then the output layer. The gradient-norm curves share one log "
                  "scale; layer 1 is the darkest."),
    ]
    if image is not None:
        blocks.append(Image(image.name, "gradient norms per layer, by configuration and depth"))
    blocks += [Table(header, rows), Heading("What the table advises")]
    blocks += [Paragraph(piece["text"]) for piece in advice]
    blocks.append(Heading("Readings"))
    for run in runs:
        blocks += [Heading(f"{run.label}, depth {run.depth}", 3), Paragraph(run.reading.facts)]
    return blocks + thresholds()


# -- the command ---------------------------------------------------------------------------
def _run_single(o: DiagnoseOptions, out: Path, data: Dataset, arrays: tuple[Any, ...],
                plt: Any) -> None:
    every = _every(o, arrays[0].shape[0], o.every)
    one = train_one(o, data, arrays, every, data.name, verbose=True)
    images = ([] if plt is None else
              [f(out, one.diagnostics.as_arrays(), plt) for f in
               (plots.gradients_figure, plots.updates_figure, plots.units_figure)])
    report = write_report(out, _single_report(one, data, o, arrays[0], images), o.format,
                          f"backprop diagnose: {data.name}")
    document = write_json(out, {"dataset": data.name, "config": o.values(), **run_json(one)})
    print(f"\n{one.reading.paragraph}\n\nverdict: {one.reading.verdict}")
    print(wrote([report, *images, document]))


def _run_compare(o: DiagnoseOptions, axis: Axis, out: Path, data: Dataset,
                 arrays: tuple[Any, ...], plt: Any) -> None:
    n_samples = arrays[0].shape[0]

    def train(options: DiagnoseOptions, label: str, batch_norm: bool) -> Run:
        every = _every(options, n_samples, o.every)
        return train_one(options, data, arrays, every, label, verbose=False,
                         batch_norm=batch_norm)

    grid = run_grid(axis, o.depths, o.width, o, n_samples, train)
    runs = [one for row in grid for one in row]
    advice = advise(grid)
    image = None if plt is None else plots.compare_figure(
        out, [[(f"{r.label}, depth {r.depth}", r.diagnostics.as_arrays(), r.reading.verdict)
               for r in row] for row in grid], plt)
    report = write_report(out, _compare_report(runs, advice, data, o, arrays[0], image),
                          o.format, f"backprop diagnose --compare: {data.name}")
    document = write_json(out, {"dataset": data.name, "config": o.values(),
                                "axis": axis.kind, "compare": [c.spec for c in axis.columns],
                                "depths": o.depths, "width": o.width, "advice": advice,
                                "runs": [run_json(r) for r in runs]})
    header, rows = compare_table(runs)
    print(f"\n{text_table(header, rows)}\n")
    for piece in advice:
        print(piece["text"])
    print()
    for one in runs:
        print(f"{one.label}, depth {one.depth}: {one.reading.facts}\n")
    print(wrote([report, *([image] if image else []), document]))


def run(o: DiagnoseOptions) -> int:
    axis = None if o.compare is None else compare_axis(o, o.compare)
    if axis is None and not o.given.isdisjoint({"depths", "width"}):
        raise OptionError("--depths and --width go with --compare")
    if axis is not None:
        o = o.with_defaults(COMPARE_DEFAULTS)
    out = prepare_out(o.out)
    data, X, y, X_test, y_test, _ = training_arrays(o.dataset, o)
    print(data.summary())
    if axis is not None:
        _run_compare(o, axis, out, data, (X, y, X_test, y_test), pyplot())
    else:
        _run_single(o, out, data, (X, y, X_test, y_test), pyplot())
    return 0
