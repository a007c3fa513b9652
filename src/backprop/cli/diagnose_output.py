"""What ``backprop diagnose`` writes: a run's record, diagnostics.json, numbers and tables."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop.cli.report import Block, Heading, Paragraph, Table
from backprop.errors import OptionError
from backprop.files.io import write_atomically
from backprop.network import Network
from backprop.teaching.diagnostics import Diagnostics
from backprop.teaching.reading import THRESHOLDS, Reading, number, percent

if TYPE_CHECKING:
    from backprop.cli.option_table import TrainingOptions


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


def json_safe(value: Any) -> Any:
    """NaN and inf as None, NumPy scalars as Python numbers, for strict JSON."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run_json(run: Run) -> dict[str, Any]:
    return {"label": run.label, "depth": run.depth, "every": run.diagnostics.every,
            "network": run.net.config(), "seconds": run.seconds, "history": run.history,
            "test": run.test, "diverged": run.diverged, "reading": run.reading.as_dict(),
            "records": run.diagnostics.records}


def write_json(out: Path, document: dict[str, Any]) -> Path:
    path = out / "diagnostics.json"
    data = (json.dumps(json_safe(document), indent=1) + "\n").encode("utf-8")
    write_atomically(path, lambda file: file.write(data), OptionError)
    return path


def final(run: Run) -> str:
    """"loss 0.12, accuracy 0.97" of the last epoch, and the test accuracy."""
    last = run.history[-1] if run.history else {}
    parts = [f"{key} {number(last[key], 3)}" for key in ("loss", "accuracy") if key in last]
    if run.test and "accuracy" in run.test:
        parts.append(f"test accuracy {number(run.test['accuracy'], 3)}")
    return "Last epoch: " + ", ".join(parts) if parts else "No epoch completed"


def every_text(every: int) -> str:
    return "at every batch" if every == 1 else f"every {every} batches"


def short(value: float, digits: int = 2) -> str:
    """A number, or "-" for NaN."""
    return "-" if math.isnan(value) else number(value, digits)


def fraction(value: float) -> str:
    return "-" if math.isnan(value) else percent(value)


def thresholds() -> list[Block]:
    return [Heading("Thresholds"),
            Paragraph("The reading comes from these constants of backprop.teaching.reading; each "
                      "finding names the layers and the number that crossed one."),
            Table(["constant", "value", "meaning"],
                  [[name, number(value, 3), meaning] for name, value, meaning in THRESHOLDS])]


def setup_text(o: TrainingOptions, X: np.ndarray) -> str:
    return (f"{X.shape[0]} training samples, {o.optimizer} (lr {o.lr:g}), "
            f"{o.epochs} epochs of batches of {o.batch_size}, seed {o.seed}")


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


def wrote(paths: list[Path]) -> str:
    names = [str(paths[0]), *(path.name for path in paths[1:])]
    return "wrote " + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0])


def dense_layers(net: Network) -> list[Any]:
    from backprop.nn.layers import Dense

    return [layer for layer in net.layers if isinstance(layer, Dense)]
