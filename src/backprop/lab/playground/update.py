"""One weight's update by the playground's optimizer, line by line with this step's numbers.

The optimizers update every parameter at once (:mod:`backprop.optim.rules`); this writes
their rule out for one entry i of θ, from the state the optimizer holds before the step
(its moments at i, its step count t) and the gradient g that enters it (the batch mean,
plus λ₁·sign(w) with L1). Each line is a formula, the numbers put in it, and the value.
The playground's tests check that the last line is the optimizer's own Δw.
"""

from __future__ import annotations

import math
from typing import Any

from backprop.optim.rules import SGD, Adam, AdamW, Optimizer, RMSProp


def line(formula: str, numbers: str, value: float) -> dict[str, Any]:
    return {"formula": formula, "numbers": numbers, "value": value}


def n(value: float) -> str:
    """A number for a line: 6 significant digits, a real minus sign."""
    return f"{value:.6g}".replace("-", "−")


def state_at(optimizer: Optimizer, name: str, index: int) -> float:
    """The optimizer's state array ``name`` at entry ``index`` (0 before its first step)."""
    array = optimizer.state_dict()["arrays"].get(name)
    return 0.0 if array is None else float(array.reshape(-1)[index])


def coupled_l2(optimizer: Optimizer, g: float, w: float) -> tuple[float, list[dict[str, Any]]]:
    """g + λ·w when the optimizer adds weight decay to the gradient (L2), and its line."""
    decay = optimizer.weight_decay
    if not decay or getattr(optimizer, "decoupled_decay", False):
        return g, []
    value = g + decay * w
    return value, [line("g ← g + λ·w  (L2)", f"{n(g)} + {n(decay)} × {n(w)}", value)]


def sgd_lines(optimizer: SGD, index: int, g: float, w: float) -> list[dict[str, Any]]:
    g, lines = coupled_l2(optimizer, g, w)
    lr, mu = optimizer.lr, optimizer.momentum
    if not mu:
        return [*lines, line("Δw = η·g", f"{n(lr)} × {n(g)}", lr * g)]
    if optimizer.t == 0:
        buf = g
        lines.append(line("v ← g  (the first step)", n(g), buf))
    else:
        old = state_at(optimizer, "momentum_buffer", index)
        damp = 1.0 - optimizer.dampening
        buf = mu * old + damp * g
        lines.append(line("v ← μ·v + g" if damp == 1.0 else "v ← μ·v + (1 − dampening)·g",
                          f"{n(mu)} × {n(old)} + {n(g)}" if damp == 1.0 else
                          f"{n(mu)} × {n(old)} + {n(damp)} × {n(g)}", buf))
    if optimizer.nesterov:
        return [*lines, line("Δw = η·(g + μ·v)  (Nesterov)",
                             f"{n(lr)} × ({n(g)} + {n(mu)} × {n(buf)})", lr * (g + mu * buf))]
    return [*lines, line("Δw = η·v", f"{n(lr)} × {n(buf)}", lr * buf)]


def rmsprop_lines(optimizer: RMSProp, index: int, g: float, w: float) -> list[dict[str, Any]]:
    g, lines = coupled_l2(optimizer, g, w)
    alpha, eps, lr = optimizer.alpha, optimizer.eps, optimizer.lr
    old = state_at(optimizer, "square_avg", index)
    v = alpha * old + (1 - alpha) * g * g
    lines.append(line("v ← α·v + (1 − α)·g²", f"{n(alpha)} × {n(old)} + {n(1 - alpha)} × "
                      f"{n(g)}²", v))
    scaled = g / (math.sqrt(v) + eps)
    lines.append(line("g / (√v + ε)", f"{n(g)} / ({n(math.sqrt(v))} + {n(eps)})", scaled))
    if not optimizer.momentum:
        return [*lines, line("Δw = η·g / (√v + ε)", f"{n(lr)} × {n(scaled)}", lr * scaled)]
    old_buf = state_at(optimizer, "momentum_buffer", index)
    buf = optimizer.momentum * old_buf + scaled
    lines.append(line("b ← μ·b + g / (√v + ε)",
                      f"{n(optimizer.momentum)} × {n(old_buf)} + {n(scaled)}", buf))
    return [*lines, line("Δw = η·b", f"{n(lr)} × {n(buf)}", lr * buf)]


def adam_lines(optimizer: Adam, index: int, g: float, w: float) -> list[dict[str, Any]]:
    g, lines = coupled_l2(optimizer, g, w)
    (beta1, beta2), eps, lr = optimizer.betas, optimizer.eps, optimizer.lr
    t = optimizer.t + 1
    old_m, old_v = state_at(optimizer, "exp_avg", index), state_at(optimizer, "exp_avg_sq", index)
    m = beta1 * old_m + (1 - beta1) * g
    v = beta2 * old_v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    step = lr * m_hat / (math.sqrt(v_hat) + eps)
    lines += [
        line("m ← β₁·m + (1 − β₁)·g", f"{n(beta1)} × {n(old_m)} + {n(1 - beta1)} × {n(g)}", m),
        line("v ← β₂·v + (1 − β₂)·g²", f"{n(beta2)} × {n(old_v)} + {n(1 - beta2)} × {n(g)}²",
             v),
        line(f"m̂ = m / (1 − β₁ᵗ), t = {t}", f"{n(m)} / (1 − {n(beta1)}^{t})", m_hat),
        line(f"v̂ = v / (1 − β₂ᵗ), t = {t}", f"{n(v)} / (1 − {n(beta2)}^{t})", v_hat),
    ]
    if optimizer.decoupled_decay and optimizer.weight_decay:
        decay = lr * optimizer.weight_decay * w
        return [*lines, line("Δw = η·m̂ / (√v̂ + ε) + η·λ·w  (decoupled decay)",
                             f"{n(lr)} × {n(m_hat)} / ({n(math.sqrt(v_hat))} + {n(eps)}) + "
                             f"{n(lr)} × {n(optimizer.weight_decay)} × {n(w)}", step + decay)]
    return [*lines, line("Δw = η·m̂ / (√v̂ + ε)",
                         f"{n(lr)} × {n(m_hat)} / ({n(math.sqrt(v_hat))} + {n(eps)})", step)]


def update_lines(optimizer: Optimizer, index: int, g: float, w: float) -> list[dict[str, Any]]:
    """The lines of the optimizer's next update of θ[index] = w with gradient g; the last
    line's value is Δw (w ← w − Δw). An optimizer of another kind (a subclass, or one a user
    registered) gets none: its rule is its own."""
    if type(optimizer) is SGD:
        return sgd_lines(optimizer, index, g, w)
    if type(optimizer) is RMSProp:
        return rmsprop_lines(optimizer, index, g, w)
    if type(optimizer) in (Adam, AdamW):
        assert isinstance(optimizer, Adam)
        return adam_lines(optimizer, index, g, w)
    return []
