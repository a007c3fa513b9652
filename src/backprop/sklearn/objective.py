"""The estimators' objective: the network's mean loss plus scikit-learn's L2 penalty.

scikit-learn's MLP minimizes, on a batch of m samples,

    J = L + (α / 2m) Σ_l ‖W^[l]‖²        ∂J/∂W^[l] = ∂L/∂W^[l] + (α / m) W^[l]

where L is the network's mean loss: the penalty covers the weights only,
never the biases (nor BatchNorm's γ, β). The library's optimizers'
``weight_decay`` decays every parameter, biases included, so the penalty is
added here instead: :meth:`backprop.Network.backprop` fills ``net.grads``
with ∂L/∂θ, and (α / m) W is added to each Dense layer's dW, a view into it.

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
from backprop.optim.clipping import clip_grad_norm
from backprop.optim.rules import Optimizer
from backprop.streaming import BatchIterable, Source, StreamBatches
from backprop.validation import is_sparse


def penalized_backprop(net: Network, X: Array, Y: Array, alpha: float) -> float:
    """J = L + (α / 2m) Σ ‖W‖² on the batch (X, Y); ``net.grads`` holds ∂J/∂θ afterwards."""
    loss = net.backprop(X, Y)
    if alpha == 0.0:
        return loss
    m = X.shape[0]
    squared_norms = 0.0
    for layer in net.layers:
        if isinstance(layer, Dense):
            W = layer.W.reshape(-1)
            squared_norms += float(np.dot(W, W))  # ‖W^[l]‖²
            dW = layer.dW
            dW += (alpha / m) * layer.W  # ∂J/∂W = ∂L/∂W + (α / m) W
    return float(loss + 0.5 * alpha * squared_norms / m)  # J = L + (α / 2m) Σ ‖W‖²


def l2_penalty(net: Network, alpha: float, m: int) -> float:
    """(α / 2m) Σ_l ‖W^[l]‖², the penalty term of J for m samples (weights only)."""
    squared_norms = sum(float(np.dot(W, W)) for W in
                        (layer.W.reshape(-1) for layer in net.layers if isinstance(layer, Dense)))
    return 0.5 * alpha * squared_norms / m


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
) -> float:
    """One pass over (X, Y) in mini-batches; returns the mean of J over the samples.

    Each batch: J and ∂J/∂θ (:func:`penalized_backprop`), the global-norm clip
    when ``clip_norm`` is set, then θ ← θ − Δθ (``optimizer.step``). Samples are
    shuffled by index with the network's generator when ``shuffle``.
    ``after_batch(J, batch size)``, when given, is called after each update; when it
    returns True the epoch ends there (the mean is then over the samples seen).
    """
    total, seen = 0.0, 0
    for X_b, Y_b in _epoch_batches(net, X, Y, batch_size, shuffle, no_single_batch):
        loss = train_batch(net, optimizer, X_b, Y_b, alpha, clip_norm)
        total += loss * X_b.shape[0]
        seen += X_b.shape[0]
        if after_batch is not None and after_batch(loss, X_b.shape[0]):
            break
    return float(total / seen)


def _epoch_batches(net: Network, X: Array | StreamedData, Y: Array, batch_size: int,
                   shuffle: bool, no_single_batch: bool) -> Iterator[tuple[Array, Array]]:
    """The batches (X_b, Y_b) of one epoch, shuffled with the network's generator."""
    if isinstance(X, StreamedData):  # read from disk or an iterable, shuffled in a buffer
        batches = StreamBatches(net, X.source, batch_size, shuffle,
                                no_single_batch=no_single_batch)
        for which in batches.epoch(net.rng):
            yield batches.gather(which)
        return
    m = X.shape[0]
    order = net.rng.permutation(m) if shuffle else None
    for start, end in batch_bounds(m, batch_size, no_single_batch):
        if order is None:
            yield X[start:end], Y[start:end]
        else:
            rows = order[start:end]
            # sparse X: its CSR rows gathered by index, a small CSR batch (never densified)
            X_b = X[rows] if is_sparse(X) else np.take(X, rows, axis=0)
            yield X_b, np.take(Y, rows, axis=0)


def train_batch(net: Network, optimizer: Optimizer, X_b: Array, Y_b: Array, alpha: float,
                clip_norm: float | None) -> float:
    """One update: J and ∂J/∂θ, the clip when ``clip_norm`` is set, θ ← θ − Δθ; returns J."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss = penalized_backprop(net, X_b, Y_b, alpha)
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
