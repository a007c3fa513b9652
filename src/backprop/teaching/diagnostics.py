"""Per-layer training diagnostics: gradient norms, update ratios, dead and saturated units.

    diag = bp.Diagnostics(every=10)
    net.fit(X, y, epochs=5, callbacks=[diag])
    diag.records          # one dict per Dense layer per recorded batch
    diag.as_arrays()[0]["grad_norm_W"]   # layer 0's gradient norms over time
    print(diag.summary())
    bp.diagnose_network(net, X, y)       # the same numbers for one batch, no training

What each record holds, for Dense layer ``layer`` (its index in ``net.layers``)
at one batch (numbered from 1 within ``epoch``; ``step`` counts batches over
the whole fit call, from 1):

    grad_norm_W         ‖∂L/∂W‖ (Frobenius), the gradient the optimizer used
                        (after clip_norm, if any) at the weights before the update
    grad_norm_b         ‖∂L/∂b‖, NaN for a layer without bias
    weight_norm         ‖W‖ after the update of this batch
    update_ratio        ‖ΔW‖ / ‖W_before‖ with ΔW = W_after − W_before, the
                        change the optimizer made to W in this step (whatever
                        the optimizer: SGD's η‖∂L/∂W‖, Adam's, with momentum or
                        weight decay alike); NaN in diagnose_network without lr
    dead_fraction       ReLU-type layers (an activation with ``can_die``; σ after a
                        batch norm counts as its Dense layer's): the
                        fraction of the layer's units whose z ≤ 0 for every sample
                        of the batch (:data:`DEAD_Z`); NaN for other activations
                        and for batches smaller than :data:`DEAD_MIN_BATCH`
    saturated_fraction  saturating layers (an activation with ``derivative_peak``:
                        sigmoid, tanh): the fraction of (sample, unit) pairs whose
                        σ'(z) is below :data:`SATURATION` (1 %) of its maximum
                        (:data:`SIGMOID_SATURATION`, :data:`TANH_SATURATION`);
                        NaN for other activations
    unit_spread         how much the layer's units differ: ‖R − 1 r̄ᵀ‖ / ‖R‖ with R =
                        [W b] (one row per unit) and r̄ its mean row, after the
                        update; 0 when every unit has the same weights and bias
                        (a zero or constant init), about 1 for random weights;
                        NaN for a layer of one unit

How the update ratio is kept cheap: a callback runs after the optimizer's
step, so it sees only W_after. Diagnostics therefore copies the flat
parameter buffer once, at the end of the batch *before* each recorded one
(and at the start of training when the first batch is recorded): nothing
changes the parameters between that moment and the recorded batch's
update, so ΔW = W_after − copy exactly (unless a callback listed after
Diagnostics itself writes the parameters in on_batch_end: its change would
be counted in the next recorded update). The copy goes into one buffer
allocated once; batches that are neither recorded nor just before one cost
an integer increment and a comparison. A network without Diagnostics
attached runs no diagnostics code at all. Diagnostics only reads the
network (its parameter buffer, gradient buffer and the z, a caches of the
batch just trained on), so attaching it never changes training.

Records start afresh at every fit call the callback is given to.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError, OptionTypeError
from backprop.nn.activation_layer import ActivationLayer
from backprop.nn.activations import Sigmoid, Tanh
from backprop.nn.layers import Dense
from backprop.training.callbacks import Callback, TrainingState

if TYPE_CHECKING:
    from backprop.network import Network

#: A ReLU-type unit (``Activation.can_die``: relu, leaky_relu) counts as dead for a batch when its
#: z ≤ DEAD_Z for every sample of the batch: a relu unit then passes no
#: gradient at all. A leaky_relu unit still passes slope × δ there, but is
#: counted with the same test, as "in its negative regime for the whole batch".
DEAD_Z = 0.0

#: Dead units are counted only on batches of at least this many samples: on a
#: batch of one (online learning) about half of a healthy ReLU layer is off for
#: that one sample, which says nothing about the unit being dead.
DEAD_MIN_BATCH = 2

#: A unit of a saturating activation (one with ``Activation.derivative_peak``)
#: counts as saturated on a sample when σ'(z) < SATURATION × its maximum.
SATURATION = 0.01

#: So a sigmoid unit is saturated when σ'(z) = a(1 − a) < 0.0025, 1 % of its
#: maximum σ'(0) = 0.25 (a outside roughly (0.0025, 0.9975), |z| > about 5.99) ...
SIGMOID_SATURATION = SATURATION * (Sigmoid.derivative_peak or 0.0)

#: ... and a tanh unit when tanh'(z) = 1 − a² < 0.01, 1 % of its maximum
#: tanh'(0) = 1 (|a| > 0.99499, |z| > about 2.99).
TANH_SATURATION = SATURATION * (Tanh.derivative_peak or 0.0)

#: The metric names of every record, in order.
METRICS: tuple[str, ...] = (
    "grad_norm_W",
    "grad_norm_b",
    "weight_norm",
    "update_ratio",
    "dead_fraction",
    "saturated_fraction",
    "unit_spread",
)


def _norm(x: Array) -> float:
    """Euclidean (Frobenius) norm, summed in float64 so float32 squares cannot overflow."""
    flat = x.reshape(-1).astype(np.float64)
    return math.sqrt(float(np.dot(flat, flat)))


def dead_fraction(layer: Dense | ActivationLayer) -> float:
    """Fraction of the layer's units with z ≤ :data:`DEAD_Z` for every sample of its last batch.

    NaN unless the activation can die (``can_die``: relu, leaky_relu), and for a batch of
    fewer than :data:`DEAD_MIN_BATCH` samples. Uses the layer's cached z, (m, n_out).
    """
    if not layer.activation.can_die or layer.z is None:
        return math.nan
    if layer.z.shape[0] < DEAD_MIN_BATCH:
        return math.nan
    dead = np.all(layer.z <= DEAD_Z, axis=0)
    return float(np.count_nonzero(dead)) / layer.n_out


def saturated_fraction(layer: Dense | ActivationLayer) -> float:
    """Fraction of (sample, unit) pairs of the last batch where σ'(z) < 1 % of its maximum.

    The maximum is the activation's ``derivative_peak`` (sigmoid: a(1 − a) <
    :data:`SIGMOID_SATURATION`; tanh: 1 − a² < :data:`TANH_SATURATION`); the mean
    over samples and units of σ'(z) from the layer's cached z and a, (m, n_out).
    NaN for an activation that does not saturate.
    """
    peak = layer.activation.derivative_peak
    if peak is None or layer.z is None or layer.a is None:
        return math.nan
    slope = layer.activation.derivative(layer.z, layer.a)
    return float(np.mean(slope < SATURATION * peak))


def unit_spread(layer: Dense) -> float:
    """‖R − 1 r̄ᵀ‖ / ‖R‖ for R = [W b], one row per unit: 0 when all units are identical.

    0 too for an all-zero R (its units are identical); NaN for one unit.
    """
    if layer.n_out < 2:
        return math.nan
    rows = layer.W.astype(np.float64)
    if layer.b is not None:
        rows = np.hstack([rows, layer.b.astype(np.float64)[:, None]])
    size = _norm(rows)
    return _norm(rows - rows.mean(axis=0)) / size if size > 0 else 0.0


def _dense_layers(net: Network) -> list[tuple[int, Dense]]:
    return [(i, layer) for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]


def _weight_slices(net: Network) -> dict[int, slice]:
    """Layer index → the slice of ``net.params`` that holds its W."""
    return {index: where for index, name, where in net.parameter_slices if name == "W"}


def units_of(net: Network, index: int) -> Dense | ActivationLayer:
    """What applies σ to the units of Dense layer ``index``: the layer itself, or, for a
    linear Dense followed by BatchNorm and σ as a layer (batch norm before σ), that layer."""
    layer = net.layers[index]
    assert isinstance(layer, Dense)
    if layer.activation.name == "linear":
        for after in net.layers[index + 1:]:
            if isinstance(after, Dense):
                break
            if isinstance(after, ActivationLayer):
                return after
    return layer


def _layer_metrics(net: Network, index: int, update_ratio: float) -> dict[str, float]:
    layer, units = net.layers[index], units_of(net, index)
    assert isinstance(layer, Dense)
    return {
        "grad_norm_W": _norm(layer.dW),
        "grad_norm_b": math.nan if layer.db is None else _norm(layer.db),
        "weight_norm": _norm(layer.W),
        "update_ratio": update_ratio,
        "dead_fraction": dead_fraction(units),
        "saturated_fraction": saturated_fraction(units),
        "unit_spread": unit_spread(layer),
    }


class Diagnostics(Callback):
    """A callback recording per-Dense-layer diagnostics every ``every`` batches.

    Arguments:
        every: record batches 1, 1 + every, 1 + 2·every, ... counted over the
            whole fit call (across epochs).

    Attributes:
        records: one dict per Dense layer per recorded batch, with keys
            "epoch", "batch" (within the epoch, from 1), "step" (over the fit
            call, from 1), "layer" (index in ``net.layers``) and the metrics of
            :data:`METRICS` (see the module docstring).
    """

    def __init__(self, every: int = 1) -> None:
        if isinstance(every, bool) or not isinstance(every, int | np.integer):
            raise OptionTypeError(f"every must be an integer, got {every!r}")
        if every < 1:
            raise OptionError(f"every must be ≥ 1, got {every}")
        self.every = int(every)
        self.records: list[dict[str, Any]] = []
        self._step = 0
        self._before: Array | None = None

    def _records_next(self) -> bool:
        """Whether the batch after the current one (step + 1) is recorded."""
        return self._step % self.every == 0

    def _snapshot(self, net: Network) -> None:
        if self._before is None or self._before.shape != net.params.shape:
            self._before = net.params.copy()
        else:
            np.copyto(self._before, net.params)

    def on_train_begin(self, state: TrainingState) -> None:
        self.records = []
        self._step = 0
        self._snapshot(state.network)  # the first batch is always recorded

    def on_batch_end(self, state: TrainingState, logs: dict[str, float]) -> None:
        self._step += 1
        net = state.network
        if (self._step - 1) % self.every == 0:
            before = self._before
            assert before is not None
            slices = _weight_slices(net)
            for index, _layer in _dense_layers(net):
                old_W = before[slices[index]]
                old_norm = _norm(old_W)
                change = _norm(net.params[slices[index]] - old_W)
                ratio = change / old_norm if old_norm > 0 else math.inf if change else 0.0
                record: dict[str, Any] = {
                    "epoch": state.epoch,
                    "batch": state.batch,
                    "step": self._step,
                    "layer": index,
                }
                record.update(_layer_metrics(net, index, ratio))
                self.records.append(record)
        if self._records_next():
            self._snapshot(net)

    def as_arrays(self) -> dict[int, dict[str, np.ndarray]]:
        """Layer index → {"epoch", "batch", "step", and each metric → 1-D array over records}."""
        out: dict[int, dict[str, list[float]]] = {}
        for record in self.records:
            columns = out.setdefault(int(record["layer"]), {})
            for key in ("epoch", "batch", "step", *METRICS):
                columns.setdefault(key, []).append(record[key])
        return {
            layer: {
                key: np.asarray(
                    values, dtype=np.int64 if key in ("epoch", "batch", "step") else np.float64
                )
                for key, values in columns.items()
            }
            for layer, columns in out.items()
        }

    def summary(self) -> str:
        """A table, one row per Dense layer: each metric's mean over the recorded batches."""
        return format_table(
            {
                layer: {k: _nanmean(v) for k, v in cols.items() if k in METRICS}
                for layer, cols in self.as_arrays().items()
            },
            title=f"diagnostics: means over {len({r['step'] for r in self.records})} "
            f"recorded batches",
        )

    def __repr__(self) -> str:
        return f"Diagnostics(every={self.every})"


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


def format_table(rows: dict[int, dict[str, float]], title: str = "") -> str:
    """Layer index → metrics, as a fixed-width text table (NaN shown as "-")."""
    header = f"{'layer':<7}" + "".join(f"{name:>20}" for name in METRICS)
    lines = [title, header] if title else [header]
    for layer, metrics in rows.items():
        cells = "".join(
            f"{'-' if math.isnan(metrics[name]) else format(metrics[name], '.4g'):>20}"
            for name in METRICS
        )
        lines.append(f"{layer:<7}{cells}")
    return "\n".join(lines)


def diagnose_network(
    net: Network, X: Any, y: Any, *, lr: float | None = None
) -> list[dict[str, Any]]:
    """The per-layer diagnostics of one batch (X, y), without training.

    Runs one forward and backward pass in training mode, as
    :meth:`Network.gradients` does (so ``net.grads`` and the layers' caches
    hold this batch afterwards, and Dropout draws masks); the parameters
    are not changed.

    Arguments:
        net: the network.
        X: inputs, (m, n_inputs).
        y: targets, in any form ``fit`` accepts.
        lr: when given, "update_ratio" is that of one plain gradient-descent
            step, lr·‖∂L/∂W‖ / ‖W‖; otherwise NaN.

    Returns:
        One dict per Dense layer: "layer" (index in ``net.layers``) and the
        metrics of :data:`METRICS`.
    """
    net.gradients(X, y)
    results = []
    for index, layer in _dense_layers(net):
        if lr is None:
            ratio = math.nan
        else:
            w = _norm(layer.W)
            g = float(lr) * _norm(layer.dW)
            ratio = g / w if w > 0 else math.inf if g else 0.0
        results.append({"layer": index, **_layer_metrics(net, index, ratio)})
    return results
