"""The estimators' objective: the network's mean loss plus scikit-learn's L2 penalty.

scikit-learn's MLP minimizes, on a batch of m samples,

    J = L + (α / 2m) Σ_l ‖W^[l]‖²        ∂J/∂W^[l] = ∂L/∂W^[l] + (α / m) W^[l]

where L is the network's mean loss: the penalty covers the weights only,
never the biases (nor BatchNorm's γ, β). The library's optimizers'
``weight_decay`` decays every parameter, biases included, so the penalty is
added here instead: :meth:`backprop.Network.backprop` fills ``net.grads``
with ∂L/∂θ, and (α / m) W is added to each Dense layer's dW, a view into it.

With sample weights w (scikit-learn's ``sample_weight``, :mod:`backprop.sklearn.weights`)
the objective is scikit-learn's weighted one:

    J = Σ_i w_i ℓ_i / Σ_i w_i + (α / 2 Σ_i w_i) Σ_l ‖W^[l]‖²

the weighted mean loss (``Network.backprop(X, Y, sample_weight)``) and the penalty
over Σ w in place of m; w all 1 gives the numbers of no weights.

One epoch of a stochastic solver (:func:`run_epoch`) is the library's
training step repeated: backprop, the penalty, optional clipping, then the
optimizer's ``step`` on the flat buffers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from backprop._typing import Array
from backprop.errors import DivergenceError
from backprop.network import Network
from backprop.nn.layers import Dense
from backprop.nn.losses import weighted_mean_loss
from backprop.optim.clipping import clip_grad_norm
from backprop.optim.rules import Optimizer
from backprop.streaming import BatchIterable, Source, StreamBatches
from backprop.validation import is_sparse


def penalized_backprop(net: Network, X: Array, Y: Array, alpha: float,
                       sample_weight: Array | None = None) -> float:
    """J = L + (α / 2m) Σ ‖W‖² on the batch (X, Y); ``net.grads`` holds ∂J/∂θ afterwards.

    With ``sample_weight`` w (m,), L is the weighted mean loss and m becomes Σ w.
    """
    loss = net.backprop(X, Y, sample_weight)
    if alpha == 0.0:
        return loss
    m = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
    for layer in net.layers:
        if isinstance(layer, Dense):
            dW = layer.dW
            dW += (alpha / m) * layer.W  # ∂J/∂W = ∂L/∂W + (α / m) W
    return float(loss + l2_penalty(net, alpha, m))  # J = L + (α / 2m) Σ ‖W‖²


def l2_penalty(net: Network, alpha: float, m: float) -> float:
    """(α / 2m) Σ_l ‖W^[l]‖², the penalty term of J for m samples, or m = Σ w with sample
    weights (on the weights W only)."""
    squared_norms = sum(float(np.dot(W, W)) for W in
                        (layer.W.reshape(-1) for layer in net.layers if isinstance(layer, Dense)))
    return 0.5 * alpha * squared_norms / m


def weighted_loss(net: Network, X: Array, Y: Array, sample_weight: Array) -> float:
    """Σ w_i ℓ_i / Σ w_i on (X, Y) in inference mode: the weighted mean loss of held-out rows."""
    outputs = net.forward_checked(X)
    return weighted_mean_loss(net.loss.sample_losses(outputs, Y), sample_weight)[0]


def batch_bounds(m: int, batch_size: int, no_single_batch: bool) -> list[tuple[int, int]]:
    """(start, end) of each batch; a last batch of one sample joins the one before it
    when ``no_single_batch`` (BatchNorm cannot normalize a single sample)."""
    starts = list(range(0, m, batch_size))
    if no_single_batch and len(starts) > 1 and m - starts[-1] == 1:
        starts.pop()
    return list(zip(starts, [*starts[1:], m], strict=True))


def run_epoch(
    net: Network,
    optimizer: Optimizer,
    X: Array | StreamedData,
    Y: Array,
    *,
    batch_size: int,
    shuffle: bool,
    alpha: float,
    clip_norm: float | None,
    no_single_batch: bool,
    after_batch: Callable[[float, int], bool] | None = None,
    sample_weight: Array | None = None,
) -> float:
    """One pass over (X, Y) in mini-batches; returns the mean of J over the samples.

    Each batch: J and ∂J/∂θ (:func:`penalized_backprop`), the global-norm clip
    when ``clip_norm`` is set, then θ ← θ − Δθ (``optimizer.step``). Samples are
    shuffled by index with the network's generator when ``shuffle``.
    ``after_batch(J, batch size)``, when given, is called after each update; when it
    returns True the epoch ends there (the mean is then over the samples seen). With
    ``sample_weight`` each batch's J is weighted by its rows' weights (as scikit-learn's,
    the mean over the epoch is by batch size); a batch whose weights are all 0 carries no
    loss and no gradient: it is skipped (no update) and left out of the mean.
    """
    total, seen = 0.0, 0
    for X_b, Y_b, w_b in _epoch_batches(net, X, Y, batch_size, shuffle, no_single_batch,
                                        sample_weight):
        if w_b is not None and not np.any(w_b):
            continue  # no weight in this batch: nothing to learn from it
        loss = train_batch(net, optimizer, X_b, Y_b, alpha, clip_norm, w_b)
        total += loss * X_b.shape[0]
        seen += X_b.shape[0]
        if after_batch is not None and after_batch(loss, X_b.shape[0]):
            break
    return float(total / seen) if seen else 0.0


def _epoch_batches(
    net: Network, X: Array | StreamedData, Y: Array, batch_size: int, shuffle: bool,
    no_single_batch: bool, sample_weight: Array | None,
) -> Iterator[tuple[Array, Array, Array | None]]:
    """The batches (X_b, Y_b, their weights or None) of one epoch, shuffled with the
    network's generator."""
    if isinstance(X, StreamedData):  # read from disk or an iterable, shuffled in a buffer
        batches = StreamBatches(net, X.source, batch_size, shuffle,
                                no_single_batch=no_single_batch)
        for which in batches.epoch(net.rng):
            yield (*batches.gather(which), None)  # weights are refused on a stream
        return
    m = X.shape[0]
    order = net.rng.permutation(m) if shuffle else None
    for start, end in batch_bounds(m, batch_size, no_single_batch):
        if order is None:
            X_b, Y_b = X[start:end], Y[start:end]
            w_b = None if sample_weight is None else sample_weight[start:end]
        else:
            rows = order[start:end]
            # sparse X: its CSR rows gathered by index, a small CSR batch (never densified)
            X_b = X[rows] if is_sparse(X) else np.take(X, rows, axis=0)
            Y_b = np.take(Y, rows, axis=0)
            w_b = None if sample_weight is None else np.take(sample_weight, rows)
        yield X_b, Y_b, w_b


def train_batch(net: Network, optimizer: Optimizer, X_b: Array, Y_b: Array, alpha: float,
                clip_norm: float | None, w_b: Array | None = None) -> float:
    """One update: J and ∂J/∂θ (the rows weighted by ``w_b`` when given), the clip when
    ``clip_norm`` is set, θ ← θ − Δθ; returns J."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss = penalized_backprop(net, X_b, Y_b, alpha, w_b)
    if not math.isfinite(loss):
        raise DivergenceError(
            f"training diverged: the loss became {loss} (learning rate {optimizer.lr:g}); "
            "try a smaller learning_rate_init"
        )
    if clip_norm is not None:
        clip_grad_norm(net.grads, clip_norm)
    optimizer.step(net.params, net.grads)
    return loss


class StreamedData:
    """An estimator's training data read in batches (:mod:`backprop.streaming`): a memmap,
    .npy files or an iterable of batches, with its size and width; it stands in for X.

    On the first pass it records ``n_features_in_`` on the estimator, later it checks
    it; early stopping (a validation split held in memory) is refused.
    """

    def __init__(self, source: Source | BatchIterable, n_samples: int, n_features: int,
                 dtype: Any, name: str, first_pass: bool, early_stopping: bool,
                 estimator: Any) -> None:
        if early_stopping:
            raise ValueError(f"{name}: early_stopping needs the data in memory; it is not "
                             "available when X is streamed (a memmap, files or batches)")
        if first_pass:
            estimator.n_features_in_ = n_features
            if hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
        elif n_features != estimator.n_features_in_:
            raise ValueError(f"X has {n_features} features, but {name} is expecting "
                             f"{estimator.n_features_in_} features as input")
        self.source = source
        self.shape = (n_samples, n_features)
        self.dtype = np.dtype(np.float32 if dtype == np.float32 else np.float64)

    def use_targets(self, encode: Callable[[np.ndarray], np.ndarray]) -> None:
        """Targets are read as y and trained on as ``encode(y)`` rows."""
        self.source.target_transform = encode
