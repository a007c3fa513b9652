"""The four equations once more, out of place, one sample at a time, in float64.

The engine (:meth:`Network.backprop`) works in place on whole batches for
speed; this module writes the same step the way the equations read, as
column vectors of one sample, so the two can be compared and the worked
step (:func:`backprop.explain`) and the lab's sandbox can show each number:

    z^[l] = W^[l] a^[l-1] + b^[l],   a^[l] = σ(z^[l]),   a^[0] = x
    (1) δ^[L] = ∂ℓ/∂a^[L] ⊙ σ'(z^[L])            (a^[L] − y for a canonical pair)
    (2) δ^[l] = (W^[l+1]ᵀ δ^[l+1]) ⊙ σ'(z^[l])
    (3) ∂L/∂b^[l] = 1/m Σ_i δ_i^[l]
    (4) ∂L/∂W^[l] = 1/m Σ_i δ_i^[l] a_i^[l-1]ᵀ

This module only walks the layers: each layer kind carries its own form of
the two passes (``reference_forward``, ``reference_backward``: Dense's are the
lines above; BatchNorm's work on the batch, whose statistics couple the
samples), and the loss says where the backward pass begins, as in the engine.

``mistake`` swaps in one of :data:`MISTAKES`, backward rules that are
KNOWN TO BE WRONG, for teaching and for showing that the tests catch them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np

from backprop.network import Network
from backprop.nn.reference_form import BackwardRule, ReferenceBackward, Saved

#: Known-wrong backward rules, by name. Each gives wrong gradients on purpose.
MISTAKES: dict[str, str] = {
    "drop-sigma-prime": "WRONG: the hidden error without ⊙σ'(z): δ^[l] = W^[l+1]ᵀ δ^[l+1]",
    "stale-weights": "WRONG: the hidden error uses W^[l+1] − η ∂L/∂W^[l+1], the weights "
                     "already updated (a per-neuron loop that updates as it goes; needs lr)",
    "transpose-W": "WRONG: W^[l+1] δ^[l+1] instead of W^[l+1]ᵀ δ^[l+1] (square layers only)",
    "forget-1/m": "WRONG: ∂L/∂W summed over the batch instead of averaged (∂L/∂b averaged)",
    "sum-not-mean": "WRONG: ∂L/∂W and ∂L/∂b summed over the batch: the gradient of Σ ℓ, "
                    "not of the mean loss",
}

#: Each mistake as a setting of the equations' switches, given the learning rate.
_RULES: dict[str, Callable[[float], BackwardRule]] = {
    "drop-sigma-prime": lambda lr: BackwardRule(sigma_prime=False),
    "stale-weights": lambda lr: BackwardRule(stale_lr=lr),
    "transpose-W": lambda lr: BackwardRule(transpose=False),
    "forget-1/m": lambda lr: BackwardRule(mean_dW=False),
    "sum-not-mean": lambda lr: BackwardRule(mean_dW=False, mean_db=False),
}

T = TypeVar("T")


@dataclass(frozen=True)
class ReferenceStep:
    """Every quantity of one step, per sample (rows), float64. Index k is layer k + 1 of
    ``net.layers``; for a stack of Dense layers, layer l = k + 1 of the equations."""

    activations: list[np.ndarray]  # a^[0] = X, then each layer's output a^[l], (m, n_l)
    saved: list[Saved]  # what each layer's reference forward kept (a Dense layer: its z)
    # ∂ℓ_i/∂a of each layer's output, handed to its backward (for a Dense layer the factor
    # before ⊙σ'(z^[l]): ∂ℓ/∂a^[L] at the top, W^[l+1]ᵀ δ^[l+1] below); None for the
    # output of a canonical pair, whose δ^[L] = a^[L] − y skips it
    upstream: list[np.ndarray | None]
    backward: list[ReferenceBackward]  # each layer's δ, parameter gradients, ∂ℓ_i/∂a below
    loss: float  # L, the mean over the batch of ℓ
    sample_losses: np.ndarray  # ℓ of each sample, (m,)
    gradient: np.ndarray  # ∂L/∂θ of the mean loss, laid out as ``net.params``

    # -- the view of a stack of Dense layers (the worked step's unit-by-unit numbers) --
    @property
    def zs(self) -> list[np.ndarray]:
        """z^[l] of each layer, (m, n_l)."""
        return _every_layer([saved.get("z") for saved in self.saved], "z")

    @property
    def deltas(self) -> list[np.ndarray]:
        """δ^[l] = ∂ℓ_i/∂z^[l] of each layer, per sample, (m, n_l)."""
        return _every_layer([step.delta for step in self.backward], "δ")

    @property
    def dW(self) -> list[np.ndarray]:
        """∂L/∂W^[l] of the mean loss, (n_l, n_{l-1})."""
        return _every_layer([step.gradients.get("W") for step in self.backward], "W")

    @property
    def db(self) -> list[np.ndarray | None]:
        """∂L/∂b^[l] of the mean loss, (n_l,); None for a layer without bias."""
        _every_layer([step.gradients.get("W") for step in self.backward], "W")
        return [step.gradients.get("b") for step in self.backward]


def _every_layer(values: list[T | None], what: str) -> list[T]:
    missing = [k + 1 for k, value in enumerate(values) if value is None]
    if missing:
        raise ValueError(f"layer {missing[0]} has no {what}: this view is of a stack of "
                         f"Dense layers (see ReferenceStep.backward for any other)")
    return [value for value in values if value is not None]


def backward_rule(mistake: str | None, lr: float | None = None) -> BackwardRule:
    """The equations' switches for a mistake of :data:`MISTAKES` (None: the right rule)."""
    if mistake is None:
        return BackwardRule()
    if mistake not in MISTAKES:
        raise ValueError(f"unknown mistake {mistake!r}; valid: {', '.join(MISTAKES)}")
    if mistake == "stale-weights" and lr is None:
        raise ValueError("the stale-weights mistake needs lr, the learning rate of the update")
    return _RULES[mistake](0.0 if lr is None else float(lr))


@contextmanager
def _naming_the_layer(mistake: str | None, index: int) -> Iterator[None]:
    """A rule that cannot apply to a layer (W δ of a W not square) says which layer."""
    try:
        yield
    except ValueError as error:
        raise ValueError(f"{mistake} at layer {index + 1}: {error}") from None


def reference_step(net: Network, X: Any, Y: Any, *, mistake: str | None = None,
                   lr: float | None = None) -> ReferenceStep:
    """The forward pass and equations (1)–(4) of ``net`` on (X, Y), sample by sample.

    X is (m, n_inputs) and Y (m, n_outputs), as from ``net.check_inputs`` and
    ``net.prepare_targets``. ``net`` is read, never changed: as in training, each
    Dropout multiplies by its current ``mask`` (freeze it to compare with the engine),
    each BatchNorm normalizes with the batch's own statistics. ``mistake`` names a
    known-wrong rule of :data:`MISTAKES` to use instead of the right one; ``lr`` is
    the learning rate that "stale-weights" updates with.
    """
    rule = backward_rule(mistake, lr)
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    # the forward pass, l = 1..L: each layer's own reference form
    activations, saved = [X], []
    for layer in net.layers:
        a, kept = layer.reference_forward(activations[-1])
        activations.append(a)
        saved.append(kept)
    output, a_L, top = net.output_layer, activations[-1], len(net.layers) - 1
    sample_losses = np.array([
        net.loss.value_from_logits(saved[top]["z"][i:i + 1], Y[i:i + 1]) if net.fused_output
        else net.loss.value(a_L[i:i + 1], Y[i:i + 1]) for i in range(X.shape[0])])
    # (1) begins in the loss: row i is ∂ℓ_i/∂a_i^[L], or δ_i^[L] = a_i^[L] − y_i itself
    grad, is_delta = net.loss.output_gradient(output.activation, a_L, Y, out=np.empty_like(a_L))
    upstream: list[np.ndarray | None] = [None] * len(net.layers)
    steps: list[ReferenceBackward] = []
    # the backward pass, l = L..1; the mistakes are of the hidden errors: (1) stays right
    upstream[top] = None if is_delta else grad
    with _naming_the_layer(mistake, top):
        steps.append(output.reference_backward(grad, saved[top], replace(rule, sigma_prime=True),
                                               delta_given=is_delta))
    for k in range(top - 1, -1, -1):
        g = upstream[k] = steps[-1].grad_input
        assert g is not None  # only the first layer, the last here, gives None
        with _naming_the_layer(mistake, k):
            steps.append(net.layers[k].reference_backward(g, saved[k], rule))
    steps.reverse()
    gradient = np.zeros(net.params.size)
    for index, name, where in net.parameter_slices:
        gradient[where] = np.ravel(steps[index].gradients[name])
    return ReferenceStep(activations, saved, upstream, steps, float(np.mean(sample_losses)),
                         sample_losses, gradient)
