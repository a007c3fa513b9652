"""Each optimizer's update as one compiled pass per block (numba), the same numbers as NumPy's.

The rules in :mod:`backprop.optim.rules` compute Δθ of a block in three to
eleven NumPy passes, each reading and writing whole arrays. A kernel here
makes one pass and, per entry, the same floating-point operations in the
same order and precision (constants rounded to the arrays' dtype, as NumPy
does with a Python float beside a float32 array; no fused multiply-add, no
fast math), so Δθ and the state agree to the last bit. A kernel is used only
when the optimizer's ``compiled_step`` is set, or on the compiled path
(``Network(compiled=True)``), and needs numba: ``pip install 'backprop-mlp[numba]'``.

With ``apply`` set, the same pass also takes the step, θ ← θ − Δθ, and checks
it: it keeps each θ_i it replaces in ``step`` (so that a step that went wrong
can be taken back exactly) and returns whether every new θ_i is finite, which
takes the place of NumPy's separate subtraction and finiteness dot product.
Without it, ``step`` receives Δθ and the kernel returns True.

Each kernel is compiled at its first use and cached on disk by numba
(:mod:`backprop.jit`). Its switches (weight decay, momentum, flushing, ...)
are arguments that stay the same for the whole loop, and the compiler takes
the branches out of the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backprop.jit import INSTALL_HINT, compile_kernel, constants, require_numba

__all__ = ["INSTALL_HINT", "constants", "kernel", "require_numba"]

#: The loop over the entries: numba's prange once compiled (:func:`backprop.jit.compile_kernel`).
prange = range

#: Compiled passes by rule.
_kernels: dict[str, Callable[..., bool]] = {}


def _sgd_pass(
    params: Any, grads: Any, buf: Any, step: Any, c: Any,
    l2: bool, momentum: bool, first: bool, dampening: bool, nesterov: bool, flush: bool,
    apply: bool,
) -> bool:  # pragma: no cover - compiled by numba; checked against NumPy bit for bit
    """SGD: Δθ (or, with ``apply``, the step itself) and the momentum buffer in place.

    c holds, in the arrays' dtype: η, λ, μ, 1 − dampening, the smallest normal number, 0,
    the largest finite number.
    """
    lr, lam, mu, undamped, tiny, zero, big = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    bad = 0
    for i in prange(params.size):
        g = grads[i]
        if l2:
            g = params[i] * lam + g  # g + λ w
        if momentum:
            if first:
                b = g  # buf = g at the first step
            elif dampening:
                b = buf[i] * mu + g * undamped  # buf = μ buf + (1 − dampening) g
            else:
                b = buf[i] * mu + g
            if flush and abs(b) < tiny:
                b = zero
            buf[i] = b
            g = g + b * mu if nesterov else b  # Nesterov: g + μ buf
        d = g * lr  # Δw = η g
        if apply:
            w = params[i]
            new = w - d  # w ← w − Δw, the old w kept
            params[i] = new
            step[i] = w
            if not abs(new) <= big:  # inf, or NaN
                bad += 1
        else:
            step[i] = d
    return bad == 0


def _rmsprop_pass(
    params: Any, grads: Any, v: Any, buf: Any, step: Any, c: Any,
    l2: bool, momentum: bool, flush: bool, apply: bool,
) -> bool:  # pragma: no cover - compiled by numba; checked against NumPy bit for bit
    """RMSProp: Δθ (or the step), the square average v and the momentum buffer in place.

    c holds, in the arrays' dtype: η, λ, α, 1 − α, ε, μ, the smallest normal number, 0, the
    largest finite number.
    """
    lr, lam, alpha, one_minus_alpha, eps, mu, tiny, zero, big = (
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
    )
    bad = 0
    for i in prange(params.size):
        g = grads[i]
        if l2:
            g = params[i] * lam + g  # g + λ w
        v_i = v[i] * alpha + (g * g) * one_minus_alpha  # v = α v + (1 − α) g²
        if flush and abs(v_i) < tiny:
            v_i = zero
        v[i] = v_i
        d = g / (np.sqrt(v_i) + eps)  # g / (√v + ε)
        if momentum:
            b = buf[i] * mu + d  # buf = μ buf + g / (√v + ε)
            if flush and abs(b) < tiny:
                b = zero
            buf[i] = b
            d = b
        d = d * lr  # Δw = η d
        if apply:
            w = params[i]
            new = w - d  # w ← w − Δw, the old w kept
            params[i] = new
            step[i] = w
            if not abs(new) <= big:  # inf, or NaN
                bad += 1
        else:
            step[i] = d
    return bad == 0


def _adam_pass(
    params: Any, grads: Any, m: Any, v: Any, step: Any, c: Any,
    l2: bool, decay: bool, flush: bool, apply: bool,
) -> bool:  # pragma: no cover - compiled by numba; checked against NumPy bit for bit
    """Adam: Δθ (or the step) and the moments m, v in place.

    c holds, in the arrays' dtype: β₁, 1 − β₁, β₂, 1 − β₂, ε̂, α_t, λ (coupled L2),
    η λ (decoupled decay), the smallest normal number, 0, the largest finite number.
    """
    beta1, one_minus_beta1, beta2, one_minus_beta2 = c[0], c[1], c[2], c[3]
    eps_hat, alpha_t, lam, eta_lam, tiny, zero, big = c[4], c[5], c[6], c[7], c[8], c[9], c[10]
    bad = 0
    for i in prange(params.size):
        g = grads[i]
        if l2:
            g = params[i] * lam + g  # g + λ w
        m_i = m[i] * beta1 + g * one_minus_beta1  # m = β₁ m + (1 − β₁) g
        v_i = v[i] * beta2 + (g * g) * one_minus_beta2  # v = β₂ v + (1 − β₂) g²
        if flush:
            if abs(m_i) < tiny:
                m_i = zero
            if abs(v_i) < tiny:
                v_i = zero
        m[i] = m_i
        v[i] = v_i
        d = (m_i / (np.sqrt(v_i) + eps_hat)) * alpha_t  # Δw = α_t m / (√v + ε̂)
        if decay:
            d = d + params[i] * eta_lam  # AdamW: + η λ w
        if apply:
            w = params[i]
            new = w - d  # w ← w − Δw, the old w kept
            params[i] = new
            step[i] = w
            if not abs(new) <= big:  # inf, or NaN
                bad += 1
        else:
            step[i] = d
    return bad == 0


_PASSES: dict[str, Callable[..., bool]] = {
    "sgd": _sgd_pass,
    "rmsprop": _rmsprop_pass,
    "adam": _adam_pass,
}
#: Each pass's types (:func:`backprop.jit.compile_kernel`): the block's arrays and c, then
#: the switches.
_SIGNATURES: dict[str, str] = {
    "sgd": "boolean({1}, {1}, {1}, {1}, {1}, " + ", ".join(["boolean"] * 7) + ")",
    "rmsprop": "boolean({1}, {1}, {1}, {1}, {1}, {1}, boolean, boolean, boolean, boolean)",
    "adam": "boolean({1}, {1}, {1}, {1}, {1}, {1}, boolean, boolean, boolean, boolean)",
}


def kernel(rule: str) -> Callable[..., bool]:
    """The compiled pass of ``rule`` ("sgd", "rmsprop", "adam"), compiled (or loaded from
    numba's cache) at first use; an ImportError naming the extra when numba is missing.

    Call it with the block's arrays, :func:`constants` and the switches: SGD as
    ``(params, grads, buf, step, c, l2, momentum, first, dampening, nesterov, flush, apply)``,
    RMSProp as ``(params, grads, v, buf, step, c, l2, momentum, flush, apply)``, Adam as
    ``(params, grads, m, v, step, c, l2, decay, flush, apply)``.
    """
    compiled = _kernels.get(rule)
    if compiled is None:
        compiled = _kernels[rule] = compile_kernel(
            _PASSES[rule], "the compiled step", globals(), f"step_{rule}", _SIGNATURES[rule])
    return compiled


def ahead_of_time() -> list[tuple[str, Callable[..., bool], str, dict[str, Any]]]:
    """Every pass here as (name, function, signature, namespace), for :mod:`backprop.aot.build`."""
    return [(f"step_{rule}", function, _SIGNATURES[rule], globals())
            for rule, function in _PASSES.items()]
