"""/playground's close-ups: one weight's update explained, histograms at initialization,
and the gradient check per edge.

* explain: ``bp.explain`` (the library's worked step, computed by
  ``backprop.teaching.reference``) on the batch the next step will use, or on one training
  point; for the chosen w_jk: δ_j·a_k per point, their mean ḡ, the L2 term λ·w,
  and the optimizer's actual Δw from a copy of the run taking that step.
* histograms: per layer, a^[l] and δ^[l] over the training set (one reference
  evaluation), so saturation, dead units and vanishing gradients show before play.
* gradient check: every ∂L/∂θ of the engine against central differences
  (``gradcheck.central_difference``) on the training set, relative error per entry,
  and ``bp.gradcheck``'s verdict.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backprop.lab.playground.model import dense_layers
from backprop.lab.playground.run import Run
from backprop.lab.protocol import FieldError
from backprop.teaching.gradcheck import central_difference, gradcheck, relative_error
from backprop.teaching.reference import reference_step
from backprop.teaching.worked_step import explain

#: Bins of each histogram.
BINS = 24
#: Most training points the gradient check uses.
CHECK_POINTS = 64


def weight_position(run: Run, layer: int, row: int, col: int) -> tuple[str, int, int]:
    """("W" or "b", j, k) of a Dense layer's entry, or a FieldError naming what is out of range."""
    layers = dense_layers(run.net)
    if layer >= len(layers):
        raise FieldError("layer", f"no layer {layer}: the network has {len(layers)}")
    dense = layers[layer]
    if row >= dense.n_out:
        raise FieldError("row", f"layer {layer} has {dense.n_out} units")
    if col > dense.n_in:
        raise FieldError("col", f"layer {layer} has {dense.n_in} inputs (col {dense.n_in} is "
                         "the bias)")
    return ("b" if col == dense.n_in else "W"), row, col


def explain_weight(run: Run, layer: int, row: int, col: int,
                   point: int | None) -> dict[str, Any]:
    """The chain rule behind the next update of one weight (or bias), with this step's numbers."""
    name, j, k = weight_position(run, layer, row, col)
    if point is not None and point >= len(run.Y):
        raise FieldError("point", f"no training point {point}: there are {len(run.Y)}")
    ahead = run.fork()
    rows = ahead.next_rows() if point is None else np.array([point])
    trace = explain(run.sync_probe(), run.X[rows], run.Y[rows], lr=run.setup.lr,
                    max_units=10**6, max_lines=10**9)
    gradient = next(g for g in trace.gradients if g.layer == layer + 1 and g.name == name.lower()
                    and g.unit == j + 1 and (name == "b" or g.input == k + 1))
    # the optimizer's own Δw on that batch: a copy of the run takes the step
    where = flat_index(run, layer, name, j, k)
    if point is None:
        ahead.batches.insert(0, rows)  # the peeked batch is the step's batch
        took = ahead.raw_step() is None
    else:
        took = False
    after = float(ahead.net.params[where]) if took else None
    l2 = run.setup.l2
    return {
        "layer": layer, "row": row, "col": col, "name": name, "rows": rows.tolist(),
        "point": point, "deltas": gradient.deltas, "inputs": gradient.inputs,
        "per_sample": gradient.per_sample, "mean": gradient.value,
        "numeric": gradient.numeric, "relative_error": gradient.relative_error,
        "w": gradient.old, "lr": run.setup.lr, "l2": l2, "l2_term": l2 * gradient.old,
        "plain_update": gradient.old - run.setup.lr * (gradient.value + l2 * gradient.old),
        "optimizer": run.setup.optimizer, "optimizer_update": after,
        "dropout": run.setup.dropout > 0,
    }


def flat_index(run: Run, layer: int, name: str, j: int, k: int) -> int:
    """Where W[j, k] (or b[j]) of Dense layer ``layer`` sits in the flat parameter buffer."""
    index = run.net.layers.index(dense_layers(run.net)[layer])
    for owner, tensor, where in run.net.parameter_slices:
        if owner == index and tensor == name:
            n_in = dense_layers(run.net)[layer].n_in
            return int(where.start) + (j if name == "b" else j * n_in + k)
    raise AssertionError("every Dense layer has W and b")


def histogram(values: np.ndarray) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"counts": [], "low": 0.0, "high": 0.0, "std": None}
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    counts, _ = np.histogram(finite, bins=BINS, range=(low, high))
    return {"counts": counts.tolist(), "low": low, "high": high, "std": float(finite.std())}


def histograms(run: Run) -> list[dict[str, Any]]:
    """Per Dense layer: histograms of a^[l] and δ^[l] over every training point (the layers
    between them, BatchNorm say, pass theirs on without a histogram)."""
    probe = run.sync_probe()
    step = reference_step(probe, run.X, run.Y)
    dense = [k for k, layer in enumerate(probe.layers) if layer in dense_layers(probe)]
    histograms = []
    for index, k in enumerate(dense):
        delta = step.backward[k].delta
        assert delta is not None  # a Dense layer's δ = ∂ℓ/∂z
        histograms.append({"layer": index, "activation": histogram(step.activations[k + 1].ravel()),
                           "delta": histogram(delta.ravel())})
    return histograms


def gradient_check(run: Run) -> dict[str, Any]:
    """The engine's gradient against central differences, per entry, and gradcheck's verdict;
    whether each entry is within the tolerance is said here too (``W_passed``, ``b_passed``)."""
    probe = run.sync_probe()
    rows = np.arange(min(len(run.Y), CHECK_POINTS))
    X, Y = run.X[rows], run.Y[rows]
    probe.backprop(X, Y)
    analytic = probe.grads.copy()

    def loss() -> float:
        probe.forward_batch(X, training=True)
        return probe.batch_loss(Y)

    step = 1e-5
    errors = np.array([relative_error(central_difference(loss, probe.params, i, step),
                                      analytic[i]) for i in range(probe.n_params)])
    report = gradcheck(probe, X, Y, step=step)
    layers = []
    for layer in dense_layers(probe):
        index = probe.layers.index(layer)
        entries = {name: errors[where] for owner, name, where in probe.parameter_slices
                   if owner == index}
        weight_errors = entries["W"].reshape(layer.n_out, layer.n_in)
        bias_errors = entries["b"]
        layers.append({"W": weight_errors.tolist(), "b": bias_errors.tolist(),
                       "W_passed": (weight_errors <= report.tolerance).tolist(),
                       "b_passed": (bias_errors <= report.tolerance).tolist()})
    worst = float(errors.max()) if errors.size else 0.0
    return {"layers": layers, "max_error": worst if math.isfinite(worst) else None,
            "tolerance": report.tolerance, "passed": report.passed,
            "verdict": "PASS" if report.passed else "FAIL", "points": len(rows),
            "report": str(report)}
