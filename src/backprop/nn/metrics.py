"""Metrics of a regression beside its loss: mean squared error and R²."""

from __future__ import annotations

import numpy as np

from backprop._typing import Array


def regression_metrics(outputs: Array, Y: Array) -> dict[str, float]:
    """Mean squared error (over samples and outputs) and R² (averaged over outputs)."""
    residual = outputs.astype(np.float64) - Y
    mse = float(np.mean(residual**2))
    total = np.sum((Y - Y.mean(axis=0)) ** 2, axis=0)
    explained = 1.0 - np.sum(residual**2, axis=0) / np.where(total > 0, total, 1.0)
    r2 = float(np.mean(np.where(total > 0, explained, 0.0)))
    return {"mse": mse, "r2": r2}

