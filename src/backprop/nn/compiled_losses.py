"""The loss's pass on the compiled path (``Network(compiled=True)``): L and the output error.

NumPy computes the batch's loss and where the backward pass begins in eight
to ten passes over the output layer's arrays
(:class:`~backprop.nn.passes.LossPasses`); here one compiled pass (numba,
:mod:`backprop.jit`) reads z^[L], a^[L] and y once and gives both:

* softmax + cross-entropy: L = −(1/m) Σ_i Σ_k y_ik (z_ik − max_k z_ik − log Σ_j e^(z_ij − max z_i))
  and δ^[L] = a − y (:func:`_softmax_cross_entropy`);
* sigmoid + binary cross-entropy: L = (1/m) Σ (max(z, 0) − z y + log(1 + e^(−|z|)))
  and δ^[L] = a − y (:func:`_sigmoid_binary_cross_entropy`);
* squared error, with any σ_L: L = (1/2m) Σ (a − y)² and ∂L/∂a = a − y, which the
  output layer then multiplies by σ_L' (:func:`_squared_error`).

Each term is computed as the loss's NumPy form computes it, in the arrays'
precision; the terms are summed in order, in float64 (NumPy sums them pairwise
in the arrays' dtype), and exp and log come from the C library: L agrees with
NumPy's to rounding (1e-12 relative in float64), the output error a − y to the
last bit. The other pairings (cross-entropy after a sigmoid, ...), a user's
own loss, the Poisson deviance and a step with sample weights keep their NumPy
form on the compiled path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop._typing import Array
from backprop.jit import compile_kernel
from backprop.nn.activations import Activation
from backprop.nn.losses import Loss
from backprop.nn.passes import LossPasses


def _softmax_cross_entropy(z: Any, a: Any, y: Any, out: Any, c: Any,
                           gradient: bool) -> float:  # pragma: no cover - compiled by numba
    """L from the logits, and δ^[L] = a − y into ``out`` (with ``gradient``); c = [0]."""
    m, n = z.shape
    total = 0.0
    for i in prange(m):
        top = z[i, 0]
        for j in range(n):
            if z[i, j] > top or z[i, j] != z[i, j]:  # the row's maximum; NaN if any entry is
                top = z[i, j]
        exp_sum = c[0]
        for j in range(n):
            exp_sum += math.exp(z[i, j] - top)
        log_sum = math.log(exp_sum)
        row = 0.0
        for j in range(n):
            row += y[i, j] * ((z[i, j] - top) - log_sum)  # y log a, a = softmax(z)
            if gradient:
                out[i, j] = a[i, j] - y[i, j]  # δ^[L] = a^[L] − y
        total += row
    return float(-total / m)


def _sigmoid_binary_cross_entropy(z: Any, a: Any, y: Any, out: Any, c: Any,
                                  gradient: bool) -> float:  # pragma: no cover - compiled by numba
    """L from the logits, and δ^[L] = a − y into ``out`` (with ``gradient``); c = [0]."""
    m, n = z.shape
    total = 0.0
    for i in prange(m):
        row = 0.0
        for j in range(n):
            v = z[i, j]
            positive = c[0] if v < c[0] else v  # max(z, 0), NaN kept
            # −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z y + log(1 + e^(−|z|))
            row += (positive - v * y[i, j]) + math.log1p(math.exp(-abs(v)))
            if gradient:
                out[i, j] = a[i, j] - y[i, j]  # δ^[L] = a^[L] − y
        total += row
    return float(total / m)


def _squared_error(z: Any, a: Any, y: Any, out: Any, c: Any,
                   gradient: bool) -> float:  # pragma: no cover - compiled by numba
    """L = ½ Σ (a − y)² / m, and ∂L/∂a = a − y into ``out`` (with ``gradient``)."""
    m, n = a.shape
    total = 0.0
    for i in prange(m):
        row = 0.0
        for j in range(n):
            d = a[i, j] - y[i, j]
            row += d * d
            if gradient:
                out[i, j] = d  # ∂ℓ/∂a = a − y
        total += row
    return float(0.5 * total / m)


#: The loop over the rows: numba's prange once compiled (:func:`backprop.jit.compile_kernel`).
prange = range

#: The compiled form by the loss's ``compiled_kind``: (its pass, whether it gives δ^[L] itself).
_FORMS: dict[str, tuple[Callable[..., float], bool]] = {
    "cross_entropy": (_softmax_cross_entropy, True),
    "binary_cross_entropy": (_sigmoid_binary_cross_entropy, True),
    "mse": (_squared_error, False),
}
#: Every form's types (:func:`backprop.jit.compile_kernel`): z, a, y, out, c, gradient.
_SIGNATURE = "float64({2}, {2}, {2}, {2}, {1}, boolean)"
_kernels: dict[str, Callable[..., float]] = {}


def kernel(kind: str) -> Callable[..., float]:
    """The pass of the loss form ``kind``, compiled (or loaded from numba's cache) at first use;
    an ImportError naming the extra when numba is missing."""
    compiled = _kernels.get(kind)
    if compiled is None:
        compiled = _kernels[kind] = compile_kernel(_FORMS[kind][0], "the compiled path",
                                                   globals(), f"loss_{kind}", _SIGNATURE)
    return compiled


def ahead_of_time() -> list[tuple[str, Callable[..., float], str, dict[str, Any]]]:
    """Every form's pass as (name, function, signature, namespace), for
    :mod:`backprop.aot.build`."""
    return [(f"loss_{kind}", function, _SIGNATURE, globals())
            for kind, (function, _) in _FORMS.items()]


class CompiledLossPasses(LossPasses):
    """L and the output error in one compiled pass; the same interface as NumPy's."""

    def __init__(self, loss: Loss, activation: Activation) -> None:
        super().__init__(loss, activation)
        self.kind = str(loss.compiled_kind)
        self.is_delta = _FORMS[self.kind][1]
        self._zeros: dict[np.dtype[Any], Array] = {}

    def _c(self, dtype: np.dtype[Any]) -> Array:
        """[0] in ``dtype``."""
        c = self._zeros.get(dtype)
        if c is None:
            c = self._zeros[dtype] = np.zeros(1, dtype)
        return c

    def value(self, z: Array, a: Array, y: Array) -> float:
        return float(kernel(self.kind)(z, a, y, a, self._c(a.dtype), False))  # a is not written

    def value_and_gradient(self, z: Array, a: Array, y: Array, out: Array,
                           sample_weight: Array | None = None) -> tuple[float, Array, bool]:
        if sample_weight is not None:
            # weighted: NumPy's passes (the per-sample losses and the rows' factors), so
            # weights give the same numbers with and without compiled=True
            return super().value_and_gradient(z, a, y, out, sample_weight)
        value = kernel(self.kind)(z, a, y, out, self._c(a.dtype), True)
        return float(value), out, self.is_delta

    def prepare(self, dtype: np.dtype[Any]) -> None:
        """Compile (or load) this loss's pass for ``dtype`` now, on two numbers."""
        z = np.zeros((1, 2), dtype)
        self.value_and_gradient(z, z, z, np.zeros_like(z))


def loss_passes(loss: Loss, activation: Activation, compiled: bool) -> LossPasses:
    """The loss's passes: the compiled one when ``compiled`` and the loss names a form whose
    pairing holds (cross-entropies after their canonical σ_L), else NumPy's."""
    kind = loss.compiled_kind
    if compiled and kind in _FORMS and (kind == "mse" or loss.fuses_with(activation)):
        return CompiledLossPasses(loss, activation)
    return LossPasses(loss, activation)
