"""``backprop diagnose --compare``: one column per configuration, one row per depth.

What a column varies, by the value of --compare:

    ACT:INIT,...                  activation × initialization (ACT alone: init auto)
    optimizer:sgd,momentum,adam   the optimizer; NAME@LR sets its learning rate
                                  (otherwise --lr, or sgd 0.1, momentum 0.01, others 0.001)
    batch-norm                    without and with batch normalization after each
                                  hidden layer
    batch-size:1,32,full          online (1), mini-batch and full-batch (full or all)

Every network of a row starts from the same initial weights (same seed, same
widths; batch normalization adds no random draw), trains on the same data,
and its gradient-norm curves go into one panel of compare.png. The advice
under the table comes from the table itself (:func:`table_advice`): it names
only configurations that the table shows training at that depth.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from backprop.cli.diagnose_output import Run, short
from backprop.cli.option_table import OPTIMIZER_NAMES, TrainingOptions, batch_size_kind
from backprop.errors import OptionError
from backprop.nn.activations import activation_names
from backprop.nn.initializers import INIT_NAMES

#: --compare with no value: the classic vanishing-gradient experiment.
DEFAULT_COMPARE = "sigmoid:small_random,relu:he"
#: An optimizer column's learning rate when neither NAME@LR nor --lr gives one:
#: momentum 0.9 takes 1/(1 − 0.9) = 10 times sgd's step, hence 0.01 against 0.1.
OPTIMIZER_LR = {"sgd": 0.1, "momentum": 0.01}
ADAPTIVE_LR = 0.001
#: Verdict kinds that mean a network did not train.
TROUBLE = ("not_learning", "symmetric", "vanishing", "exploding")


@dataclass(frozen=True)
class Column:
    """One configuration: its label, the options it changes, batch norm or not."""

    label: str
    changes: dict[str, Any] = field(default_factory=dict)
    batch_norm: bool = False
    spec: str = ""


@dataclass(frozen=True)
class Axis:
    """What --compare varies (``kind``) and its columns."""

    kind: str
    columns: tuple[Column, ...]

    @property
    def sets_network(self) -> bool:
        """Whether the columns choose activation and init (so --activation/--init clash)."""
        return self.kind == "activation"


def _parts(text: str, what: str) -> list[str]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise OptionError(f"--compare {text!r}: give at least one {what}")
    if len(set(parts)) != len(parts):
        twice = next(p for p in parts if parts.count(p) > 1)
        raise OptionError(f"--compare {text!r}: {twice!r} is given twice")
    return parts


def _activations(text: str) -> Axis:
    columns: list[Column] = []
    for part in _parts(text, "ACTIVATION:INIT"):
        activation, _, init = part.partition(":")
        activation, init = activation.strip(), init.strip() or "auto"
        if activation not in activation_names():
            raise OptionError(f"--compare {part!r}: unknown activation {activation!r}; valid: "
                              f"{', '.join(activation_names())}")
        if init not in INIT_NAMES:
            raise OptionError(f"--compare {part!r}: unknown init {init!r}; valid: "
                              f"{', '.join(INIT_NAMES)}")
        spec = f"{activation}:{init}"
        if spec in (c.spec for c in columns):
            raise OptionError(f"--compare {text!r}: {part!r} is given twice")
        columns.append(Column(f"{activation} + {init}",
                              {"activation": activation, "init": init}, spec=spec))
    return Axis("activation", tuple(columns))


def _optimizers(text: str, lr: float | None) -> Axis:
    columns = []
    for part in _parts(text, "optimizer"):
        name, _, rate = part.partition("@")
        name = name.strip()
        if name not in OPTIMIZER_NAMES:
            raise OptionError(f"--compare optimizer: unknown optimizer {name!r}; valid: "
                              f"{', '.join(OPTIMIZER_NAMES)}")
        if rate:
            try:
                value = float(rate)
            except ValueError:
                raise OptionError(f"--compare optimizer: {part!r}: {rate!r} is not a "
                                  "number") from None
            if not value > 0 or value == float("inf"):
                raise OptionError(f"--compare optimizer: {part!r}: the learning rate must "
                                  "be positive")
        else:
            value = lr if lr is not None else OPTIMIZER_LR.get(name, ADAPTIVE_LR)
        columns.append(Column(f"{name} lr {value:g}", {"optimizer": name, "lr": value},
                              spec=f"{name}@{value:g}"))
    return Axis("optimizer", tuple(columns))


def _batch_sizes(text: str) -> Axis:
    columns = []
    for part in _parts(text, "batch size"):
        size = batch_size_kind(part, "--compare batch-size")
        if size is None:
            columns.append(Column("full batch", {"batch_size": 0}, spec="full"))
            continue
        label = "online (batch 1)" if size == 1 else f"batch {size}"
        columns.append(Column(label, {"batch_size": size}, spec=str(size)))
    return Axis("batch_size", tuple(columns))


def parse_compare(text: str, lr: float | None = None) -> Axis:
    """The axis a --compare value names (see the module docstring); OptionError if bad.

    ``lr`` is --lr when given: the optimizer columns' learning rate unless NAME@LR."""
    head, sep, rest = text.partition(":")
    head = head.strip().lower()
    if head == "optimizer" and sep:
        return _optimizers(rest, lr)
    if head in ("batch-size", "batch_size") and sep:
        return _batch_sizes(rest)
    if head in ("batch-norm", "batch_norm", "batchnorm"):
        if sep:
            raise OptionError(f"--compare {text!r}: batch-norm takes no values (it "
                              "compares without and with)")
        return Axis("batch_norm", (Column("no batch norm", spec="off"),
                                   Column("batch norm", batch_norm=True, spec="on")))
    return _activations(text)


GridOptions = TypeVar("GridOptions", bound=TrainingOptions)


def column_options(o: GridOptions, column: Column, n_samples: int) -> GridOptions:
    """The options of one column: ``o`` with the column's changes (full batch = all samples)."""
    options = dataclasses.replace(o, **column.changes)
    if options.batch_size == 0:
        options = dataclasses.replace(options, batch_size=n_samples)
    return options


def run_grid(axis: Axis, depths: list[int], width: int, o: GridOptions, n_samples: int,
             train: Callable[[GridOptions, str, bool], Run]) -> list[list[Run]]:
    """Train every (depth, column): rows by depth, columns by configuration."""
    grid = []
    for depth in depths:
        row = []
        for column in axis.columns:
            options = dataclasses.replace(column_options(o, column, n_samples),
                                          layers=[width] * (depth - 1))
            one = train(options, column.label, column.batch_norm)
            print(f"{column.label}, depth {depth}: {one.reading.verdict} ({one.seconds:.2f} s)")
            row.append(one)
        grid.append(row)
    return grid


def trained(run: Run) -> bool:
    """Whether the run trained: none of the TROUBLE kinds in its reading."""
    return not any(kind in TROUBLE for kind in run.reading.kinds)


def last_loss(run: Run) -> float:
    return float(run.history[-1]["loss"]) if run.history else float("nan")


def table_advice(grid: list[list[Run]]) -> list[dict[str, Any]]:
    """One piece of advice per depth, drawn only from that row of the table.

    Each is {"depth", "trained" (labels), "failed" (labels), "use" (the label of
    the lowest final loss among those that trained, or None), "text"}.
    """
    advice = []
    for row in grid:
        depth = row[0].depth
        good = sorted((r for r in row if trained(r)), key=last_loss)
        bad = [r for r in row if not trained(r)]
        if good and bad:
            text = (f"At depth {depth}, {_names(good)} trained and {_names(bad, verdict=True)} "
                    f"did not: of these, use {good[0].label} at this depth (final loss "
                    f"{short(last_loss(good[0]), 3)}).")
        elif good:
            text = (f"At depth {depth}, every configuration trained; {good[0].label} reached "
                    f"the lowest loss ({short(last_loss(good[0]), 3)}).")
        else:
            text = (f"At depth {depth}, none of the configurations compared trained "
                    f"({_names(bad, verdict=True)}): none of them is a remedy at this depth.")
        advice.append({"depth": depth, "trained": [r.label for r in good],
                       "failed": [r.label for r in bad],
                       "use": good[0].label if good else None, "text": text})
    return advice


def _names(runs: list[Run], *, verdict: bool = False) -> str:
    names = [f"{r.label} ({r.reading.verdict})" if verdict else r.label for r in runs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def compare_table(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    header = ["configuration", "depth", "‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖", "first loss", "loss",
              "accuracy", "verdict"]
    rows = []
    for run in runs:
        last = run.history[-1] if run.history else {}
        first = run.history[0] if run.history else {}
        rows.append([run.label, str(run.depth), short(run.reading.stats["first_last_ratio"]),
                     short(first.get("loss", float("nan")), 5),
                     short(last.get("loss", float("nan")), 5),
                     short(last.get("accuracy", float("nan")), 3), run.reading.verdict])
    return header, rows
