"""A user's own activation for the estimators' tests: a scaled softsign, registered by name."""

from __future__ import annotations

from typing import Any

import numpy as np

import backprop as bp

NAME = "scaled_softsign"


class ScaledSoftsign(bp.Activation):
    """σ(z) = s·z / (1 + |z|),  σ'(z) = s / (1 + |z|)²."""

    name = NAME
    derivative_formula = "s / (1 + |z|)²"

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = float(scale)

    def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.divide(z, 1.0 + np.abs(z), out=out)
        out *= self.scale
        return out

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return self.scale / (1.0 + np.abs(z)) ** 2

    def config(self) -> dict[str, Any]:
        return {"name": NAME, "scale": self.scale}


def register() -> None:
    """Register it (from a fixture, when the tests run: other files' collections never see it)."""
    bp.register_activation(NAME, ScaledSoftsign)
