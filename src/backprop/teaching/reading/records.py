"""Diagnostics records as per-layer series, and the statistics the findings compare."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def value_of(record: Mapping[str, Any], key: str) -> float:
    """A record's number, NaN where it is missing or None (records read back from JSON)."""
    value = record.get(key)
    return math.nan if value is None else float(value)


@dataclass
class LayerSeries:
    """One Dense layer's records over time, in step order."""

    number: int  # l, 1-based over the Dense layers
    grad: np.ndarray
    update: np.ndarray
    dead: np.ndarray
    saturated: np.ndarray
    weight: np.ndarray
    spread: np.ndarray


def layer_series(records: Sequence[Mapping[str, Any]]) -> list[LayerSeries]:
    """The records grouped by layer (numbered 1..L in net.layers order), sorted by step."""
    by_layer: dict[int, list[Mapping[str, Any]]] = {}
    for record in records:
        by_layer.setdefault(int(record["layer"]), []).append(record)
    out = []
    for number, index in enumerate(sorted(by_layer), start=1):
        rows = sorted(by_layer[index], key=lambda r: int(r.get("step", 0)))

        def column(key: str, rows: list[Mapping[str, Any]] = rows) -> np.ndarray:
            return np.array([value_of(r, key) for r in rows], dtype=np.float64)

        out.append(LayerSeries(number, column("grad_norm_W"), column("update_ratio"),
                               column("dead_fraction"), column("saturated_fraction"),
                               column("weight_norm"), column("unit_spread")))
    return out


def median(values: np.ndarray) -> float:
    """The median of the non-NaN values, NaN when there are none."""
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else math.nan


def late_mean(values: np.ndarray) -> float:
    """The mean over the second half of training (all of it for one record)."""
    late = values[values.size // 2:]
    late = late[~np.isnan(late)]
    return float(late.mean()) if late.size else math.nan


def ratio(a: float, b: float) -> float:
    """a / b, with 0/0 NaN and x/0 inf."""
    if b == 0:
        return math.nan if a == 0 else math.inf
    return a / b


def depth_ratio(layers: list[LayerSeries]) -> float:
    """Median over recorded batches of ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖."""
    first, last = layers[0].grad, layers[-1].grad
    n = min(first.size, last.size)
    ratios = np.array([ratio(float(a), float(b))
                       for a, b in zip(first[:n], last[:n], strict=True)])
    finite_or_inf = ratios[~np.isnan(ratios)]
    return float(np.median(finite_or_inf)) if finite_or_inf.size else math.nan
