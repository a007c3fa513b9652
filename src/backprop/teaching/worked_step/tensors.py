"""The worked step of a network with BatchNorm, Dropout or activation layers, per tensor.

Such layers do not fit the unit-by-unit equations (BatchNorm couples the samples
of the batch), so the step is shown per parameter tensor: its gradient from
:func:`backprop.teaching.reference.reference_step` (float64, out of place), the
central-difference check of every entry (kinks flagged as gradcheck flags them)
and the update. Each Dropout layer keeps one mask for the whole trace.
"""

from __future__ import annotations

import numpy as np

from backprop.network import Network
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense
from backprop.teaching.gradcheck import kink_warning, relative_error
from backprop.teaching.reference import reference_step
from backprop.teaching.worked_step.records import STEP, LayerInfo, SampleLoss, StepRecord, TensorRow
from backprop.teaching.worked_step.units import FUSED_NOTES, range_warnings
from backprop.teaching.worked_step.units import numerical_estimates as estimates_of


def freeze_dropout_masks(net: Network, X: np.ndarray) -> None:
    """Draw each Dropout layer's mask with one training forward pass, then keep it."""
    net.forward_batch(X, training=True)
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.freeze_mask = True


def describe(net: Network) -> list[LayerInfo]:
    """Each layer, in the title's terms: its widths and what it applies."""
    infos = []
    for number, layer in enumerate(net.layers, start=1):
        if isinstance(layer, Dense):
            what = layer.activation.name
        elif isinstance(layer, Dropout):
            what = f"dropout {layer.rate:g}"
        elif hasattr(layer, "activation"):
            what = str(layer.activation.name)
        else:
            what = type(layer).__name__.lower()
        infos.append(LayerInfo(number, layer.n_in, layer.n_out, what,
                               isinstance(layer, Dense) and layer.b is not None))
    return infos


def tensor_step(net: Network, X: np.ndarray, Y: np.ndarray, lr: float,
                digits: int) -> tuple[StepRecord, np.ndarray]:
    """The record of one step shown per tensor, and the full gradient (as net.params)."""
    step = reference_step(net, X, Y)
    loss, gradient, outputs = step.loss, step.gradient, step.activations[-1]
    numeric = estimates_of(net, X, Y, list(range(net.params.size)))
    frozen = net.frozen_slices
    rows, kinks = [], []
    for index, name, where in net.parameter_slices:
        shape = net.layers[index].parameter_shapes()[name]
        kept = [i for i in range(where.start, where.stop) if numeric[i][1] is None]
        for i in range(where.start, where.stop):
            crossing = numeric[i][1]
            if crossing is not None:
                entry = tuple(int(j) for j in np.unravel_index(i - where.start, shape))
                kinks.append(kink_warning(index + 1, name, entry, STEP, crossing))
        is_frozen = any(where == f for f in frozen)
        rows.append(TensorRow(
            layer=index + 1, kind=type(net.layers[index]).__name__, name=name,
            shape=list(shape), grad_norm=float(np.linalg.norm(gradient[where])),
            max_relative_error=max((relative_error(numeric[i][0], float(gradient[i]))
                                    for i in kept), default=0.0),
            checked=len(kept), kink_entries=where.stop - where.start - len(kept),
            update_norm=0.0 if is_frozen else lr * float(np.linalg.norm(gradient[where])),
            frozen=is_frozen))
    output = net.output_layer
    fused = bool(net.fused_output)
    record = StepRecord(
        layers=describe(net), loss=net.loss.name, lr=lr,
        X=[[float(v) for v in row] for row in X], Y=[[float(v) for v in row] for row in Y],
        fused=fused, fused_note=FUSED_NOTES.get(output.activation.name) if fused else None,
        forward=[], losses=[SampleLoss(i + 1, [float(a) for a in outputs[i]],
                                       [float(t) for t in Y[i]], float(step.sample_losses[i]))
                            for i in range(X.shape[0])],
        loss_value=loss, deltas=[], gradients=[], summaries=[], summarized=True,
        summary_reason=("it has layers besides Dense ones (batch normalization couples the "
                        "samples of a batch), so each parameter tensor is shown with its "
                        "gradient, its check and its update; each Dropout layer keeps one mask "
                        "for the whole trace"),
        digits=digits, warnings=range_warnings(output, Y), kink_warnings=kinks, tensors=rows)
    return record, gradient
