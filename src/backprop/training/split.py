"""Both cores for one step: the batch cut in two halves, each half's backprop on a thread.

An engine lever, off by default, for the benchmark to measure against the
default (``BACKPROP_BATCH_THREADS=2``, its ``split2`` lever, which also sets
OpenBLAS to one thread): the first half of the batch runs through
:meth:`Network.backprop <backprop.network.Network.backprop>` on the calling
thread while the second runs through a :meth:`replica
<backprop.network.Network.replica>` of the network (the same parameters, its
own gradients) on a second thread. NumPy releases the GIL in its products and
the compiled passes release it too, so the two halves overlap.

The gradient of the batch's mean loss is then (m₁ g₁ + m₂ g₂) / m: the sum over
the samples, cut in two, is added in another order than one product's, so the
step equals the one-thread step to rounding, not bit for bit. Afterwards the
output layer's ``a`` holds the whole batch's a^[L] (fit's accuracy reads it);
the other layers' cached arrays hold the first half's. Networks whose
layers look at the whole batch (BatchNorm) or draw from one generator in order
(Dropout), or kinds of a user's own, keep the one-thread step.
"""

from __future__ import annotations

import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError
from backprop.nn.activation_layer import ActivationLayer
from backprop.nn.layers import Dense

if TYPE_CHECKING:
    from backprop.network import Network

ENVIRONMENT = "BACKPROP_BATCH_THREADS"


def batch_threads() -> int:
    """How many threads a step's batch is cut between: ``$BACKPROP_BATCH_THREADS`` (1 or 2)."""
    value = os.environ.get(ENVIRONMENT, "1").strip() or "1"
    if value not in ("1", "2"):
        raise OptionError(f"{ENVIRONMENT} must be 1 or 2, got {value!r}")
    return int(value)


class SplitBackprop:
    """``backprop(X, Y)`` of one network with its batch cut in two halves, run on two threads."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.replica = net.replica()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="backprop-half")
        self._scaled: Array | None = None
        self._outputs: dict[int, Array] = {}

    def _second_half(self, X: Array, Y: Array) -> float:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # as fit's thread
            return self.replica.backprop(X, Y)

    def backprop(self, X: Array, Y: Array) -> float:
        """L of the batch; ``net.grads`` holds ∂L/∂θ of the whole batch's mean loss."""
        net, m = self.net, X.shape[0]
        half = m // 2
        if half == 0:
            return net.backprop(X, Y)
        second = self.pool.submit(self._second_half, X[half:], Y[half:])
        first_loss = net.backprop(X[:half], Y[:half])
        second_loss: float = second.result()
        # g = (m₁ g₁ + m₂ g₂) / m, with each g_i the mean over its half
        scaled = self._scaled
        if scaled is None or scaled.shape != net.grads.shape or scaled.dtype != net.grads.dtype:
            scaled = self._scaled = np.empty_like(net.grads)
        np.multiply(self.replica.grads, (m - half) / m, out=scaled)
        net.grads *= half / m
        net.grads += scaled
        output, replica_output = net.output_layer, self.replica.output_layer
        assert output.a is not None and replica_output.a is not None
        outputs = self._outputs.get(m)
        if outputs is None or outputs.dtype != output.a.dtype:
            outputs = self._outputs[m] = np.empty((m, output.n_out), output.a.dtype)
        outputs[:half], outputs[half:] = output.a, replica_output.a
        output.a = outputs  # a^[L] of the whole batch
        return float((half * first_loss + (m - half) * second_loss) / m)


_splits: weakref.WeakKeyDictionary[Network, SplitBackprop] = weakref.WeakKeyDictionary()


def splits(net: Network) -> bool:
    """Whether ``net``'s steps cut the batch in two: the lever is on, and every layer is a
    Dense or an ActivationLayer (their passes look at one sample at a time)."""
    return batch_threads() > 1 and all(
        type(layer) in (Dense, ActivationLayer) for layer in net.layers)


def split_backprop(net: Network, X: Array, Y: Array) -> float:
    """``net.backprop(X, Y)`` with the batch cut in two halves on two threads."""
    split = _splits.get(net)
    if (split is None or split.replica.params is not net.params
            or split.replica.compiled != net.compiled):
        split = _splits[net] = SplitBackprop(net)
    return split.backprop(X, Y)
