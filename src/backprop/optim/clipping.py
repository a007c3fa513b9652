"""Gradient clipping by global norm, before an update."""

from __future__ import annotations

import math

import numpy as np

from backprop._typing import Array


def clip_grad_norm(grads: Array, max_norm: float) -> float:
    """Scale the flat gradient buffer in place so its global L2 norm is at most ``max_norm``.

    g ← g · max_norm / ‖g‖ when ‖g‖ > max_norm, else g is left alone: the
    direction never changes. ‖g‖ is the norm of every gradient together
    (all layers, weights and biases), as torch.nn.utils.clip_grad_norm_
    computes it; PyTorch divides by ‖g‖ + 1e-6 and so clips to a norm a
    hair under max_norm, here the clipped norm is max_norm itself.

    Returns:
        ‖g‖ before clipping.
    """
    with np.errstate(over="ignore"):  # an overflow is handled just below
        norm = math.sqrt(float(np.dot(grads, grads)))
    if not math.isfinite(norm) and grads.dtype != np.float64:
        # Σ g² overflowed float32 although every g is finite: sum the squares in float64.
        wide = grads.astype(np.float64)
        norm = math.sqrt(float(np.dot(wide, wide)))
    if norm > max_norm:
        grads *= max_norm / norm  # one vectorized operation over every parameter
    return norm
