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

An activation carries everything the rest of the library needs to know
about it, so adding one is one class and one :func:`register_activation`:

* its function σ and derivative σ' (``function``, ``derivative``), and the
  derivative's formula for the worked step (``derivative_formula``, ``_tex``);
* its forms in other runtimes: ``onnx_form`` (the ONNX nodes of σ),
  ``torch_form`` (the ``torch.nn`` module) and ``from_torch`` (recognising
  that module); one-operator activations just name the operator
  (``onnx_op``, ``torch_class``). onnx and torch are handed in by the
  exporters (:mod:`backprop.export`), never imported here;
* what the diagnostics and defaults read: ``kinks``, ``can_die``,
  ``derivative_peak``, ``auto_init``, ``elementwise``, ``output_range``;
* its form on the compiled path (``Network(compiled=True)``): ``compiled_kind``
  names the compiled passes that compute σ and δ = ∂L/∂a ⊙ σ' the way
  ``function`` and ``multiply_by_derivative`` do (:mod:`backprop.nn.compiled_activations`),
  with ``compiled_constants``. An activation without one (a user's own, by
  default) runs its NumPy methods on the compiled path too.

A user-supplied activation is a subclass of :class:`Activation` that
implements ``function`` and ``derivative`` (and, to export, its forms); pass
the object where a name is accepted, or :func:`register_activation` it so the
command, the estimators, the lab and saved models find it by name.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError, OptionTypeError
from backprop.validation import check_non_negative_number

if TYPE_CHECKING:
    from backprop.export.onnx import OnnxGraph


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
    #: ReLU-like: σ' is 0 (or, leaky, small) for z ≤ 0, so a unit whose z ≤ 0 for a whole
    #: batch passes (almost) no gradient and may never recover. Diagnostics count such units.
    can_die: ClassVar[bool] = False
    #: The largest σ'(z) of an activation that saturates (σ' → 0 as |z| grows): 1/4 for
    #: sigmoid, 1 for tanh. Diagnostics call a unit saturated where σ' is below 1 % of it.
    #: None: σ does not saturate.
    derivative_peak: ClassVar[float | None] = None
    #: The weight initialization that init="auto" picks for a layer with this σ.
    auto_init: ClassVar[str] = "xavier_uniform"
    #: Whether σ acts on each unit alone; softmax couples the units of a sample (False),
    #: so menus of hidden activations leave it out.
    elementwise: ClassVar[bool] = True
    #: The ONNX operator that computes σ with no attributes (e.g. "Tanh"), used by the
    #: default :meth:`onnx_form`; None: override :meth:`onnx_form` to export.
    onnx_op: ClassVar[str | None] = None
    #: The ``torch.nn`` class that computes σ with its default arguments (e.g. "Tanh"), used
    #: by the default :meth:`torch_form` and :meth:`from_torch`; None: override them.
    torch_class: ClassVar[str | None] = None
    #: The compiled form of σ and σ' (a name in :mod:`backprop.nn.compiled_activations`) that
    #: ``Network(compiled=True)`` runs instead of :meth:`function` and
    #: :meth:`multiply_by_derivative`, or None: the compiled path calls those. A subclass that
    #: redefines σ or σ' and names no form of its own has none.
    compiled_kind: ClassVar[str | None] = None
    #: How a classifier's labels follow from the logits z^[L] of an output layer with this
    #: σ, so that ``predict`` need not compute σ: "argmax" (argmax σ(z) = argmax z, for a
    #: σ that keeps the order of the units: softmax), "sign" (σ(z) ≥ 1/2 exactly when
    #: z ≥ 0: sigmoid's one unit), or None (``predict`` computes σ). A subclass that
    #: redefines σ and names no rule of its own has none.
    labels_from_logits: ClassVar[str | None] = None

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

    def compiled_constants(self) -> tuple[float, ...]:
        """The numbers this σ's compiled form reads besides z (leaky ReLU's slope)."""
        return ()

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
        redefined = {"function", "derivative", "multiply_by_derivative", "backward"} & set(
            cls.__dict__)
        if redefined and "compiled_kind" not in cls.__dict__:
            cls.compiled_kind = None  # its parent's compiled form computes another σ
        if "function" in cls.__dict__ and "labels_from_logits" not in cls.__dict__:
            cls.labels_from_logits = None  # its σ may not keep its parent's order
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

    # -- forms in other runtimes (onnx and torch are handed in, never imported here) --
    def onnx_form(self, graph: OnnxGraph, x: str, out: str) -> str:
        """Add a = σ(x) to an ONNX graph: nodes reading tensor ``x``; return a's tensor name.

        Name the result ``out`` (and any tensor in between ``out`` + a suffix), e.g.
        ``return graph.node("Softplus", [x], out)``. By default the operator :attr:`onnx_op`.
        """
        if self.onnx_op is None:
            raise OptionError(f"activation {self.name!r} has no ONNX form; define "
                              f"{type(self).__name__}.onnx_form(graph, x, out) to export it")
        return graph.node(self.onnx_op, [x], out)

    def torch_form(self, torch: Any) -> Any:
        """The ``torch.nn`` module computing σ (None for the identity: no module needed).

        ``torch`` is the torch package. By default ``torch.nn.<torch_class>()``.
        """
        if self.torch_class is None:
            raise OptionError(f"activation {self.name!r} has no PyTorch form; define "
                              f"{type(self).__name__}.torch_form(torch) to convert it")
        return getattr(torch.nn, self.torch_class)()

    @classmethod
    def from_torch(cls, module: Any, torch: Any) -> Activation | None:
        """This activation when the ``torch.nn`` module computes it, else None.

        Raises :class:`~backprop.errors.OptionError` for a module of this kind set up in a
        way the library cannot follow. By default: a ``torch.nn.<torch_class>`` instance.
        """
        if cls.torch_class is not None and type(module) is getattr(torch.nn, cls.torch_class):
            return cls()
        return None

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
    compiled_kind = "linear"
    derivative_formula = "1"
    derivative_formula_tex = "1"
    torch_class = "Identity"

    def function(self, z: Array, out: Array) -> Array:
        if out is not z:
            out[...] = z
        return out

    def derivative(self, z: Array, a: Array) -> Array:
        return np.ones_like(z)

    def multiply_by_derivative(self, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
        return grad_a  # ⊙ 1 changes nothing: no copy into out

    def onnx_form(self, graph: OnnxGraph, x: str, out: str) -> str:
        return x  # a = z: no node

    def torch_form(self, torch: Any) -> Any:
        return None  # nothing to add after a Linear module


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(−z)),  σ'(z) = a (1 − a)."""

    name = "sigmoid"
    compiled_kind = "sigmoid"
    labels_from_logits = "sign"  # σ(z) ≥ 1/2 ⇔ z ≥ 0
    output_range = (0.0, 1.0)
    derivative_peak = 0.25  # σ'(0) = 1/4
    onnx_op = torch_class = "Sigmoid"
    derivative_formula = "a(1 − a)"
    derivative_formula_tex = "a(1 - a)"

    def function(self, z: Array, out: Array) -> Array:
        return _logistic(z, out)

    def derivative(self, z: Array, a: Array) -> Array:
        return a * (1.0 - a)

    def multiply_by_derivative(self, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
        np.multiply(grad_a, a, out=out)
        out *= 1.0 - a  # ⊙ σ'(z) = a (1 − a)
        return out


def _logistic(z: Array, out: Array | None = None) -> Array:
    """1 / (1 + e^(−z)), elementwise, into ``out`` (which may be ``z``) or a new array.

    Stable for any z: with e = exp(−|z|) ≤ 1, it is 1/(1+e) for z ≥ 0 and e/(1+e)
    for z < 0, so exp never overflows.
    """
    e = np.exp(-np.abs(z))
    return np.divide(np.where(z >= 0, 1.0, e), 1.0 + e, out=out)


class Tanh(Activation):
    """σ(z) = tanh z,  σ'(z) = 1 − a²."""

    name = "tanh"
    compiled_kind = "tanh"
    output_range = (-1.0, 1.0)
    derivative_peak = 1.0  # tanh'(0) = 1
    onnx_op = torch_class = "Tanh"
    derivative_formula = "1 − a²"
    derivative_formula_tex = "1 - a^2"

    def function(self, z: Array, out: Array) -> Array:
        return np.tanh(z, out=out)

    def derivative(self, z: Array, a: Array) -> Array:
        return 1.0 - a * a


class ReLU(Activation):
    """σ(z) = max(0, z),  σ'(z) = 1 if z > 0 else 0 (0 at the kink, as PyTorch)."""

    name = "relu"
    compiled_kind = "relu"
    output_range = (0.0, np.inf)
    kinks = (0.0,)
    can_die = True
    auto_init = "he"
    onnx_op = "Relu"
    torch_class = "ReLU"
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
    compiled_kind = "leaky_relu"
    output_range = (-np.inf, np.inf)
    kinks = (0.0,)
    can_die = True
    auto_init = "he"
    derivative_formula = "1 if z > 0 else slope"
    derivative_formula_tex = r"1 \text{ if } z > 0 \text{ else the slope}"

    def __init__(self, slope: float = 0.01) -> None:
        self.slope = check_non_negative_number(slope, "leaky_relu slope")
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

    def compiled_constants(self) -> tuple[float, ...]:
        return (self.slope,)

    def onnx_form(self, graph: OnnxGraph, x: str, out: str) -> str:
        return graph.node("LeakyRelu", [x], out, alpha=self.slope)

    def torch_form(self, torch: Any) -> Any:
        return torch.nn.LeakyReLU(self.slope)

    @classmethod
    def from_torch(cls, module: Any, torch: Any) -> Activation | None:
        if isinstance(module, torch.nn.LeakyReLU):
            return cls(float(module.negative_slope))
        return None


class Swish(Activation):
    """σ(z) = z · s with s = sigmoid(z) (SiLU),  σ'(z) = s + z s (1 − s) = a + s (1 − a).

    Smooth, ≈ z for large z and ≈ 0 for very negative z, with a dip below zero: its
    least value is −0.27846 (at z ≈ −1.2785).
    """

    name = "swish"
    output_range = (-0.2785, np.inf)  # the least value, rounded down
    # Like ReLU away from 0 (≈ z above, ≈ 0 below), a layer keeps about half of its input's
    # variance, which He's 2/n_in makes up for; Glorot's scale assumes σ'(0) = 1, where
    # swish'(0) = 1/2. A unit with z ≤ 0 still passes gradient (σ' vanishes only at the
    # dip and far below it), so can_die stays False; σ' → 1 as z grows: no saturation peak.
    auto_init = "he"
    torch_class = "SiLU"
    derivative_formula = "a + s(1 − a), s = sigmoid(z)"
    derivative_formula_tex = r"a + s(1 - a),\; s = \frac{1}{1 + e^{-z}}"

    def function(self, z: Array, out: Array) -> Array:
        s = _logistic(z)
        return np.multiply(z, s, out=out)  # a = z · s

    def derivative(self, z: Array, a: Array) -> Array:
        s = _logistic(z)
        return a + s * (1.0 - a)  # s + z s (1 − s), with z s = a

    def onnx_form(self, graph: OnnxGraph, x: str, out: str) -> str:
        s = graph.node("Sigmoid", [x], f"{out}.sigmoid")
        return graph.node("Mul", [x, s], out)


class Mish(Activation):
    """σ(z) = z · tanh(softplus(z)),  softplus(z) = ln(1 + e^z);
    σ'(z) = t + z s (1 − t²) with t = tanh(softplus(z)), s = sigmoid(z).

    (softplus' = sigmoid and tanh' = sech² = 1 − tanh².) Smooth, ≈ z for large z and
    ≈ 0 for very negative z; its least value is −0.30884 (at z ≈ −1.1924).
    """

    name = "mish"
    output_range = (-0.3089, np.inf)  # the least value, rounded down
    # He, for swish's reasons: ≈ ReLU away from 0, and σ'(0) = tanh(ln 2) = 0.6, not 1.
    # As swish, a unit with z ≤ 0 still passes gradient and σ' → 1 as z grows: it neither
    # dies nor saturates.
    auto_init = "he"
    torch_class = "Mish"
    derivative_formula = "t + z s(1 − t²), t = tanh(softplus(z)), s = sigmoid(z)"
    derivative_formula_tex = (r"t + z s(1 - t^2),\; t = \tanh \ln(1 + e^{z}),\; "
                              r"s = \frac{1}{1 + e^{-z}}")

    def function(self, z: Array, out: Array) -> Array:
        t = np.tanh(np.logaddexp(0.0, z))  # softplus(z) = ln(e^0 + e^z), without overflow
        return np.multiply(z, t, out=out)  # a = z · tanh(softplus(z))

    def derivative(self, z: Array, a: Array) -> Array:
        t = np.tanh(np.logaddexp(0.0, z))
        return t + z * (1.0 - t * t) * _logistic(z)  # tanh(sp) + z sech²(sp) sigmoid(z)

    def onnx_form(self, graph: OnnxGraph, x: str, out: str) -> str:
        # softplus(x) = max(x, 0) + ln(1 + e^(−|x|)) = Relu(x) − ln sigmoid(|x|): no exp of a
        # large x, and nodes that onnxruntime runs in float64 too (its Softplus is float32 only)
        magnitude = graph.node("Abs", [x], f"{out}.abs")
        log_sigmoid = graph.node("Log", [graph.node("Sigmoid", [magnitude], f"{out}.sigmoid")],
                                 f"{out}.log_sigmoid")
        softplus = graph.node("Sub", [graph.node("Relu", [x], f"{out}.relu"), log_sigmoid],
                              f"{out}.softplus")
        return graph.node("Mul", [x, graph.node("Tanh", [softplus], f"{out}.tanh")], out)


class Softmax(Activation):
    """a_i = e^(z_i) / Σ_j e^(z_j) over the units of one sample.

    Its Jacobian is ∂a_i/∂z_j = a_i ([i = j] − a_j), so
    δ_j = Σ_i ∂L/∂a_i · a_i ([i = j] − a_j) = a_j (g_j − Σ_i g_i a_i).
    """

    name = "softmax"
    # NumPy's passes on the compiled path too: its exp and its row sums are then NumPy's to
    # the last bit (a softmax is an output layer of a few units: fusing it saves nothing)
    compiled_kind = None
    labels_from_logits = "argmax"  # e^(z_i) / Σ_j e^(z_j) is largest where z_i is
    output_range = (0.0, 1.0)
    elementwise = False

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

    def onnx_form(self, graph: OnnxGraph, x: str, out: str) -> str:
        return graph.node("Softmax", [x], out, axis=1)  # over the units of each sample

    def torch_form(self, torch: Any) -> Any:
        return torch.nn.Softmax(dim=1)

    @classmethod
    def from_torch(cls, module: Any, torch: Any) -> Activation | None:
        if not isinstance(module, torch.nn.Softmax):
            return None
        if module.dim not in (1, -1):
            raise OptionError(f"Softmax(dim={module.dim}) must act over dim=1 (features)")
        return cls()


class Exp(Activation):
    """σ(z) = e^z,  σ'(z) = e^z = a: the output of a model of counts (the log link).

    With the Poisson deviance it makes a canonical pair, δ^[L] = a − y
    (:class:`~backprop.nn.losses.PoissonDeviance`). e^z overflows past z ≈ 709 (88 in
    float32), so it belongs at the output, not stacked in hidden layers.
    """

    name = "exp"
    output_range = (0.0, np.inf)
    onnx_op = "Exp"
    derivative_formula = "a"
    derivative_formula_tex = "a"

    def function(self, z: Array, out: Array) -> Array:
        return np.exp(z, out=out)

    def derivative(self, z: Array, a: Array) -> Array:
        return np.array(a, copy=True)  # σ'(z) = e^z = a

    def multiply_by_derivative(self, grad_a: Array, z: Array, a: Array, out: Array) -> Array:
        return np.multiply(grad_a, a, out=out)  # ⊙ σ'(z) = a

    def torch_form(self, torch: Any) -> Any:
        return _torch_exp(torch)()

    @classmethod
    def from_torch(cls, module: Any, torch: Any) -> Activation | None:
        return cls() if type(module) is _torch_exp(torch) else None


_TORCH_EXP: dict[int, type] = {}


def _torch_exp(torch: Any) -> type:
    """The ``torch.nn.Module`` computing e^x (torch.nn has none), made once per torch."""
    made = _TORCH_EXP.get(id(torch))
    if made is None:
        class Exp(torch.nn.Module):  # type: ignore[misc]
            """a = e^x, elementwise."""

            def forward(self, x: Any) -> Any:
                return torch.exp(x)

        made = _TORCH_EXP[id(torch)] = Exp
    return made


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
    "exp": Exp,
    "swish": Swish,
    "mish": Mish,
}


def activation_names() -> list[str]:
    """The names :func:`get_activation` accepts, built-in and registered, in that order."""
    return list(_ACTIVATIONS)


def hidden_activation_names() -> list[str]:
    """The names a menu of hidden-layer activations offers: the elementwise ones."""
    return [name for name in _ACTIVATIONS if activation_class(name).elementwise]


def activation_class(name: str) -> type[Activation]:
    """The class registered as ``name`` (for a factory function: the class of what it makes)."""
    if name not in _ACTIVATIONS:
        raise OptionError(f"unknown activation {name!r}; valid: {', '.join(_ACTIVATIONS)}")
    factory = _ACTIVATIONS[name]
    if isinstance(factory, type) and issubclass(factory, Activation):
        return factory
    return type(_ACTIVATIONS[name]())


def activation_from_torch(module: Any, torch: Any) -> Activation | None:
    """The registered activation that recognises the ``torch.nn`` module, or None."""
    for name in _ACTIVATIONS:
        found = activation_class(name).from_torch(module, torch)
        if found is not None:
            return found
    return None


def register_activation(name: str, factory: Callable[..., Activation]) -> None:
    """Make a user-defined activation available by name: to the command's and the
    estimators' choices, the lab's menus, model files and :func:`~backprop.from_torch`.

    ``factory`` is the :class:`Activation` subclass (or a function making one from the
    options of its config). Registering a name again replaces it.
    """
    if not name or not isinstance(name, str):
        raise OptionError(f"activation name must be a non-empty string, got {name!r}")
    if not callable(factory):
        raise OptionTypeError(f"activation {name!r}: the factory must be an Activation "
                              f"subclass or a function, got {type(factory).__name__}")
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
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        valid = ", ".join(_ACTIVATIONS)
        raise OptionError(f"unknown activation {name!r}; valid: {valid}")
    factory = _ACTIVATIONS[name]
    try:
        inspect.signature(factory).bind(**options)
    except TypeError:
        taken = [p for p in inspect.signature(factory).parameters if p != "self"]
        unknown = sorted(set(options) - set(taken), key=str)
        takes = f"it takes {', '.join(taken)}" if taken else "it takes none"
        if unknown:
            raise OptionError(f"{name}: {unknown[0]!r} is a parameter the activation does "
                              f"not take ({takes})") from None
        raise OptionError(f"activation {name} needs its parameters ({takes}), got "
                          f"{', '.join(sorted(options)) or 'none'}") from None
    except ValueError:  # a factory without a signature (a builtin): let it judge
        pass
    return factory(**options)
