"""σ's passes on the compiled path (``Network(compiled=True)``): NumPy's arithmetic, fewer passes.

Per layer and step, two compiled passes (numba, :mod:`backprop.jit`) take the
place of NumPy's three to eight (:class:`~backprop.nn.passes.ActivationPasses`):

* the forward epilogue, after z = a_prev Wᵀ: z ← z + b and a = σ(z) in one pass
  (:func:`_epilogue_of`);
* the backward prologue, before Wᵀδ and δ a_prevᵀ: δ = ∂L/∂a ⊙ σ'(z), its 1/m and
  the bias gradient's column sum in one pass (:func:`_delta_pass_of`).

Softmax keeps NumPy's passes (it names no compiled form): it is an output layer of a
few units, where a fused pass saves nothing, and NumPy's exp and row sums keep its
outputs, and so δ^[L] = a − y, NumPy's to the last bit.

The elementwise σs' two passes are made one kernel per σ, the σ a constant in
it, and their loops hand no array to a helper (which would count references
to it for every entry): so the compiler vectorizes each loop, as NumPy's own
loops are, and in float32 the passes beat NumPy's instead of losing to them.

Each elementwise σ is written once, below, for one number: σ(z) in
:func:`_sigma` and g σ'(z) in :func:`_times_derivative`, with the operations
its NumPy form (:mod:`backprop.nn.activations`) performs, in the same order and
the arrays' precision (0, 1 and the slope come rounded to the dtype in ``c``).
So these passes give NumPy's numbers to the last bit, except where:

* exp or tanh is taken (sigmoid, tanh): they come from the C library here and from
  NumPy's own vectorized code there, and differ in the last bits (a few units in the
  last place).

The bias gradient's column sum adds the rows in order, as NumPy does for a
layer of two units or more; a one-unit layer's column NumPy sums pairwise, and
so it is handed to NumPy here too. docs/guides/speed-compiled.md lists what is equal
bit for bit and what to 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop._typing import Array
from backprop.jit import compile_kernel, compiled_threads
from backprop.nn.activations import Activation
from backprop.nn.passes import ActivationPasses

LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU = range(5)
#: The loop over the parts a pass is cut in: numba's prange once compiled (one part, in order,
#: unless the compiled passes run on two threads: :func:`backprop.jit.compiled_threads`).
prange = range
#: The compiled forms, by the name an activation's ``compiled_kind`` gives.
KINDS = {"linear": LINEAR, "sigmoid": SIGMOID, "tanh": TANH, "relu": RELU,
         "leaky_relu": LEAKY_RELU}


# -- σ and g σ' of one number, as each activation's NumPy form computes them -------------
def _sigma(kind: int, z: Any, c: Any) -> Any:  # pragma: no cover - compiled by numba
    """σ(z); c = [0, 1, slope] in z's dtype."""
    zero, one = c[0], c[1]
    if kind == RELU:
        return zero if z < zero else z  # max(z, 0), NaN kept
    if kind == LEAKY_RELU:
        return z if z > zero else c[2] * z  # z, or slope · z
    if kind == TANH:
        return math.tanh(z)
    if kind == SIGMOID:
        e = math.exp(-abs(z))  # e^(−|z|) ≤ 1: no overflow for any z
        return (one if z >= zero else e) / (one + e)
    return z  # linear


def _times_derivative(kind: int, g: Any, z: Any, a: Any, c: Any) -> Any:  # pragma: no cover
    """g σ'(z), given z and a = σ(z); c = [0, 1, slope] in the dtype."""
    zero, one = c[0], c[1]
    if kind == RELU:
        return g * (one if z > zero else zero)  # [z > 0]
    if kind == LEAKY_RELU:
        return g * (one if z > zero else c[2])  # 1 or the slope
    if kind == TANH:
        return g * (one - a * a)  # 1 − a²
    if kind == SIGMOID:
        return (g * a) * (one - a)  # a (1 − a)
    return g  # linear: σ' = 1


# -- the passes -----------------------------------------------------------------------------
def _epilogue_of(kind: int) -> Callable[..., None]:
    """The forward epilogue of σ ``kind``: a kernel of its own per σ, with ``kind`` a constant
    in it, so that the compiler drops the other σs' branches and vectorizes the loop."""

    def epilogue(z: Any, b: Any, a: Any, c: Any,
                 bias: bool) -> None:  # pragma: no cover - compiled by numba
        """z ← z + b (with ``bias``) and a = σ(z), one pass over (m, n)."""
        m, n = z.shape
        for i in prange(m):
            for j in range(n):
                v = z[i, j]
                if bias:
                    v = v + b[j]  # z^[l] = W a^[l-1] + b^[l]
                    z[i, j] = v
                a[i, j] = _sigma(kind, v, c)  # a^[l] = σ(z^[l])

    return epilogue


def _mean(d: Any, inv_m: Any, scale: bool) -> Any:  # pragma: no cover - compiled by numba
    """δ_ij / m with ``scale``, else δ_ij."""
    return d * inv_m if scale else d


def _bias_sum(i: int, total: Any, d: Any) -> Any:  # pragma: no cover - compiled by numba
    """db_j after row i: δ_0j for the first row, then db_j + δ_ij (the rows in order)."""
    return d if i == 0 else total + d


def _scale_bias_sum(db: Any, inv_m: Any, m: int, scale: bool,
                    bias: bool) -> None:  # pragma: no cover - compiled by numba
    """db ← db / m when the 1/m is not on Δ."""
    if bias and not scale and m > 1:
        for j in range(db.size):
            db[j] = db[j] * inv_m


def _part(part: int, parts: int, n: int) -> tuple[Any, Any]:  # pragma: no cover - compiled
    """The units [first, stop) of part ``part`` of ``parts``, as unsigned numbers: an index
    that cannot be negative needs no check for one (which would keep the loop from being
    vectorized)."""
    return np.uintp(part * n // parts), np.uintp((part + 1) * n // parts)


def _delta_pass_of(kind: int) -> Callable[..., None]:
    """The backward prologue of σ ``kind``, a kernel of its own per σ (as :func:`_epilogue_of`)."""

    def delta_pass(g: Any, z: Any, a: Any, c: Any, delta: Any, mean: Any, db: Any, inv_m: Any,
                   given: bool, scale: bool, bias: bool,
                   parts: int) -> None:  # pragma: no cover - compiled by numba
        """δ = g σ'(z) (g itself when ``given``), δ/m and db = Σ_i δ_i (/ m), one pass; the
        units cut in ``parts``, each part summing its own columns over every row, in order.

        Every array is read and written here, in the loop, never handed to a helper: a
        helper given an array takes a reference to it, which would cost two atomic
        operations per entry and keep the loop from being vectorized."""
        m, n = g.shape
        for part in prange(parts):
            first, stop = _part(part, parts, n)
            for i in range(m):
                for j in range(first, stop):
                    d = g[i, j]
                    if not given:
                        d = _times_derivative(kind, d, z[i, j], a[i, j], c)
                        delta[i, j] = d  # δ^[l] = ∂L/∂a^[l] ⊙ σ'(z^[l])
                    d = _mean(d, inv_m, scale)
                    if scale:
                        mean[i, j] = d  # δ^[l] / m
                    if bias:
                        db[j] = _bias_sum(i, db[j], d)  # ∂L/∂b^[l] = Σ_i δ_i (/ m)
        _scale_bias_sum(db, inv_m, m, scale, bias)

    return delta_pass


#: The plain functions the passes call, compiled with them (:func:`backprop.jit.compile_kernel`).
__all_helpers__ = ("_sigma", "_times_derivative", "_mean", "_bias_sum", "_scale_bias_sum",
                   "_part")
#: The passes made per σ: ``kernel(name, kind)``.
_SOURCES_PER_KIND: dict[str, Callable[[int], Callable[..., None]]] = {
    "epilogue": _epilogue_of,
    "delta": _delta_pass_of,
}
#: Their types (:func:`backprop.jit.compile_kernel`), in the order of their arguments.
_SIGNATURES: dict[str, str] = {
    "epilogue": "void({2}, {1}, {2}, {1}, boolean)",
    "delta": "void({2}, {2}, {2}, {1}, {2}, {2}, {1}, {x}, boolean, boolean, boolean, int64)",
}
_kernels: dict[tuple[str, int], Callable[..., None]] = {}


def kernel(name: str, kind: int) -> Callable[..., None]:
    """The pass ``name`` of :data:`_SOURCES_PER_KIND` for σ ``kind``, compiled (or loaded
    from numba's cache) at first use; an ImportError naming the extra when numba is missing."""
    compiled = _kernels.get((name, kind))
    if compiled is None:
        source = _SOURCES_PER_KIND[name](kind)
        compiled = _kernels[name, kind] = compile_kernel(
            source, "the compiled path", globals(), _kernel_name(name, kind), _SIGNATURES[name])
    return compiled


def _kernel_name(name: str, kind: int) -> str:
    """The pass ``name`` of σ ``kind`` as the module built ahead of time names it
    (:mod:`backprop.prebuilt`): "epilogue_relu"."""
    return f"{name}_{next(k for k, v in KINDS.items() if v == kind)}"


def ahead_of_time() -> list[tuple[str, Callable[..., None], str, dict[str, Any]]]:
    """Every pass of every σ as (name, function, signature, namespace), for
    :mod:`backprop.aot.build`."""
    return [(_kernel_name(name, kind), make(kind), _SIGNATURES[name], globals())
            for name, make in _SOURCES_PER_KIND.items() for kind in KINDS.values()]


class CompiledActivationPasses(ActivationPasses):
    """σ's work in a layer as the compiled passes above; the same interface as NumPy's."""

    def __init__(self, activation: Activation) -> None:
        super().__init__(activation)
        self.kind = KINDS[str(activation.compiled_kind)]
        self.parts = compiled_threads()  # the δ pass's parts, one per thread
        self._constants: dict[np.dtype[Any], Array] = {}

    def _c(self, dtype: np.dtype[Any]) -> Array:
        """[0, 1, the activation's constants], rounded to ``dtype``."""
        c = self._constants.get(dtype)
        if c is None:
            values = (0.0, 1.0, *self.activation.compiled_constants())
            c = self._constants[dtype] = np.array(values, dtype=dtype)
        return c

    def add_bias_and_activate(self, z: Array, b: Array | None, a: Array) -> None:
        c = self._c(z.dtype)
        kernel("epilogue", self.kind)(z, c if b is None else b, a, c, b is not None)

    def delta_and_bias_gradient(
        self, grad_a: Array, z: Array, a: Array, db: Array | None, *,
        delta_given: bool, scale_delta: bool, delta_out: Array, mean_out: Array,
    ) -> tuple[Array, Array]:
        m, n = grad_a.shape
        given = delta_given or self.kind == LINEAR  # δ is ∂L/∂a itself: nothing to write
        delta = grad_a if given else delta_out
        mean = mean_out if scale_delta else delta
        column_sum = db is not None and n > 1  # one unit: NumPy's pairwise sum, below
        if not given or scale_delta or column_sum:
            c = self._c(grad_a.dtype)
            inv_m = grad_a.dtype.type(1.0 / m)
            sums = c if db is None else db
            kernel("delta", self.kind)(grad_a, z, a, c, delta_out, mean_out, sums, inv_m,
                                       given, scale_delta, column_sum, self.parts)
        if db is not None and not column_sum:
            np.add.reduce(mean, axis=0, out=db)
            if m > 1 and not scale_delta:
                db *= 1.0 / m
        return delta, mean

    def prepare(self, dtype: np.dtype[Any]) -> None:
        """Compile (or load) this σ's passes for ``dtype`` now, on two numbers."""
        z, a, g = (np.zeros((1, 2), dtype) for _ in range(3))
        self.add_bias_and_activate(z, np.zeros(2, dtype), a)
        for given in (False, True):  # a hidden layer's δ, and an output layer's a − y
            self.delta_and_bias_gradient(g, z, a, np.zeros(2, dtype), delta_given=given,
                                         scale_delta=False, delta_out=np.zeros_like(z),
                                         mean_out=np.zeros_like(z))


def activation_passes(activation: Activation, compiled: bool) -> ActivationPasses:
    """σ's passes: the compiled ones when ``compiled`` and σ names a form of its own
    (``compiled_kind``), else NumPy's."""
    if compiled and activation.compiled_kind in KINDS:
        return CompiledActivationPasses(activation)
    return ActivationPasses(activation)


class WithActivationPasses:
    """What a layer that applies a σ of its own keeps (Dense, ActivationLayer): σ's passes,
    NumPy's or, after ``use_compiled(True)``, the compiled ones where σ has them."""

    activation: Activation
    _compiled = False
    _passes: ActivationPasses | None = None

    def use_compiled(self, compiled: bool) -> None:
        self._compiled = bool(compiled)
        self._passes = None

    @property
    def passes(self) -> ActivationPasses:
        """σ's passes (:mod:`backprop.nn.passes`), made again when σ is replaced."""
        passes = self._passes
        if passes is None or passes.activation is not self.activation:
            passes = self._passes = activation_passes(self.activation, self._compiled)
        return passes
