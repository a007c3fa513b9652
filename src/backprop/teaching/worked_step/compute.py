"""The numbers of a worked step: :func:`explain`.

The equations themselves are evaluated once, by
:func:`backprop.teaching.reference.reference_step` (float64, one sample at a time);
the numerical estimates are gradcheck's central differences. This module
checks the arguments and lays the numbers out as the records of a
:class:`~.trace.Trace`, unit by unit, or per layer for a wide network.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import numpy as np

from backprop.network import Network
from backprop.nn.layers import Dense
from backprop.teaching.gradcheck import kink_warning, relative_error
from backprop.teaching.reference import MISTAKES, reference_step
from backprop.teaching.worked_step.naming import get_naming
from backprop.teaching.worked_step.records import (
    STEP,
    SUMMARY_CHECKS,
    LayerInfo,
    SampleLoss,
    StepRecord,
)
from backprop.teaching.worked_step.tensors import freeze_dropout_masks, tensor_step
from backprop.teaching.worked_step.trace import Trace
from backprop.teaching.worked_step.units import (
    FUSED_NOTES,
    deltas_of,
    derivative_formulas,
    forward_units,
    gradient_record,
    layer_summary,
    loss_formula,
    numerical_estimates,
    range_warnings,
    stale_deltas,
)


def as_batch(net: Network, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) in float64 from one sample (1-D x) or a batch (2-D X)."""
    from backprop.validation import as_numeric_array, check_inputs

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




def _check_arguments(net: Network, lr: Any, digits: Any, steps: Any,
                     stale_weights: Any) -> list[Dense]:
    """The Dense layers of ``net``, once every argument is known to be usable."""
    if not isinstance(net, Network):
        raise TypeError(f"explain needs a Network, got {type(net).__name__}")
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating | np.integer):
        raise TypeError(f"lr must be a number, got {lr!r}")
    if not math.isfinite(float(lr)) or float(lr) < 0:
        raise ValueError(f"lr must be a finite number ≥ 0, got {lr!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"digits must be an integer from 1 to 17, got {digits!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 100:
        raise ValueError(f"steps must be an integer from 1 to 100, got {steps!r}")
    if stale_weights and float(lr) == 0:
        raise ValueError("stale_weights needs lr > 0: with no update the weights cannot be stale")
    return [layer for layer in net.layers if isinstance(layer, Dense)]


def explain(
    net: Network,
    x: Any,
    y: Any,
    lr: float = 0.5,
    *,
    digits: int = 6,
    max_units: int = 8,
    max_lines: int = 200,
    steps: int = 1,
    stale_weights: bool = False,
    notation: str = "layered",
) -> Trace:
    """Steps of plain gradient descent on (x, y), written out number by number.

    Arguments:
        net: the network (left untouched; the arithmetic is done in float64).
        x: one sample, shape (n_inputs,), or a batch, (m, n_inputs).
        y: its target(s), as for :meth:`Network.gradients` (a number, a row,
            class labels or one-hot rows).
        lr: the learning rate η of the update w ← w − η ∂L/∂w; 0 gives the
            gradients alone, with no update.
        digits: significant digits of every printed number.
        max_units: a layer wider than this makes the trace a per-layer summary.
        max_lines: so does a trace that would print more lines than this.
        steps: how many consecutive steps, each from the weights the one before
            left (step 2 starts where ``fit`` with plain SGD and the whole batch
            is after one epoch); frozen tensors (``train_bias=False``) stay.
        stale_weights: show beside each hidden δ the wrong value a loop gets
            that updates the weights above before computing it
            (:data:`backprop.teaching.reference.MISTAKES` "stale-weights").
        notation: how the text and Markdown name the quantities: "layered" (the
            library's, input = layer 0, w_jk^[l]), "from-to" (input = layer 1,
            w_ij[k] from node i of layer k to node j of layer k + 1) or "mazur"
            (w1…w8 of a 2-2-2 network); see :mod:`backprop.teaching.worked_step.naming`.

    Returns:
        A :class:`Trace`: the numbers, renderable as text, Markdown, JSON, HTML;
        the steps after the first are in ``trace.following``.
    """
    dense = _check_arguments(net, lr, digits, steps, stale_weights)
    get_naming(notation).check([dense[0].n_in] + [layer.n_out for layer in dense])
    lr = float(lr)
    X, Y = as_batch(net, x, y)
    work = net.copy(dtype="float64")  # the weights of the current step
    only_dense = len(dense) == len(net.layers)
    if not only_dense:
        freeze_dropout_masks(work, X)
    records = []
    for number in range(1, steps + 1):
        if only_dense:
            record, gradient = _one_step(work, X, Y, lr, digits, max_units, max_lines,
                                         stale_weights)
        else:
            record, gradient = tensor_step(work, X, Y, lr, digits)
        record.step_number = number
        record.notation = notation
        records.append(record)
        _descend(work, gradient, lr)
    trace = Trace(**{f.name: getattr(records[0], f.name) for f in fields(StepRecord)})
    trace.following = records[1:]
    return trace


def _descend(net: Network, gradient: np.ndarray, lr: float) -> None:
    """θ ← θ − η ∂L/∂θ, the update of the step, for every tensor training moves."""
    frozen = net.frozen_slices
    for _, _, where in net.parameter_slices:
        if not any(where == f for f in frozen):
            net.params[where] -= lr * gradient[where]


def _one_step(net: Network, X: np.ndarray, Y: np.ndarray, lr: float, digits: int,
              max_units: int, max_lines: int,
              stale_weights: bool) -> tuple[StepRecord, np.ndarray]:
    """The record of one step from the current weights of ``net`` (float64)."""
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
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
    numeric = numerical_estimates(net, X, Y, [i for chosen in positions.values() for i in chosen])
    starts = {(index, name): where.start for index, name, where in net.parameter_slices}
    frozen = {(index, name) for index, name, where in net.parameter_slices
              if name in net.layers[index].frozen_parameters()}

    def analytic_at(index: int, name: str, position: int) -> float:
        offset = position - starts[(index, name)]
        tensor = step.dW[index] if name == "W" else step.db[index]
        assert tensor is not None
        return float(tensor.flat[offset])

    kink_lines = []
    for index, name, where in net.parameter_slices:
        shape = net.layers[index].parameter_shapes()[name]
        for position in positions[(index, name)]:
            crossing = numeric[position][1]
            if crossing is not None:
                entry = tuple(int(j) for j in np.unravel_index(position - where.start, shape))
                kink_lines.append(kink_warning(index + 1, name, entry, STEP, crossing))

    fused = bool(net.fused_output)
    output = dense[-1].activation.name
    record = StepRecord(
        layers=[LayerInfo(i + 1, layer.n_in, layer.n_out, layer.activation.name,
                          layer.b is not None) for i, layer in enumerate(dense)],
        loss=net.loss.name, lr=lr,
        X=[[float(v) for v in row] for row in X], Y=[[float(v) for v in row] for row in Y],
        fused=fused, fused_note=FUSED_NOTES.get(output) if fused else None,
        forward=[] if summarized else forward_units(dense, step),
        losses=[SampleLoss(i + 1, [float(a) for a in step.activations[-1][i]],
                           [float(t) for t in Y[i]], float(step.sample_losses[i]))
                for i in range(m)],
        loss_value=step.loss,
        deltas=[] if summarized else deltas_of(dense, step, Y, fused),
        gradients=[] if summarized else [
            gradient_record(dense[index], step, index, name, position - where.start,
                      analytic_at(index, name, position), numeric[position], lr,
                      (index, name) in frozen)
            for index, name, where in net.parameter_slices
            for position in range(where.start, where.stop)],
        summaries=[layer_summary(dense, step, index, lr, [
            relative_error(numeric[p][0], analytic_at(index, name, p))
            for name in ("W", "b") if (index, name) in positions
            for p in positions[(index, name)] if numeric[p][1] is None])
            for index in range(len(dense))],
        summarized=summarized, summary_reason=reason, digits=digits, step=STEP,
        derivative_formulas=derivative_formulas(dense), loss_formula=loss_formula(net),
        warnings=range_warnings(dense[-1], Y),
        kink_warnings=kink_lines,
        stale=[] if summarized or not stale_weights else stale_deltas(net, X, Y, lr, step),
        stale_rule=MISTAKES["stale-weights"] if stale_weights else None,
    )
    tensors = [step.dW[index] if name == "W" else step.db[index]
               for index, name, _ in net.parameter_slices]
    flat = np.concatenate([np.ravel(t) for t in tensors if t is not None])
    return record, flat


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
