"""Activation functions σ and their derivatives σ', one table keyed by name.

The convention, kept everywhere in backprop: a derivative is called as
``derivative(z, a)`` with both the pre-activation z and the activation
a = σ(z) that the forward pass already computed, and each function uses
whichever is cheaper (sigmoid' = a(1 − a) needs only a; relu' = [z > 0]
needs only z). Arrays have one sample per row: z and a are (m, n_units).

``multiply_by_derivative(grad_a, z, a, out)`` turns ∂L/∂a into δ = ∂L/∂z,
written into ``out`` (the caller's buffer; it may be ``grad_a`` itself): for an
elementwise σ that is the ⊙ σ'(z) of equations (1) and (2); softmax, whose
Jacobian is not diagonal, overrides it with the full Jacobian product.
``vector_jacobian_product(g, z, a)`` is the same product for one sample, out of
place, as the equations read: the reference form (:mod:`backprop.teaching.reference`).

The old ``backward(grad_a, z, a)``, which folded σ' into ``grad_a`` in place,
still works with a DeprecationWarning, and so does a subclass that overrides it.

A user-supplied activation is a subclass of :class:`Activation` that
implements ``function`` and ``derivative``; pass the object where a name
is accepted, or :func:`register_activation` it so saved models find it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError, OptionTypeError


class Activation:
    """An activation σ applied to every unit of a layer.

    Subclasses set ``name`` and implement :meth:`function` and
    :meth:`derivative`; ``output_range`` tells losses that need outputs in
    (0, 1) whether this activation can feed them.
    """

    name: ClassVar[str] = "activation"
    #: Open interval (lo, hi) that σ(z) lies in, for checking loss pairings.
    output_range: ClassVar[tuple[float, float]] = (-np.inf, np.inf)
    #: Points where σ' jumps (0 for ReLU): a finite-difference step across one
    #: is unreliable, which gradcheck detects and explains.
    kinks: ClassVar[tuple[float, ...]] = ()
    #: σ'(z) written out, in terms of z and a, for the worked step (:func:`backprop.explain`):
    #: plain text and TeX. ``None`` makes the worked step say "the layer's derivative".
    derivative_formula: str | None = None
    derivative_formula_tex: str | None = None

    def function(self, z: Array, out: Array) -> Array:
        """a = σ(z), written into ``out`` (which may be ``z`` itself)."""
        raise NotImplementedError

    def derivative(self, z: Array, a: Array) -> Array:
        """σ'(z), elementwise, given z and a = σ(z)."""
        raise NotImplementedError

    def multiply_by_derivative(self, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
        """δ = ∂L/∂a ⊙ σ'(z) for a batch, (m, n_units), written into ``out`` and returned.

        ``out`` may be ``grad_a`` itself (then the product is taken in place). An
        activation whose σ' is 1 returns ``grad_a`` unchanged and leaves ``out`` alone.
        """
        return np.multiply(grad_a, self.derivative(z, a), out=out)

    def vector_jacobian_product(self, g: Array, z: Array, a: Array) -> Array:
        """g ⊙ σ'(z) for one sample (1-D arrays), out of place: the reference form of
        :meth:`multiply_by_derivative`, written as the equations read."""
        return np.asarray(g * self.derivative(z, a))

    def backward(self, grad_a: Array, z: Array, a: Array) -> Array:
        """Deprecated: ``multiply_by_derivative(grad_a, z, a, out=grad_a)``, which says that
        it writes into ``grad_a``."""
        warnings.warn(
            "Activation.backward(grad_a, z, a) is deprecated: call "
            "multiply_by_derivative(grad_a, z, a, out=grad_a)", DeprecationWarning, stacklevel=2)
        # the nearest multiply_by_derivative of the class's own, not one that calls back here
        for cls in type(self).__mro__:
            method = cls.__dict__.get("multiply_by_derivative")
            if method is not None and method is not _through_backward:
                return method(self, grad_a, z, a, out=grad_a)  # type: ignore[no-any-return]
        raise AssertionError("Activation defines multiply_by_derivative")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__ and "multiply_by_derivative" not in cls.__dict__:
            # written for the old protocol: its in-place backward is still the one used
            warnings.warn(
                f"{cls.__name__} overrides Activation.backward(grad_a, z, a), which is "
                f"deprecated: override multiply_by_derivative(grad_a, z, a, out) instead",
                DeprecationWarning, stacklevel=2)
            cls.multiply_by_derivative = _through_backward  # type: ignore[method-assign]

    def config(self) -> dict[str, Any]:
        """The JSON description that :func:`get_activation` rebuilds this from."""
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Activation) and self.config() == other.config()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.config().items())))


class Linear(Activation):
    """σ(z) = z, σ'(z) = 1: the identity, for regression outputs."""

    name = "linear"
    derivative_formula = "1"
    derivative_formula_tex = "1"

    def function(self, z: Array, out: Array) -> Array:
        if out is not z:
            out[...] = z
        return out

    def derivative(self, z: Array, a: Array) -> Array:
        return np.ones_like(z)

    def multiply_by_derivative(self, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
        return grad_a  # ⊙ 1 changes nothing: no copy into out


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(−z)),  σ'(z) = a (1 − a)."""

    name = "sigmoid"
    output_range = (0.0, 1.0)
    derivative_formula = "a(1 − a)"
    derivative_formula_tex = "a(1 - a)"

    def function(self, z: Array, out: Array) -> Array:
        # Stable for any z: with e = exp(−|z|) ≤ 1, σ(z) = 1/(1+e) for z ≥ 0
        # and e/(1+e) for z < 0, so exp never overflows.
        e = np.exp(-np.abs(z))
        return np.divide(np.where(z >= 0, 1.0, e), 1.0 + e, out=out)

    def derivative(self, z: Array, a: Array) -> Array:
        return a * (1.0 - a)

    def multiply_by_derivative(self, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
        np.multiply(grad_a, a, out=out)
        out *= 1.0 - a  # ⊙ σ'(z) = a (1 − a)
        return out


class Tanh(Activation):
    """σ(z) = tanh z,  σ'(z) = 1 − a²."""

    name = "tanh"
    output_range = (-1.0, 1.0)
    derivative_formula = "1 − a²"
    derivative_formula_tex = "1 - a^2"

    def function(self, z: Array, out: Array) -> Array:
        return np.tanh(z, out=out)

    def derivative(self, z: Array, a: Array) -> Array:
        return 1.0 - a * a


class ReLU(Activation):
    """σ(z) = max(0, z),  σ'(z) = 1 if z > 0 else 0 (0 at the kink, as PyTorch)."""

    name = "relu"
    output_range = (0.0, np.inf)
    kinks = (0.0,)
    derivative_formula = "1 if z > 0 else 0"
    derivative_formula_tex = "[z > 0]"

    def function(self, z: Array, out: Array) -> Array:
        return np.maximum(z, 0.0, out=out)

    def derivative(self, z: Array, a: Array) -> Array:
        return (z > 0).astype(z.dtype)

    def multiply_by_derivative(self, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
        return np.multiply(grad_a, z > 0, out=out)  # ⊙ σ'(z) = [z > 0]


class LeakyReLU(Activation):
    """σ(z) = z if z > 0 else slope·z,  σ'(z) = 1 if z > 0 else slope."""

    name = "leaky_relu"
    output_range = (-np.inf, np.inf)
    kinks = (0.0,)
    derivative_formula = "1 if z > 0 else slope"
    derivative_formula_tex = r"1 \text{ if } z > 0 \text{ else the slope}"

    def __init__(self, slope: float = 0.01) -> None:
        if not np.isfinite(slope) or slope < 0:
            raise OptionError(f"leaky_relu slope must be a finite number ≥ 0, got {slope!r}")
        self.slope = float(slope)
        # the derivative line shows this layer's slope as a number
        self.derivative_formula = f"1 if z > 0 else {self.slope:g}"
        self.derivative_formula_tex = rf"1 \text{{ if }} z > 0 \text{{ else }} {self.slope:g}"

    def function(self, z: Array, out: Array) -> Array:
        out[...] = np.where(z > 0, z, self.slope * z)
        return out

    def derivative(self, z: Array, a: Array) -> Array:
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "slope": self.slope}


class Softmax(Activation):
    """a_i = e^(z_i) / Σ_j e^(z_j) over the units of one sample.

    Its Jacobian is ∂a_i/∂z_j = a_i ([i = j] − a_j), so
    δ_j = Σ_i ∂L/∂a_i · a_i ([i = j] − a_j) = a_j (g_j − Σ_i g_i a_i).
    """

    name = "softmax"
    output_range = (0.0, 1.0)

    def function(self, z: Array, out: Array) -> Array:
        # Subtracting the row maximum (log-sum-exp trick) keeps exp ≤ 1.
        np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def derivative(self, z: Array, a: Array) -> Array:
        """The diagonal ∂a_i/∂z_i = a_i (1 − a_i) only; :meth:`multiply_by_derivative`
        and :meth:`vector_jacobian_product` use the full Jacobian."""
        return a * (1.0 - a)

    def multiply_by_derivative(self, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
        # δ = a ⊙ (g − ⟨g, a⟩), one inner product per sample (row)
        inner = np.einsum("ij,ij->i", grad_a, a)[:, None]
        np.subtract(grad_a, inner, out=out)
        out *= a
        return out

    def vector_jacobian_product(self, g: Array, z: Array, a: Array) -> Array:
        # δ_j = Σ_i g_i ∂a_i/∂z_j = a_j (g_j − Σ_i g_i a_i)
        return np.asarray(a * (g - g @ a))


def _through_backward(self: Activation, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
    """multiply_by_derivative of a subclass that overrides the deprecated in-place
    ``backward``: ∂L/∂a copied into ``out``, then that backward folds σ' into it."""
    if out is not grad_a:
        np.copyto(out, grad_a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # said once, when the class was made
        return self.backward(out, z, a)


_ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    "linear": Linear,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
}


def activation_names() -> list[str]:
    """The names :func:`get_activation` accepts."""
    return list(_ACTIVATIONS)


def register_activation(name: str, factory: Callable[..., Activation]) -> None:
    """Make a user-defined activation available by name (and loadable from model files)."""
    if not name or not isinstance(name, str):
        raise OptionError(f"activation name must be a non-empty string, got {name!r}")
    _ACTIVATIONS[name] = factory


def get_activation(spec: str | Activation | dict[str, Any]) -> Activation:
    """An :class:`Activation` from a name, a config dict, or an instance (returned as is)."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, dict):
        options = dict(spec)
        name = options.pop("name", None)
    elif isinstance(spec, str):
        name, options = spec, {}
    else:
        raise OptionTypeError(
            f"activation must be a name or an Activation, got {type(spec).__name__}"
        )
    if name not in _ACTIVATIONS:
        valid = ", ".join(_ACTIVATIONS)
        raise OptionError(f"unknown activation {name!r}; valid: {valid}")
    return _ACTIVATIONS[name](**options)
