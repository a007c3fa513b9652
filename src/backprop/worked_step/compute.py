"""The numbers of a worked step: :func:`explain`.

The equations themselves are evaluated once, by
:func:`backprop.reference.reference_step` (float64, one sample at a time);
the numerical estimates are gradcheck's central differences. This module
checks the arguments and lays the numbers out as the records of a
:class:`~.trace.Trace`, unit by unit, or per layer for a wide network.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..gradcheck import central_difference, relative_error
from ..layers import Dense
from ..network import Network
from ..reference import ReferenceStep, reference_step
from .records import (
    STEP,
    SUMMARY_CHECKS,
    Delta,
    Formula,
    ForwardUnit,
    Gradient,
    LayerInfo,
    LayerSummary,
    SampleLoss,
)
from .trace import Trace

_FUSED_NOTES = {
    "sigmoid": (
        "With a sigmoid output and binary cross-entropy, σ'(z) = a(1 − a) cancels against "
        "the loss's derivative ∂ℓ/∂a = (a − y) / (a(1 − a)), so δ^[L] = a − y."
    ),
    "softmax": (
        "With a softmax output and cross-entropy, the softmax Jacobian a_j([i = j] − a_i) "
        "cancels against the loss's derivative ∂ℓ/∂a_i = −y_i / a_i (the targets of a sample "
        "sum to 1), so δ^[L] = a − y."
    ),
}


def _as_batch(net: Network, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) in float64 from one sample (1-D x) or a batch (2-D X)."""
    from ..validation import as_numeric_array, check_inputs

    X = as_numeric_array(x, "x")
    if X.ndim <= 1 and X.size == net.n_inputs:
        X = X.reshape(1, -1)
    X = check_inputs(X, net.n_inputs, np.dtype(np.float64), name="x")
    targets = as_numeric_array(y, "y")
    if targets.ndim == 0:
        targets = targets.reshape(1)
    elif X.shape[0] == 1 and targets.ndim == 1 and targets.shape[0] == net.n_outputs > 1:
        targets = targets.reshape(1, -1)
    Y, _ = net.prepare_targets(targets, X.shape[0])
    return X, np.asarray(Y, dtype=np.float64)


def _numerical_estimates(net: Network, X: np.ndarray, Y: np.ndarray,
                       positions: list[int]) -> dict[int, float]:
    """Central differences of the mean loss for positions i of params, on a float64 copy."""
    clone = net.copy(dtype="float64")

    def loss() -> float:
        clone.forward_batch(X, training=True)
        return clone.batch_loss(Y)

    return {i: central_difference(loss, clone.params, i, STEP) for i in positions}


def _check_arguments(net: Network, lr: Any, digits: Any) -> list[Dense]:
    """The Dense layers of ``net``, once every argument is known to be usable."""
    if not isinstance(net, Network):
        raise TypeError(f"explain needs a Network, got {type(net).__name__}")
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating | np.integer):
        raise TypeError(f"lr must be a number, got {lr!r}")
    if not math.isfinite(float(lr)) or float(lr) <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"digits must be an integer from 1 to 17, got {digits!r}")
    dense: list[Dense] = []
    for index, layer in enumerate(net.layers):
        if not isinstance(layer, Dense):
            raise TypeError(f"explain handles Dense layers only; layer {index + 1} is "
                            f"{type(layer).__name__}")
        dense.append(layer)
    return dense


def explain(
    net: Network,
    x: Any,
    y: Any,
    lr: float = 0.5,
    *,
    digits: int = 6,
    max_units: int = 8,
    max_lines: int = 200,
) -> Trace:
    """One step of plain gradient descent on (x, y), written out number by number.

    Arguments:
        net: the network (left untouched; the arithmetic is done in float64).
        x: one sample, shape (n_inputs,), or a batch, (m, n_inputs).
        y: its target(s), as for :meth:`Network.gradients` (a number, a row,
            class labels or one-hot rows).
        lr: the learning rate η of the update w ← w − η ∂L/∂w.
        digits: significant digits of every printed number.
        max_units: a layer wider than this makes the trace a per-layer summary.
        max_lines: so does a trace that would print more lines than this.

    Returns:
        A :class:`Trace`: the numbers, renderable as text, Markdown, JSON, HTML.
    """
    dense = _check_arguments(net, lr, digits)
    lr = float(lr)
    X, Y = _as_batch(net, x, y)
    step = reference_step(net, X, Y)
    m = X.shape[0]
    reason = _summary_reason(dense, m, max_units, max_lines)
    summarized = reason is not None

    # numerical estimates: every parameter, or a sample of each tensor when summarized
    positions: dict[tuple[int, str], list[int]] = {}
    rng = np.random.default_rng(0)
    for index, name, where in net.parameter_slices:
        entries = list(range(where.start, where.stop))
        if summarized and len(entries) > SUMMARY_CHECKS:
            entries = sorted(int(i) for i in rng.choice(entries, SUMMARY_CHECKS, replace=False))
        positions[(index, name)] = entries
    numeric = _numerical_estimates(net, X, Y, [i for chosen in positions.values() for i in chosen])
    starts = {(index, name): where.start for index, name, where in net.parameter_slices}

    def analytic_at(index: int, name: str, position: int) -> float:
        offset = position - starts[(index, name)]
        tensor = step.dW[index] if name == "W" else step.db[index]
        assert tensor is not None
        return float(tensor.flat[offset])

    fused = bool(net.fused_output)
    output = dense[-1].activation.name
    return Trace(
        layers=[LayerInfo(i + 1, layer.n_in, layer.n_out, layer.activation.name,
                          layer.b is not None) for i, layer in enumerate(dense)],
        loss=net.loss.name, lr=lr,
        X=[[float(v) for v in row] for row in X], Y=[[float(v) for v in row] for row in Y],
        fused=fused, fused_note=_FUSED_NOTES.get(output) if fused else None,
        forward=[] if summarized else _forward_units(dense, step),
        losses=[SampleLoss(i + 1, [float(a) for a in step.activations[-1][i]],
                           [float(t) for t in Y[i]], float(step.sample_losses[i]))
                for i in range(m)],
        loss_value=step.loss,
        deltas=[] if summarized else _deltas(dense, step, Y, fused),
        gradients=[] if summarized else [
            _gradient(dense[index], step, index, name, position - where.start,
                      analytic_at(index, name, position), numeric[position], lr)
            for index, name, where in net.parameter_slices
            for position in range(where.start, where.stop)],
        summaries=[_summary(dense, step, index, lr, [
            relative_error(numeric[p], analytic_at(index, name, p))
            for name in ("W", "b") if (index, name) in positions
            for p in positions[(index, name)]]) for index in range(len(dense))],
        summarized=summarized, summary_reason=reason, digits=digits, step=STEP,
        derivative_formulas=_derivative_formulas(dense), loss_formula=_loss_formula(net),
    )


def _summary_reason(dense: list[Dense], m: int, max_units: int, max_lines: int) -> str | None:
    """Why the step is too large to write out unit by unit, or None when it is not."""
    widths = [dense[0].n_in] + [layer.n_out for layer in dense]
    if max(widths) > max_units:
        return (f"a layer has {max(widths)} units (more than {max_units}), so each layer "
                f"is summarized rather than written out unit by unit")
    units = sum(widths[1:])
    params = sum(layer.n_out * (layer.n_in + (layer.b is not None)) for layer in dense)
    lines = 30 + m * (3 * units + 2) + params * (2 if m == 1 else 3)  # about, as printed
    if lines > max_lines:
        return (f"written out unit by unit this step would take about {lines} lines "
                f"(more than {max_lines}), so each layer is summarized")
    return None


def _derivative_formulas(dense: list[Dense]) -> dict[str, Formula]:
    """σ'(z) of each activation that writes its own (TeX falls back to the plain text)."""
    formulas = {}
    for layer in dense:
        text = layer.activation.derivative_formula
        if text is not None:
            tex = layer.activation.derivative_formula_tex
            formulas[layer.activation.name] = Formula(text, text if tex is None else tex)
    return formulas


def _loss_formula(net: Network) -> Formula | None:
    """ℓ as the loss writes it, or None."""
    text, tex = net.loss.formula, net.loss.formula_tex
    return None if text is None else Formula(text, text if tex is None else tex)


def _forward_units(dense: list[Dense], step: ReferenceStep) -> list[ForwardUnit]:
    """z_j and a_j of every unit, sample by sample, input side first."""
    units = []
    for i in range(step.activations[0].shape[0]):
        for index, layer in enumerate(dense):
            W = np.asarray(layer.W, dtype=np.float64)
            b = None if layer.b is None else np.asarray(layer.b, dtype=np.float64)
            for j in range(layer.n_out):
                units.append(ForwardUnit(
                    sample=i + 1, layer=index + 1, unit=j + 1,
                    weights=[float(w) for w in W[j]],
                    inputs=[float(a) for a in step.activations[index][i]],
                    bias=None if b is None else float(b[j]),
                    z=float(step.zs[index][i, j]), a=float(step.activations[index + 1][i, j]),
                ))
    return units


def _deltas(dense: list[Dense], step: ReferenceStep, Y: np.ndarray, fused: bool) -> list[Delta]:
    """δ_j of every unit with the factors it is the product of, per sample, output first."""
    n_layers = len(dense)
    # the factors the reference multiplied, for display: σ'(z) of an elementwise layer, and
    # Σ_i g_i a_i of a softmax layer (whose Jacobian is not diagonal)
    sigma_primes: list[np.ndarray | None] = []
    inners: list[np.ndarray | None] = []
    for index, layer in enumerate(dense):
        Z, A, G = step.zs[index], step.activations[index + 1], step.upstream[index]
        softmax = layer.activation.name == "softmax"
        sigma_primes.append(None if G is None or softmax else
                            np.asarray(layer.activation.derivative(Z, A), dtype=np.float64))
        inners.append(np.sum(G * A, axis=1) if G is not None and softmax else None)
    deltas = []
    for i in range(step.activations[0].shape[0]):
        for index in range(n_layers - 1, -1, -1):
            last = index == n_layers - 1
            up, slope, inner = step.upstream[index], sigma_primes[index], inners[index]
            W_above = None if last else np.asarray(dense[index + 1].W, dtype=np.float64)
            for j in range(dense[index].n_out):
                deltas.append(Delta(
                    sample=i + 1, layer=index + 1, unit=j + 1,
                    kind="fused" if last and fused else "output" if last else "hidden",
                    z=float(step.zs[index][i, j]), a=float(step.activations[index + 1][i, j]),
                    target=float(Y[i, j]) if last else None,
                    upstream=None if up is None else float(up[i, j]),
                    weights=[] if W_above is None else [float(w) for w in W_above[:, j]],
                    deltas_above=[] if last else [float(d) for d in step.deltas[index + 1][i]],
                    sigma_prime=None if slope is None else float(slope[i, j]),
                    softmax_inner=None if inner is None else float(inner[i]),
                    delta=float(step.deltas[index][i, j]),
                ))
    return deltas


def _gradient(layer: Dense, step: ReferenceStep, index: int, name: str, offset: int,
              value: float, numeric: float, lr: float) -> Gradient:
    """Entry ``offset`` of ∂L/∂W^[l] or ∂L/∂b^[l] (l = index + 1): its per-sample terms,
    its central-difference estimate and its update."""
    if name == "W":
        j, k = divmod(offset, layer.n_in)
        inputs = [float(a) for a in step.activations[index][:, k]]
        old = float(np.asarray(layer.W, dtype=np.float64)[j, k])
    else:
        j, k = offset, -1
        inputs = []
        assert layer.b is not None
        old = float(np.asarray(layer.b, dtype=np.float64)[j])
    deltas = [float(d) for d in step.deltas[index][:, j]]
    per_sample = ([d * a for d, a in zip(deltas, inputs, strict=True)] if name == "W"
                  else list(deltas))
    return Gradient(
        layer=index + 1, name=name.lower(), unit=j + 1, input=None if name == "b" else k + 1,
        deltas=deltas, inputs=inputs, per_sample=per_sample, value=value, numeric=numeric,
        relative_error=relative_error(numeric, value), old=old, new=old - lr * value,
    )


def _summary(dense: list[Dense], step: ReferenceStep, index: int, lr: float,
             errors: list[float]) -> LayerSummary:
    """Ranges and norms of one layer's z, a, δ, W and gradients."""
    layer = dense[index]
    Z, A, D, dW, db = (step.zs[index], step.activations[index + 1], step.deltas[index],
                       step.dW[index], step.db[index])
    return LayerSummary(
        layer=index + 1, n_in=layer.n_in, n_out=layer.n_out, activation=layer.activation.name,
        z_min=float(Z.min()), z_max=float(Z.max()), a_min=float(A.min()), a_max=float(A.max()),
        delta_min=float(D.min()), delta_max=float(D.max()), delta_norm=float(np.linalg.norm(D)),
        weight_norm=float(np.linalg.norm(np.asarray(layer.W, dtype=np.float64))),
        grad_w_norm=float(np.linalg.norm(dW)),
        grad_b_norm=None if db is None else float(np.linalg.norm(db)),
        update_norm=lr * float(np.sqrt(np.linalg.norm(dW) ** 2
                                       + (0.0 if db is None else np.linalg.norm(db) ** 2))),
        max_relative_error=max(errors, default=0.0),
        checked=len(errors),
    )
