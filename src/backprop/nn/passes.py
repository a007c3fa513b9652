"""The elementwise work beside the matrix products, as NumPy calls: σ's passes and the loss's.

A Dense layer's step is three matrix products (BLAS) and, between them, work
on one number at a time: z + b and σ(z) after the forward product; δ = ∂L/∂a ⊙ σ'(z),
its 1/m and the bias gradient's column sum before the backward ones; at the
top, the loss and where equation (1) begins. That work has two forms:

* NumPy's, here: one NumPy call per operation, each a pass over memory. This
  is the reference: the tests hold every other form to its numbers.
* the compiled path's (``Network(compiled=True)``, the numba extra): the same
  arithmetic fused into one pass per step above
  (:mod:`backprop.nn.compiled_activations`, :mod:`backprop.nn.compiled_losses`).

A layer asks for its σ's passes (``activation_passes`` there) and the network
for its loss's (``loss_passes``); the compiled form is chosen where the
activation or loss names one (its ``compiled_kind``), NumPy's otherwise, so a
user's own activation or loss runs on the compiled path too, at NumPy's speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop._typing import Array
from backprop.nn.activations import Activation
from backprop.nn.losses import Loss, weighted_mean_loss


class ActivationPasses:
    """σ's work in a layer, as NumPy calls: the reference form.

    Arguments:
        activation: the layer's σ.
    """

    def __init__(self, activation: Activation) -> None:
        self.activation = activation

    def add_bias_and_activate(self, z: Array, b: Array | None, a: Array) -> None:
        """z ← z + b (when b is given) and a = σ(z), for z and a of shape (m, n).

        Without ``b``, z is only read (an :class:`~backprop.nn.activation_layer.ActivationLayer`
        hands in its input).
        """
        if b is not None:
            z += b  # z^[l] = W^[l] a^[l-1] + b^[l]
        self.activation.function(z, out=a)  # a^[l] = σ(z^[l])

    def delta_and_bias_gradient(
        self, grad_a: Array, z: Array, a: Array, db: Array | None, *,
        delta_given: bool, scale_delta: bool, delta_out: Array, mean_out: Array,
    ) -> tuple[Array, Array]:
        """δ = ∂L/∂a ⊙ σ'(z), δ/m, and ∂L/∂b = Σ_i δ_i / m, from ∂L/∂a, (m, n).

        ``delta_given``: ``grad_a`` already is δ (a canonical pair's a − y), taken as it is.
        ``scale_delta``: the batch mean's 1/m goes on Δ (into ``mean_out``) rather than on
        the gradients (the caller scales dW; db is scaled here either way).

        Returns (δ, δ/m), the second δ itself when the 1/m is not on Δ; either may be
        ``grad_a`` (read, never written). ``db`` (None without bias) receives ∂L/∂b.
        """
        m = grad_a.shape[0]
        # (1), (2)  δ^[l] = ∂L/∂a^[l] ⊙ σ'(z^[l])
        delta = grad_a if delta_given else self.activation.multiply_by_derivative(
            grad_a, z, a, out=delta_out)
        mean_delta = np.multiply(delta, 1.0 / m, out=mean_out) if scale_delta else delta
        # (3)       ∂L/∂b^[l] = δ^[l], summed over the samples (rows): Δ's column sums (/ m)
        if db is not None:
            np.add.reduce(mean_delta, axis=0, out=db)
            if m > 1 and not scale_delta:
                db *= 1.0 / m
        return delta, mean_delta

    def prepare(self, dtype: np.dtype[Any]) -> None:
        """Make ready what the passes need for ``dtype`` (NumPy's: nothing)."""


class LossPasses:
    """The loss's work at the top of the network, as NumPy calls: the reference form.

    Arguments:
        loss: the network's loss.
        activation: the output layer's σ_L, which decides whether the pair is canonical.
    """

    def __init__(self, loss: Loss, activation: Activation) -> None:
        self.loss = loss
        self.activation = activation
        self.fused = loss.fuses_with(activation)

    def value(self, z: Array, a: Array, y: Array) -> float:
        """L, the batch's mean loss, from z^[L] (log-sum-exp) for a canonical pair, else a^[L]."""
        if self.fused:
            return self.loss.value_from_logits(z, y)
        return self.loss.value(a, y)

    def value_and_gradient(self, z: Array, a: Array, y: Array, out: Array,
                           sample_weight: Array | None = None) -> tuple[float, Array, bool]:
        """L, and where the backward pass begins, written into ``out``: (L, g, is_delta)
        as :meth:`Loss.output_gradient <backprop.nn.losses.Loss.output_gradient>` says.

        With ``sample_weight`` (m,), L is the weighted mean Σ w_i ℓ_i / Σ w_i and row i of
        g is scaled by w_i · m / Σ w (:func:`~backprop.nn.losses.weighted_mean_loss`).
        """
        if sample_weight is None:
            value = self.value(z, a, y)
            grad, is_delta = self.loss.output_gradient(self.activation, a, y, out=out)
            return value, grad, is_delta
        losses = (self.loss.sample_losses_from_logits(z, y) if self.fused
                  else self.loss.sample_losses(a, y))
        value, row_factors = weighted_mean_loss(losses, sample_weight)
        grad, is_delta = self.loss.output_gradient(self.activation, a, y, out=out)
        # ∂L/∂a^[L] (or δ^[L]) of the weighted mean: row i times w_i · m / Σ w
        grad = np.multiply(grad, row_factors.astype(out.dtype)[:, None], out=out)
        return value, grad, is_delta

    def prepare(self, dtype: np.dtype[Any]) -> None:
        """Make ready what the pass needs for ``dtype`` (NumPy's: nothing)."""
