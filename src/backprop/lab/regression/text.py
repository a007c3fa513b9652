"""/regression's readouts: the numbers, the gradient formulas with them, the status line.

Every number here comes from the engine's evaluation (L, ∂L/∂w, ∂L/∂b, δᵢ) or
from :mod:`backprop.lab.regression.math`'s exact results; this module only arranges them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop.lab.regression.math import Scaling, Stability

#: Samples written out term by term in a formula before "…".
TERMS_SHOWN = 3


@dataclass
class Evaluation:
    """L, ∂L/∂w, ∂L/∂b on all the data at the current (w, b), and δᵢ = aᵢ − yᵢ."""

    loss: float
    grad_w: float
    grad_b: float
    delta: np.ndarray


def number(value: float, digits: int = 4) -> str:
    """A number for a formula: a few significant digits, a real minus sign."""
    return f"{value:.{digits}g}".replace("-", "−")


def operand(value: float) -> str:
    """A number inside an expression: negative ones in parentheses, as in a − (−b)."""
    text = number(value)
    return f"({text})" if value < 0 else text


def _sum_terms(terms: list[str], n: int) -> str:
    shown = " + ".join(terms[:TERMS_SHOWN])
    return f"{shown} + …" if n > TERMS_SHOWN else shown


def formulas(x: np.ndarray, y: np.ndarray, w: float, b: float, e: Evaluation) -> dict[str, str]:
    """The four equations of one linear unit with the current numbers (units trained)."""
    n = len(x)
    shown = range(min(n, TERMS_SHOWN))
    a = e.delta + y
    forward = ", ".join(
        f"a{_sub(i)} = {operand(w)}·{operand(x[i])} + {operand(b)} = {number(a[i])}"
        for i in shown)
    deltas = ", ".join(
        f"δ{_sub(i)} = {operand(a[i])} − {operand(y[i])} = {number(e.delta[i])}" for i in shown)
    with np.errstate(all="ignore"):
        squares = [number(float(np.square(e.delta[i]))) for i in shown]
    products = [f"{operand(e.delta[i])}·{operand(x[i])}" for i in shown]
    plain = [operand(e.delta[i]) for i in shown]
    return {
        "forward": f"aᵢ = w·xᵢ + b: {forward}{', …' if n > TERMS_SHOWN else ''}",
        "delta": f"δᵢ = aᵢ − yᵢ: {deltas}{', …' if n > TERMS_SHOWN else ''}",
        "loss": f"L = (1/n) Σ ½ δᵢ² = (1/{n})·½·({_sum_terms(squares, n)}) = {number(e.loss)}",
        "grad_w": f"∂L/∂w = (1/n) Σ δᵢ·xᵢ = (1/{n})·({_sum_terms(products, n)}) "
                  f"= {number(e.grad_w)}",
        "grad_b": f"∂L/∂b = (1/n) Σ δᵢ = (1/{n})·({_sum_terms(plain, n)}) = {number(e.grad_b)}",
    }


def _sub(i: int) -> str:
    return str(i + 1).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


@dataclass(frozen=True)
class Divergence:
    """Why a run paused as diverging: at ``step`` the loss rose past ``factor`` × its value
    at the start of the run (``kind`` "threshold"), or the next step's values would not be
    finite numbers ("nonfinite")."""

    kind: str
    step: int
    factor: float
    start_loss: float | None = None
    loss: float | None = None


def divergence_rule(factor: float) -> str:
    """The page's own rule for calling a run diverging, in one sentence."""
    return (f"A run (play, or a batch of steps) pauses as diverging once its loss L rises "
            f"past {factor:g} × its value at the start of the run: this simulator's own "
            "threshold, stricter than training's guard (fit stops at 1000 ×).")


def status(
    lr: float, stability: Stability | None, batch_mode: str, diverged: Divergence | None,
    distance: float | None,
) -> dict[str, str]:
    """The run's state in words and numbers: diverging, zig-zag, converging, converged."""
    if stability is None:
        return {"kind": "empty", "text": "no data: click the plot to add points, or generate a set"}
    bound, half = stability.bound, stability.zigzag_from
    bound_is = f"{stability.bound_name} = {number(bound, 3)}"
    if stability.momentum:
        bound_is = (f"{stability.bound_name} = 2(1 + {number(stability.momentum, 3)})/λ_max = "
                    f"{number(bound, 3)}")
    half_is = f"{stability.zigzag_name} = {number(half, 3)}"
    note = "" if batch_mode == "full" else " (the bound is for full batches)"
    if diverged is not None:
        if diverged.kind == "threshold" and diverged.loss is not None \
                and diverged.start_loss is not None:
            why = (f"paused at step {diverged.step}: L = {number(diverged.loss, 3)} rose past "
                   f"{diverged.factor:g} × its starting value {number(diverged.start_loss, 3)}")
        else:
            why = (f"paused before step {diverged.step}, whose values would not be finite "
                   "numbers")
        if lr <= bound and batch_mode == "full":
            return {"kind": "overshoot",
                    "text": f"overshooting: {why}; lr {number(lr, 3)} < {bound_is}, so "
                            "full-batch descent still converges: play on to see it"}
        cause = (f"lr {number(lr, 3)} > {bound_is}" if lr > bound
                 else f"lr {number(lr, 3)}, {batch_mode} batches")
        return {"kind": "diverged", "text": f"diverging: {cause}; {why}"}
    if lr > bound:
        return {"kind": "diverging",
                "text": f"diverging: lr {number(lr, 3)} > {bound_is}{note}: "
                        "each step overshoots the minimum by more than it started"}
    if distance is not None and distance < 1e-9:
        return {"kind": "converged", "text": "converged: at the least-squares solution"}
    if lr > half:
        return {"kind": "zigzag",
                "text": f"zig-zag: {half_is} < lr {number(lr, 3)} < {bound_is}{note}: each "
                        "step overshoots along the steepest direction, and still converges"}
    return {"kind": "converging",
            "text": f"converging: lr {number(lr, 3)} ≤ {half_is}{note}"}


def readouts(
    *, params: tuple[float, float], scaling: Scaling, current: Evaluation | None,
    closed: tuple[float, float] | None, closed_loss: float | None,
    stability: Stability | None, x: np.ndarray,
    y: np.ndarray, lr: float, batch_mode: str, diverged: Divergence | None,
) -> dict[str, Any]:
    """Everything the readout panel shows, as JSON-ready numbers and strings."""
    w_s, b_s = params
    w, b = scaling.to_original(w_s, b_s)
    model: dict[str, Any] = {"w": w, "b": b, "w_scaled": w_s, "b_scaled": b_s,
                             "loss": None, "grad_w": None, "grad_b": None}
    reply: dict[str, Any] = {"model": model, "closed": None, "stability": None,
                             "formulas": None,
                             "scaling": {"on": scaling.std != 1.0 or scaling.mean != 0.0,
                                         "mean": scaling.mean, "std": scaling.std}}
    distance = None
    if current is not None:
        model.update(loss=current.loss, grad_w=current.grad_w, grad_b=current.grad_b)
        reply["formulas"] = formulas(x, y, w_s, b_s, current)
    if closed is not None and closed_loss is not None:
        distance = math.hypot(w_s - closed[0], b_s - closed[1])
        w_star, b_star = scaling.to_original(*closed)
        reply["closed"] = {"w": w_star, "b": b_star, "w_scaled": closed[0],
                           "b_scaled": closed[1], "loss": closed_loss,
                           "distance": distance if math.isfinite(distance) else None}
    if stability is not None:
        reply["stability"] = {
            "lambda_max": stability.lambda_max, "lambda_min": stability.lambda_min,
            "condition": stability.condition, "bound": stability.bound,
            "zigzag_from": stability.zigzag_from, "hessian": stability.matrix.tolist(),
            "momentum": stability.momentum, "bound_name": stability.bound_name,
            "zigzag_name": stability.zigzag_name,
        }
    reply["status"] = status(lr, stability, batch_mode, diverged, distance)
    return reply
