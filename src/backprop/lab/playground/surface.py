"""The loss surface of /playground's real network: a 2-D slice through θ, and the path.

L(θ + α·d₁ + β·d₂) on the training set over a square of (α, β), with θ the current
weights and d₁, d₂ either two weights' own axes (α, β are then those weights' offsets)
or two random directions, filter-normalised (Li et al. 2018: each unit's incoming
weights in d scaled to the norm of that unit's weights in θ, biases left at 0). The
optimizer's path, the θ recorded along the run, is projected on the plane by least
squares.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backprop.lab.playground import insight
from backprop.lab.playground.protocol import Surface
from backprop.lab.playground.run import Run
from backprop.lab.protocol import FieldError

#: Points per side of the grid.
SURFACE_GRID = 31


def filter_normalised(run: Run, rng: np.random.Generator) -> np.ndarray:
    """A random direction in parameter space, each unit's row scaled to its weights' norm."""
    direction = np.zeros_like(run.net.params)
    for index, name, where in run.net.parameter_slices:
        layer = run.net.layers[index]
        if name != "W":
            continue  # biases stay still
        W = run.net.params[where].reshape(layer.parameter_shapes()["W"])
        d = rng.standard_normal(W.shape)
        row_norms = np.linalg.norm(d, axis=1, keepdims=True)
        d *= np.linalg.norm(W, axis=1, keepdims=True) / np.where(row_norms > 0, row_norms, 1.0)
        direction[where] = d.ravel()
    return direction


def loss_surface(run: Run, path: list[np.ndarray], directions: tuple[np.ndarray, np.ndarray],
                 span: float) -> dict[str, Any]:
    """The training loss on the grid α, β ∈ [−span, span] and the path's (α, β)."""
    theta = run.net.params.copy()
    d1, d2 = directions
    offsets = np.linspace(-span, span, SURFACE_GRID)
    probe = run.probe
    losses: list[float | None] = []
    with np.errstate(all="ignore"):
        for beta in offsets[::-1]:  # the top row first
            for alpha in offsets:
                probe.params[...] = theta + alpha * d1 + beta * d2
                value = probe.metrics(run.X, run.Y, None)["loss"]
                losses.append(value if math.isfinite(value) else None)
    run.sync_probe()
    plane = np.column_stack([d1, d2])
    coordinates = [np.linalg.lstsq(plane, point - theta, rcond=None)[0].tolist()
                   for point in path]
    finite = [v for v in losses if v is not None]
    return {"size": SURFACE_GRID, "span": span, "losses": losses,
            "range": [min(finite), max(finite)] if finite else None, "path": coordinates}


def weight_axis(run: Run, flat: int) -> np.ndarray:
    """The unit vector of one parameter."""
    axis = np.zeros_like(run.net.params)
    axis[flat] = 1.0
    return axis


def directions_for(run: Run, mode: str, axes: list[int],
                   seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two weights' axes (``axes``: their flat indices), or two filter-normalised directions."""
    if mode == "weights":
        return weight_axis(run, axes[0]), weight_axis(run, axes[1])
    rng = np.random.default_rng(seed)
    return filter_normalised(run, rng), filter_normalised(run, rng)


def surface_reply(run: Run, path: list[np.ndarray], message: Surface) -> dict[str, Any]:
    """The loss surface through the current weights, with the path projected on it."""
    axes: list[int] = []
    if message.mode == "weights":
        for field, ref in (("first", message.first), ("second", message.second)):
            if ref is None:
                raise FieldError(field, "choose two weights for a slice along weights")
            try:
                name, j, k = insight.weight_position(run, ref.layer, ref.row, ref.col)
            except FieldError as error:
                raise FieldError(f"{field}.{error.field}", str(error)) from None
            axes.append(insight.flat_index(run, ref.layer, name, j, k))
        if axes[0] == axes[1]:
            raise FieldError("second", "choose two different weights")
    directions = directions_for(run, message.mode, axes, message.seed)
    result = loss_surface(run, path, directions, message.span)
    return {**result, "mode": message.mode, "step": run.steps,
            "axes": [message.first.model_dump() if message.first else None,
                     message.second.model_dump() if message.second else None]}
