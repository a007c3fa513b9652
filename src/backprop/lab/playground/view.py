"""What /playground draws, computed on the server: heat maps on a grid and the network.

The output heat map is a^[L] of the network on a G×G grid over the view box; each
neuron's own map is its a^[l] on a coarser grid (one forward pass gives every
layer's a). Maps travel as bytes, each value scaled to 0..255 over a stated range,
base64-encoded. The network picture carries W, b, and the full training set's
gradient ∂L/∂W, ∂L/∂b and mean δ per unit (δ̄ = ∂L/∂b, equation (3)).
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from backprop.lab.playground.model import dense_layers, gradient_norms
from backprop.lab.playground.run import Run

#: Cells per side of the output heat map and of each neuron's map.
OUTPUT_GRID = 48
NEURON_GRID = 16


def grid_points(box: list[float], size: int) -> np.ndarray:
    """size² raw points (x1, x2), row by row from the top (x2 high) to the bottom."""
    x1 = np.linspace(box[0], box[1], size)
    x2 = np.linspace(box[3], box[2], size)
    grid1, grid2 = np.meshgrid(x1, x2)
    return np.column_stack([grid1.ravel(), grid2.ravel()])


def encode(values: np.ndarray, low: float, high: float) -> str:
    """Values mapped linearly from [low, high] to bytes 0..255, base64."""
    span = high - low if high > low else 1.0
    scaled = np.clip(np.nan_to_num((values - low) / span, nan=0.5), 0.0, 1.0)
    return base64.b64encode(np.round(scaled * 255).astype(np.uint8).tobytes()).decode("ascii")


def value_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    return low, high


def output_map(run: Run, box: list[float], target_range: tuple[float, float],
               discretize: bool = False) -> dict[str, Any]:
    """The decision boundary (p of each class) or the regression surface on the grid.

    Discretized, each cell shows the class the network predicts (the library's
    ``labels_of``: 1 for that class, 0 for the others) or, for a regression set, the
    sign of its output (1 above 0, 0 at or below).
    """
    probe = run.sync_probe()
    inputs = run.inputs(grid_points(box, OUTPUT_GRID))
    outputs = probe.forward_batch(inputs, training=False)
    if run.data.task == "regression":
        if discretize:
            return {"size": OUTPUT_GRID, "kind": "sign", "range": [0.0, 1.0],
                    "discretized": True, "maps": [encode((outputs[:, 0] > 0) * 1.0, 0.0, 1.0)]}
        low, high = target_range
        return {"size": OUTPUT_GRID, "kind": "value", "range": [low, high],
                "discretized": False, "maps": [encode(outputs[:, 0], low, high)]}
    if discretize:
        labels = probe.labels_of(outputs)
        classes = range(outputs.shape[1]) if outputs.shape[1] > 1 else [0, 1]
        maps = [encode((labels == k) * 1.0, 0.0, 1.0) for k in classes]
        return {"size": OUTPUT_GRID, "kind": "class", "range": [0.0, 1.0], "discretized": True,
                "maps": maps if outputs.shape[1] > 1 else maps[1:]}
    return {"size": OUTPUT_GRID, "kind": "probability", "range": [0.0, 1.0],
            "discretized": False,
            "maps": [encode(outputs[:, j], 0.0, 1.0) for j in range(outputs.shape[1])]}


def neuron_maps(run: Run, box: list[float]) -> list[list[dict[str, Any]]]:
    """Per layer (the inputs first), per unit: its output on the coarse grid and the range."""
    probe = run.sync_probe()
    inputs = run.inputs(grid_points(box, NEURON_GRID))
    probe.forward_batch(inputs, training=False)
    columns = [inputs] + [layer.a for layer in dense_layers(probe)]
    layers = []
    for a in columns:
        assert a is not None
        with np.errstate(all="ignore"):
            low, high = np.nanmin(a, axis=0), np.nanmax(a, axis=0)
        flat = ~(high - low >= 1e-9)  # a unit constant over the grid (or not finite)
        low, high = np.where(flat, low - 0.5, low), np.where(flat, high + 0.5, high)
        low, high = np.nan_to_num(low, nan=0.0), np.nan_to_num(high, nan=1.0)
        scaled = np.clip(np.nan_to_num((a - low) / (high - low), nan=0.5), 0.0, 1.0)
        cells = np.round(scaled.T * 255).astype(np.uint8)  # one row of bytes per unit
        layers.append([{"map": base64.b64encode(cells[j].tobytes()).decode("ascii"),
                        "range": [float(low[j]), float(high[j])]} for j in range(a.shape[1])])
    return layers


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def as_lists(array: np.ndarray) -> list[Any]:
    """An array as nested lists, non-finite entries as None (JSON has no NaN)."""
    if np.isfinite(array).all():
        values: list[Any] = array.tolist()
        return values
    return [as_lists(row) for row in array] if array.ndim > 1 else [
        finite_or_none(float(v)) for v in array]


def network_picture(run: Run) -> dict[str, Any]:
    """Weights and biases, and the full training set's gradients and δ̄ at these weights."""
    probe = run.sync_probe()
    with np.errstate(all="ignore"):
        probe.backprop(run.X, run.Y)  # ∂L/∂W, ∂L/∂b of the whole training set
    layers = []
    for layer in dense_layers(probe):
        assert layer.b is not None and layer.db is not None
        layers.append({"W": as_lists(layer.W), "b": as_lists(layer.b),
                       "dW": as_lists(layer.dW), "db": as_lists(layer.db),
                       "delta": as_lists(layer.db),  # δ̄_j = ∂L/∂b_j, equation (3)
                       "activation": layer.activation.name})
    return {"inputs": list(run.setup.features), "layers": layers,
            "grad_norms": [finite_or_none(v) for v in gradient_norms(probe)]}


def confusion(run: Run) -> list[list[int]] | None:
    """Counts[true][predicted] on the test set (the training set when there is none)."""
    if run.data.task != "classification":
        return None
    probe = run.sync_probe()
    X, labels = (run.X_test, run.labels_test) if run.has_test else (run.X, run.labels)
    assert labels is not None
    predicted = probe.labels_of(probe.forward(X))
    k = max(run.data.n_classes, 2)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts.tolist()
