"""Adam's update as one compiled pass per block (numba), the same numbers as the NumPy passes.

:class:`backprop.optimizers.Adam` computes Δθ of a block in about eleven
NumPy passes, each reading and writing whole arrays. The kernel here makes
one pass and, per entry, the same floating-point operations in the same
order and precision (constants rounded to the arrays' dtype, as NumPy does
with a Python float beside a float32 array; no fused multiply-add, no fast
math), so Δθ and the moments agree to the last bit. It is used only when
``Adam.compiled_step`` is set, and needs numba: ``pip install 'backprop[numba]'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._typing import Array

INSTALL_HINT = "pip install 'backprop[numba]'"

#: Compiled passes, one per (coupled L2, decoupled decay, flush) combination.
_kernels: dict[tuple[bool, bool, bool], Callable[..., None]] = {}


def _adam_pass_for(
    l2: bool, decay: bool, flush: bool
) -> Callable[..., None]:  # pragma: no cover - compiled by numba; checked against NumPy bit for bit
    """The pass for one combination of options, as plain Python for numba to compile.

    The three switches are constants of the compiled loop, so a pass without
    weight decay or flushing has no branch inside the loop and the compiler
    vectorizes it.
    """

    def adam_pass(params: Any, grads: Any, m: Any, v: Any, step: Any, c: Any) -> None:
        """Δθ into ``step`` and the moments m, v in place, one entry at a time.

        c holds, in the arrays' dtype: β₁, 1 − β₁, β₂, 1 − β₂, ε̂, α_t, λ (coupled L2),
        η λ (decoupled decay), the smallest normal number, and 0.
        """
        beta1, one_minus_beta1, beta2, one_minus_beta2 = c[0], c[1], c[2], c[3]
        eps_hat, alpha_t, lam, eta_lam, tiny, zero = c[4], c[5], c[6], c[7], c[8], c[9]
        for i in range(params.size):
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
            step[i] = d

    return adam_pass


def adam_kernel(l2: bool, decay: bool, flush: bool) -> Callable[..., None]:
    """The compiled pass for these options, compiled at first use; ImportError naming the
    extra without numba. Call it as ``kernel(params, grads, m, v, step, constants)``."""
    key = (bool(l2), bool(decay), bool(flush))
    kernel = _kernels.get(key)
    if kernel is None:
        try:
            import numba
        except ImportError:
            raise ImportError(f"Adam's compiled step needs numba: {INSTALL_HINT}") from None
        compile_pass = numba.njit(nogil=True, fastmath=False, error_model="numpy")
        kernel = _kernels[key] = compile_pass(_adam_pass_for(*key))
    return kernel


def adam_constants(
    dtype: np.dtype[Any],
    betas: tuple[float, float],
    eps_hat: float,
    alpha_t: float,
    l2: float,
    decay: float,
) -> Array:
    """The kernel's constants, each rounded to ``dtype`` as NumPy rounds a Python float."""
    beta1, beta2 = betas
    values = (beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps_hat, alpha_t, l2, decay)
    return np.array([*values, np.finfo(dtype).tiny, 0.0], dtype=dtype)
