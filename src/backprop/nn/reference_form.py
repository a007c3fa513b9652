"""What a layer kind's reference form exchanges with :mod:`backprop.teaching.reference`.

Each layer kind writes its two passes a second time, as the equations read them
(out of place, float64, one sample at a time where the kind allows):
``reference_forward(a_prev) -> (a, saved)`` and
``reference_backward(grad_a, saved, rule) -> ReferenceBackward``. The types here
are those passes' words: what a forward pass keeps, the switches of the
equations (which the known-wrong rules of the teaching module set), and what a
backward pass gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

#: What a layer's reference forward pass keeps for its reference backward pass, by name.
Saved = dict[str, np.ndarray]


@dataclass(frozen=True)
class BackwardRule:
    """How a reference backward pass applies the equations; the defaults are the equations.

    :data:`backprop.teaching.reference.MISTAKES` names known-wrong settings of these
    switches, for teaching. Kinds without a σ' or a W ignore them.
    """

    sigma_prime: bool = True  # (2): ⊙ σ'(z); False drops the factor
    transpose: bool = True  # Wᵀ δ; False: W δ (square W only)
    mean_dW: bool = True  # (4): 1/m Σ_i; False: the sum
    mean_db: bool = True  # (3): 1/m Σ_i; False: the sum
    stale_lr: float | None = None  # Wᵀ δ through W − η ∂L/∂W, the weights already updated


#: The right rule: the equations as they are.
RIGHT = BackwardRule()


class ReferenceBackward(NamedTuple):
    """What a layer's reference backward pass gives, in float64."""

    grad_input: np.ndarray | None  # ∂ℓ_i/∂a of its input, per sample (m, n_in); None: not needed
    gradients: dict[str, np.ndarray]  # ∂L/∂θ of the mean loss, by parameter name
    delta: np.ndarray | None = None  # δ_i = ∂ℓ_i/∂z per sample, for a kind with a z (Dense)
