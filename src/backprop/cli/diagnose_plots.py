"""The figures of ``backprop diagnose``: per-layer curves over the recorded batches.

Each function takes ``plt`` (matplotlib.pyplot on Agg, from common.pyplot) and
``arrays`` as :meth:`Diagnostics.as_arrays` gives them (index in net.layers →
"step" and each metric over the recorded batches); layers are labelled
l = 1..L over the Dense layers, first dark, last bright.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backprop.cli.plots import DPI
from backprop.errors import OptionError
from backprop.files.io import write_atomically
from backprop.teaching.reading import (
    DEAD_FRACTION,
    SATURATED_FRACTION,
    UPDATE_RATIO_HIGH,
    UPDATE_RATIO_LOW,
)

Arrays = dict[int, dict[str, np.ndarray]]

#: Figure sizes in inches (PNG size = size × DPI).
GRADIENTS_SIZE = (8.0, 4.5)
UPDATES_SIZE = (8.0, 4.5)
UNITS_SIZE = (11.0, 4.0)
#: One panel of the compare figure; the figure is columns × rows of them.
COMPARE_PANEL = (4.5, 3.2)


def compare_size(rows: int, columns: int) -> tuple[float, float]:
    """The compare figure's size in inches: one COMPARE_PANEL per depth × configuration."""
    return COMPARE_PANEL[0] * columns, COMPARE_PANEL[1] * rows


def layer_curves(ax: Any, arrays: Arrays, metric: str, *, log: bool, label_all: bool) -> bool:
    """One line per Dense layer of ``metric`` against the batch; whether any was drawn.

    On a log axis zeros (an update lost to rounding, an underflowed gradient)
    are left out. Without ``label_all`` only the first and last layers get a label.
    """
    import matplotlib

    indices = sorted(arrays)
    colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, max(len(indices), 1)))
    drawn = False
    for number, (index, color) in enumerate(zip(indices, colors, strict=True), start=1):
        values = np.asarray(arrays[index][metric], dtype=np.float64)
        if log:
            values = np.where(values > 0, values, np.nan)
        if np.all(np.isnan(values)):
            continue
        label = f"layer {number}" if label_all or number in (1, len(indices)) else None
        ax.plot(arrays[index]["step"], values, color=color, linewidth=1.2, label=label)
        drawn = True
    if log and drawn:
        ax.set_yscale("log")
    ax.set_xlabel("batch")
    return drawn


def _save(fig: Any, out: Path, name: str, plt: Any) -> Path:
    fig.tight_layout()
    path = out / name
    write_atomically(path, lambda file: fig.savefig(file, dpi=DPI, format="png"), OptionError)
    plt.close(fig)
    return path


def gradients_figure(out: Path, arrays: Arrays, plt: Any) -> Path:
    fig, ax = plt.subplots(figsize=GRADIENTS_SIZE, dpi=DPI)
    if layer_curves(ax, arrays, "grad_norm_W", log=True, label_all=len(arrays) <= 10):
        ax.legend(fontsize=8, ncol=2)
    ax.set_ylabel("‖∂L/∂W‖")
    ax.set_title("gradient norm per layer")
    return _save(fig, out, "gradients.png", plt)


def updates_figure(out: Path, arrays: Arrays, plt: Any) -> Path:
    fig, ax = plt.subplots(figsize=UPDATES_SIZE, dpi=DPI)
    drawn = layer_curves(ax, arrays, "update_ratio", log=True, label_all=len(arrays) <= 10)
    for level, name in ((UPDATE_RATIO_HIGH, "too high above"), (UPDATE_RATIO_LOW,
                                                                 "too low below")):
        ax.axhline(level, color="gray", linestyle="--", linewidth=0.8)
        ax.annotate(f"{name} {level:g}", (0.01, level), xycoords=("axes fraction", "data"),
                    fontsize=7, color="gray", va="bottom")
    if drawn:
        ax.legend(fontsize=8, ncol=2)
    ax.set_yscale("log")
    ax.set_ylabel("‖ΔW‖ / ‖W‖")
    ax.set_title("update/weight ratio per layer")
    return _save(fig, out, "update_ratio.png", plt)


def units_figure(out: Path, arrays: Arrays, plt: Any) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=UNITS_SIZE, dpi=DPI)
    panels = (
        ("dead_fraction", DEAD_FRACTION, "dead ReLUs (z ≤ 0 for the whole batch)", "ReLU"),
        ("saturated_fraction", SATURATED_FRACTION, "saturated units (σ' < 1% of its maximum)",
         "sigmoid or tanh"),
    )
    for ax, (metric, threshold, title, kind) in zip(axes, panels, strict=True):
        if layer_curves(ax, arrays, metric, log=False, label_all=len(arrays) <= 10):
            ax.axhline(threshold, color="gray", linestyle="--", linewidth=0.8)
            ax.legend(fontsize=8, ncol=2)
        else:
            ax.text(0.5, 0.5, f"no {kind} layers", ha="center", va="center",
                    transform=ax.transAxes)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("fraction")
        ax.set_title(title)
    return _save(fig, out, "units.png", plt)


def compare_figure(out: Path, grid: Sequence[Sequence[tuple[str, Arrays, str]]],
                   plt: Any) -> Path:
    """compare.png: grid[row][column] = (title, arrays, verdict), gradient norms on a
    log scale shared by every panel so that the panels compare."""
    rows, columns = len(grid), len(grid[0])
    fig, axes = plt.subplots(rows, columns, figsize=compare_size(rows, columns), dpi=DPI,
                             sharey=True, squeeze=False)
    for row, cells in zip(axes, grid, strict=True):
        for ax, (title, arrays, verdict) in zip(row, cells, strict=True):
            if layer_curves(ax, arrays, "grad_norm_W", log=True, label_all=False):
                ax.legend(fontsize=7, loc="best")
            bad = any(kind in verdict for kind in ("vanishing", "exploding"))
            ax.set_title(f"{title}\n{verdict}", fontsize=9, color="firebrick" if bad else "black")
            ax.set_ylabel("‖∂L/∂W‖")
    return _save(fig, out, "compare.png", plt)
