"""A worked training step, number by number: :func:`explain`.

One step of plain gradient descent on the mean loss over the given
samples, written in the notation of the four equations
(docs/architecture.md) with the actual numbers:

    forward    z_j^[l] = Σ_k w_jk^[l] a_k^[l-1] + b_j^[l],   a_j^[l] = σ(z_j^[l])
    (1)        δ_j^[L] = ∂ℓ/∂a_j^[L] · σ'(z_j^[L])   (a_j − y_j for a canonical pair)
    (2)        δ_j^[l] = (Σ_k w_kj^[l+1] δ_k^[l+1]) · σ'(z_j^[l])
    (3), (4)   ∂L/∂b_j^[l] = δ_j^[l],   ∂L/∂w_jk^[l] = δ_j^[l] a_k^[l-1]   (averaged: 1/m Σ)
    update     w_jk ← w_jk − η ∂L/∂w_jk

Every gradient sits beside its central-difference estimate (float64,
h = 1e-5, one parameter of a copy of the network perturbed at a time) and
the relative error |g_num − g| / (|g_num| + |g|). A network too wide to
read number by number is summarized per layer instead.

The package's modules, in the order they import each other:

* :mod:`.records` — the numbers, as dataclasses;
* :mod:`.notation` — plain text and LaTeX, one class each;
* :mod:`.layout` — the one walk through the equations that both notations fill in;
* :mod:`.html`, :mod:`.data` — HTML tables, and plain data / JSON;
* :mod:`.trace` — :class:`Trace`, the numbers with their renderings;
* :mod:`.units` — the records of one step built from the reference's numbers;
* :mod:`.compute` — :func:`explain`, which evaluates the step with
  :func:`backprop.teaching.reference.reference_step` and checks it with gradcheck's
  central differences.
"""

from backprop.teaching.worked_step.compute import explain
from backprop.teaching.worked_step.records import (
    Delta,
    Formula,
    ForwardUnit,
    Gradient,
    LayerInfo,
    LayerSummary,
    SampleLoss,
)
from backprop.teaching.worked_step.trace import Trace

# Their public home is this package (``backprop.teaching.worked_step.explain``).
explain.__module__ = __name__
Trace.__module__ = __name__

__all__ = [
    "Delta",
    "Formula",
    "ForwardUnit",
    "Gradient",
    "LayerInfo",
    "LayerSummary",
    "SampleLoss",
    "Trace",
    "explain",
]
