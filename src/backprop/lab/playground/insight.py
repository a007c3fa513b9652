"""/playground's close-ups: one weight's update explained, histograms at initialization,
and the gradient check per edge.

* explain: ``bp.explain`` (the library's worked step, computed by
  ``backprop.teaching.reference``) on the batch the next step will use, or on one training
  point; for the chosen w_jk: δ_j·a_k per point and δ_j's own sum (Σ_k w_kj δ_k · σ′(z_j),
  or the output error), their mean ḡ, the L1 and L2 terms, the optimizer's rule written
  out with its numbers (:mod:`~backprop.lab.playground.update`), and its actual Δw from a
  copy of the run taking that step.
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
from backprop.lab.playground.update import update_lines
from backprop.lab.protocol import FieldError
from backprop.teaching.gradcheck import central_difference, gradcheck, relative_error
from backprop.teaching.reference import reference_step
from backprop.teaching.worked_step import explain
from backprop.teaching.worked_step.records import Delta

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
    deltas = [delta_terms(d) for d in trace.deltas if d.layer == layer + 1 and d.unit == j + 1]
    activation = dense_layers(run.net)[layer].activation.name
    formula = trace.derivative_formulas.get(activation)
    l1, l2, w = run.setup.l1, run.setup.l2, gradient.old
    g = gradient.value + l1 * float(np.sign(w))  # what enters the optimizer
    # the optimizer's own Δw on that batch: a copy of the run takes the step
    where = flat_index(run, layer, name, j, k)
    lines = update_lines(ahead.optimizer, where, g, w) if point is None else []
    if point is None:
        ahead.batches.insert(0, rows)  # the peeked batch is the step's batch
        took = ahead.raw_step() is None
    else:
        took = False
    after = float(ahead.net.params[where]) if took else None
    return {
        "layer": layer, "row": row, "col": col, "name": name, "rows": rows.tolist(),
        "point": point, "deltas": gradient.deltas, "inputs": gradient.inputs,
        "per_sample": gradient.per_sample, "mean": gradient.value,
        "numeric": gradient.numeric, "relative_error": gradient.relative_error,
        "delta_terms": deltas, "activation": activation,
        "sigma_prime_formula": None if formula is None else formula.text,
        "w": w, "lr": run.setup.lr, "l1": l1, "l1_term": l1 * float(np.sign(w)),
        "l2": l2, "l2_term": l2 * w, "gradient": g,
        "plain_update": w - run.setup.lr * (g + l2 * w),
        "optimizer": run.setup.optimizer, "update_lines": lines,
        "optimizer_delta": None if after is None else w - after,
        "optimizer_update": after, "dropout": run.setup.dropout > 0,
    }


def delta_terms(delta: Delta) -> dict[str, Any]:
    """δ_j of one point and what it is made of: the output error, or (Σ_k w_kj δ_k)·σ′(z_j)."""
    return {"kind": delta.kind, "z": delta.z, "a": delta.a, "target": delta.target,
            "weights": delta.weights, "deltas_above": delta.deltas_above,
            "sum": delta.upstream, "sigma_prime": delta.sigma_prime,
            "softmax_inner": delta.softmax_inner, "delta": delta.delta}


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
