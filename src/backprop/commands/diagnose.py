"""``backprop diagnose DATASET``: train while recording diagnostics, and say what they mean.

    backprop diagnose digits --layers 32,32 --activation sigmoid --init small_random
    backprop diagnose digits --compare                       # the classic experiment
    backprop diagnose digits --compare sigmoid:small_random,tanh:xavier_uniform,relu:he \\
        --depths 2,5,10 --width 32

One network (train's options, train's defaults) is trained with a
:class:`Diagnostics` callback; the command prints the reading of
:func:`read_diagnostics` and writes into --out: report.html (or report.md
with --format markdown), gradients.png, update_ratio.png, units.png and
diagnostics.json (the raw records, the loss per epoch and the reading).

--compare trains one network per configuration ACTIVATION:INIT and depth
(the number of weight layers: depth − 1 hidden layers of --width units),
each on the same data from the same seed, and writes compare.png (a grid
of gradient-norm curves, depths down, configurations across, one shared
log scale) and a table of each one's verdict. With no value it runs the
classic vanishing-gradient experiment: sigmoid with small random weights
against ReLU with He initialization, at depths 2, 5 and 10; a compare run
defaults to plain SGD (lr 0.1) for 5 epochs, so that what the gradients do
is what the weights do. Bad values raise OptionError with a one-line
message (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..activations import activation_names
from ..datasets import Dataset
from ..diagnostics import Diagnostics
from ..errors import DivergenceError, OptionError
from ..initializers import INIT_NAMES
from ..network import Network
from ..reading import THRESHOLDS, Reading, number, percent, read_diagnostics
from . import diagnose_plots as plots
from .building import build_network, build_optimizer, build_schedule
from .common import parse_list, prepare_out, pyplot, training_arrays
from .option_table import DIAGNOSE_OPTIONS as OPTIONS
from .options import add_options, resolve
from .progress import Progress
from .report import FORMATS, Block, Heading, Image, Paragraph, Table, write_report

#: --compare with no value: the classic vanishing-gradient experiment.
DEFAULT_COMPARE = "sigmoid:small_random,relu:he"
DEFAULT_DEPTHS = "2,5,10"
DEFAULT_WIDTH = 32
#: A compare run's defaults where train's differ (the options still win).
COMPARE_DEFAULTS: dict[str, Any] = {"optimizer": "sgd", "lr": 0.1, "epochs": 5}
#: --every by default: about this many recorded batches over the run.
RECORDS = 200


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``diagnose`` subcommand to an argparse subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "diagnose",
        help="train while recording per-layer diagnostics; report what they mean",
        description="Train a network (train's options) while recording per-layer gradient "
        "norms, update/weight ratios and dead/saturated units; print a reading of them and "
        "write a report with plots into --out. --compare trains several configurations at "
        "several depths on the same data and seed, side by side.",
    )
    parser.add_argument("dataset", help="a dataset name (see `backprop datasets`) or a "
                        ".csv/.npz path")
    add_options(parser, OPTIONS)
    parser.add_argument("--every", type=int, default=None, metavar="N",
                        help=f"record every N-th batch (default: about {RECORDS} records)")
    parser.add_argument("--format", choices=FORMATS, default="html",
                        help="report.html or report.md (default: html)")
    compare_defaults = ", ".join(f"--{name.replace('_', '-')} {value}"
                                 for name, value in COMPARE_DEFAULTS.items())
    parser.add_argument("--compare", nargs="?", const=DEFAULT_COMPARE, default=None,
                        metavar="ACT:INIT,...",
                        help=f"compare configurations (with no value: {DEFAULT_COMPARE}); "
                        f"a compare run's defaults are {compare_defaults}")
    parser.add_argument("--depths", default=None,
                        help="with --compare: numbers of weight layers "
                        f"(default: {DEFAULT_DEPTHS})")
    parser.add_argument("--width", default=None,
                        help=f"with --compare: units per hidden layer (default: {DEFAULT_WIDTH})")
    parser.set_defaults(run=run)
    return parser


# -- options ---------------------------------------------------------------------------
def parse_configs(text: str) -> list[tuple[str, str]]:
    """"sigmoid:small_random,relu:he" → [("sigmoid", "small_random"), ("relu", "he")];
    ACTIVATION alone means init auto."""
    configs: list[tuple[str, str]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        activation, _, init = part.partition(":")
        activation, init = activation.strip(), init.strip() or "auto"
        if activation not in activation_names():
            raise OptionError(f"--compare {part!r}: unknown activation {activation!r}; valid: "
                             f"{', '.join(activation_names())}")
        if init not in INIT_NAMES:
            raise OptionError(f"--compare {part!r}: unknown init {init!r}; valid: "
                             f"{', '.join(INIT_NAMES)}")
        if (activation, init) in configs:
            raise OptionError(f"--compare {text!r}: {part!r} is given twice")
        configs.append((activation, init))
    if not configs:
        raise OptionError(f"--compare {text!r}: give at least one ACTIVATION:INIT")
    return configs


def _compare_options(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[int], int]:
    for name in ("layers", "activation", "init"):
        if getattr(args, name) is not None:
            raise OptionError(f"--{name} does not go with --compare, which sets each network's "
                             "activation and init, and its layers from --depths and --width")
    configs = parse_configs(args.compare)
    depths = parse_list(args.depths or DEFAULT_DEPTHS, "--depths", int, minimum=2, fewest=1,
                        fewest_text="one depth, e.g. 2,5,10")
    widths = parse_list(args.width or str(DEFAULT_WIDTH), "--width", int, minimum=1)
    if len(widths) != 1:
        raise OptionError(f"--width {args.width!r}: give one number of units")
    return configs, depths, widths[0]


def _check_every(every: int | None) -> None:
    if every is not None and every < 1:
        raise OptionError(f"--every must be at least 1, got {every}")


# -- training ----------------------------------------------------------------------------
@dataclass
class Run:
    """One network trained with diagnostics."""

    label: str
    depth: int
    net: Network
    diagnostics: Diagnostics
    history: list[dict[str, float]]
    reading: Reading
    seconds: float
    test: dict[str, float] | None
    diverged: str | None


def _every(o: dict[str, Any], n_samples: int, every: int | None) -> int:
    if every is not None:
        return every
    batch_size = o["batch_size"] or n_samples  # None: the whole training set
    batches = int(o["epochs"]) * math.ceil(n_samples / int(batch_size))
    return max(1, round(batches / RECORDS))


def train_one(o: dict[str, Any], data: Dataset, arrays: tuple[Any, ...], every: int,
              label: str, *, verbose: bool) -> Run:
    """Train the network ``o`` describes on arrays = (X, y, X_test, y_test), recording."""
    X, y, X_test, y_test = arrays
    net = build_network(o, data)
    diag = Diagnostics(every=every)
    progress = Progress(quiet=not verbose, json_lines=False)
    diverged = None
    start = time.perf_counter()
    try:
        # overflow on the way to a divergence is a finding here, not a warning
        with np.errstate(over="ignore", invalid="ignore"):
            net.fit(X, y, epochs=o["epochs"], batch_size=o["batch_size"],
                    optimizer=build_optimizer(o), schedule=build_schedule(o),
                    clip_norm=o["clip_norm"], callbacks=[progress, diag])
    except DivergenceError as error:
        diverged = str(error)
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    reading = read_diagnostics(diag.records, [row["loss"] for row in progress.rows],
                               diverged=diverged)
    test = None
    if X_test is not None and y_test is not None:
        with np.errstate(over="ignore", invalid="ignore"):  # weights left by a divergence
            test = net.evaluate(X_test, y_test)
    return Run(label, len(_dense(net)), net, diag, progress.rows, reading, seconds, test, diverged)


# -- output --------------------------------------------------------------------------------
def _json_safe(value: Any) -> Any:
    """NaN and inf as None, NumPy scalars as Python numbers, for strict JSON."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _run_json(run: Run) -> dict[str, Any]:
    return {"label": run.label, "depth": run.depth, "every": run.diagnostics.every,
            "network": run.net.config(), "seconds": run.seconds, "history": run.history,
            "test": run.test, "diverged": run.diverged, "reading": run.reading.as_dict(),
            "records": run.diagnostics.records}


def _write_json(out: Path, document: dict[str, Any]) -> Path:
    path = out / "diagnostics.json"
    path.write_text(json.dumps(_json_safe(document), indent=1) + "\n", encoding="utf-8")
    return path


def _final(run: Run) -> str:
    """"loss 0.12, accuracy 0.97" of the last epoch, and the test accuracy."""
    last = run.history[-1] if run.history else {}
    parts = [f"{key} {number(last[key], 3)}" for key in ("loss", "accuracy") if key in last]
    if run.test and "accuracy" in run.test:
        parts.append(f"test accuracy {number(run.test['accuracy'], 3)}")
    return "Last epoch: " + ", ".join(parts) if parts else "No epoch completed"


def _every_text(every: int) -> str:
    return "at every batch" if every == 1 else f"every {every} batches"


def _number(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else number(value, digits)


def _fraction(value: float) -> str:
    return "-" if math.isnan(value) else percent(value)


def _thresholds() -> list[Block]:
    return [Heading("Thresholds"),
            Paragraph("The reading comes from these constants of backprop.reading; each "
                      "finding names the layers and the number that crossed one."),
            Table(["constant", "value", "meaning"],
                  [[name, number(value, 3), meaning] for name, value, meaning in THRESHOLDS])]


def _setup(o: dict[str, Any], X: np.ndarray) -> str:
    return (f"{X.shape[0]} training samples, {o['optimizer']} (lr {o['lr']:g}), "
            f"{o['epochs']} epochs of batches of {o['batch_size']}, seed {o['seed']}")


def _single_report(run: Run, data: Dataset, o: dict[str, Any], X: np.ndarray,
                   images: list[Path]) -> list[Block]:
    widths = "-".join(str(w) for w in [run.net.n_inputs, *o["layers"], run.net.n_outputs])
    records = int(run.reading.stats["records"])
    blocks: list[Block] = [
        Heading(f"backprop diagnose: {data.name}", 1),
        Paragraph(f"A {widths} network ({o['activation']} hidden layers, init {o['init']}): "
                  f"{_setup(o, X)}; diagnostics recorded {_every_text(run.diagnostics.every)} "
                  f"({records} batches). {_final(run)}; {run.seconds:.1f} s."),
        Heading("Reading"),
        Paragraph(run.reading.paragraph),
        Paragraph(f"Verdict: {run.reading.verdict}."),
        Heading("Per layer"),
        Paragraph("Medians over the recorded batches; dead and saturated fractions are means "
                  "over the second half of training."),
        Table(["layer", "units", "median ‖∂L/∂W‖", "median ‖ΔW‖/‖W‖", "dead", "saturated"],
              [[f"{int(row['layer'])}", f"{layer.n_in} → {layer.n_out} "
                f"{layer.activation.name}", _number(row["grad_norm_W"]),
                _number(row["update_ratio"]), _fraction(row["dead_fraction"]),
                _fraction(row["saturated_fraction"])]
               # (no rows when training diverged before a batch was recorded)
               for row, layer in zip(run.reading.layers, _dense(run.net), strict=False)]),
    ]
    for path, title in zip(images, ("Gradient norms", "Update/weight ratio",
                                    "Dead and saturated units"), strict=False):
        blocks += [Heading(title), Image(path.name, title)]
    return blocks + _thresholds()


def _dense(net: Network) -> list[Any]:
    from ..layers import Dense

    return [layer for layer in net.layers if isinstance(layer, Dense)]


def _compare_table(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    header = ["configuration", "depth", "‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖", "loss", "accuracy",
              "verdict"]
    rows = []
    for run in runs:
        last = run.history[-1] if run.history else {}
        rows.append([run.label, str(run.depth), _number(run.reading.stats["first_last_ratio"]),
                     _number(last.get("loss", math.nan), 3),
                     _number(last.get("accuracy", math.nan), 3), run.reading.verdict])
    return header, rows


def _compare_report(runs: list[Run], data: Dataset, o: dict[str, Any], X: np.ndarray,
                    width: int, image: Path | None) -> list[Block]:
    header, rows = _compare_table(runs)
    blocks: list[Block] = [
        Heading(f"backprop diagnose --compare: {data.name}", 1),
        Paragraph(f"Every network trained on the same data from the same seed: {_setup(o, X)}. "
                  f"Depth is the number of weight layers: depth − 1 hidden layers of {width} "
                  "units, then the output layer. The gradient-norm curves share one log "
                  "scale; layer 1 is the darkest."),
    ]
    if image is not None:
        blocks.append(Image(image.name, "gradient norms per layer, by configuration and depth"))
    blocks += [Table(header, rows), Heading("Readings")]
    for run in runs:
        blocks += [Heading(f"{run.label}, depth {run.depth}", 3),
                   Paragraph(run.reading.paragraph)]
    return blocks + _thresholds()


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


# -- the command ---------------------------------------------------------------------------
def _wrote(paths: list[Path]) -> str:
    names = [str(paths[0]), *(path.name for path in paths[1:])]
    return "wrote " + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0])


def _run_single(args: argparse.Namespace, o: dict[str, Any], out: Path, data: Dataset,
                arrays: tuple[Any, ...], every: int, plt: Any) -> None:
    one = train_one(o, data, arrays, every, data.name, verbose=True)
    images = ([] if plt is None else
              [f(out, one.diagnostics.as_arrays(), plt) for f in
               (plots.gradients_figure, plots.updates_figure, plots.units_figure)])
    report = write_report(out, _single_report(one, data, o, arrays[0], images), args.format,
                          f"backprop diagnose: {data.name}")
    document = _write_json(out, {"dataset": data.name,
                                 "config": {"dataset": args.dataset, **o}, **_run_json(one)})
    print(f"\n{one.reading.paragraph}\n\nverdict: {one.reading.verdict}")
    print(_wrote([report, *images, document]))


def _run_compare(args: argparse.Namespace, o: dict[str, Any], out: Path, data: Dataset,
                 arrays: tuple[Any, ...], every: int, plt: Any) -> None:
    configs, depths, width = _compare_options(args)
    runs: list[Run] = []
    grid = []
    for depth in depths:
        row = []
        for activation, init in configs:
            label = f"{activation} + {init}"
            options = {**o, "activation": activation, "init": init,
                       "layers": [width] * (depth - 1)}
            one = train_one(options, data, arrays, every, label, verbose=False)
            print(f"{label}, depth {depth}: {one.reading.verdict} ({one.seconds:.2f} s)")
            runs.append(one)
            row.append((f"{label}, depth {depth}", one.diagnostics.as_arrays(),
                        one.reading.verdict))
        grid.append(row)
    image = None if plt is None else plots.compare_figure(out, grid, plt)
    report = write_report(out, _compare_report(runs, data, o, arrays[0], width, image),
                          args.format, f"backprop diagnose --compare: {data.name}")
    document = _write_json(out, {"dataset": data.name, "config": {"dataset": args.dataset, **o},
                                 "compare": [f"{a}:{i}" for a, i in configs], "depths": depths,
                                 "width": width, "runs": [_run_json(r) for r in runs]})
    header, rows = _compare_table(runs)
    print(f"\n{_text_table(header, rows)}\n")
    for one in runs:
        print(f"{one.label}, depth {one.depth}: {one.reading.paragraph}\n")
    print(_wrote([report, *([image] if image else []), document]))


def run(args: argparse.Namespace) -> int:
    _check_every(args.every)
    compare = args.compare is not None
    if compare:
        _compare_options(args)  # check them before anything is written or trained
    elif args.depths is not None or args.width is not None:
        raise OptionError("--depths and --width go with --compare")
    o = resolve(args, OPTIONS, args.dataset, COMPARE_DEFAULTS if compare else None)
    out = prepare_out(o["out"])
    data, X, y, X_test, y_test, _ = training_arrays(args.dataset, o)
    every = _every(o, X.shape[0], args.every)
    print(data.summary())
    (_run_compare if compare else _run_single)(args, o, out, data, (X, y, X_test, y_test),
                                               every, pyplot())
    return 0
