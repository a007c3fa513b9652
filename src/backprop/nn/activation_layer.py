"""ActivationLayer: σ applied as a layer of its own, a = σ(x), elementwise (softmax: per row).

A Dense layer usually carries its activation (z = W a + b, a = σ(z)). To put
something between the two, as batch normalization is placed in its paper
(Dense → BatchNorm → σ), give the Dense no activation (``activation=None``,
i.e. linear) and follow the BatchNorm with ``ActivationLayer(n, "relu")``.

Its backward pass is the ⊙ σ'(x) factor of equation (2) on its own:
∂L/∂x = ∂L/∂a ⊙ σ'(x), into a buffer of its own. It has no parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError
from backprop.nn.activations import Activation, Linear, activation_from_torch, get_activation
from backprop.nn.compiled_activations import WithActivationPasses
from backprop.nn.layers import MAX_CACHED_BATCH_SIZES, Dense, Layer, check_width
from backprop.nn.reference_form import RIGHT, BackwardRule, ReferenceBackward, Saved

if TYPE_CHECKING:
    from backprop.export.onnx import OnnxGraph


class ActivationLayer(WithActivationPasses, Layer):
    """σ of n features, as a layer.

    Arguments:
        n: features (the width of the layer below; n_in = n_out = n).
        activation: a name from :func:`backprop.nn.activations.activation_names`, a
            config dict (``{"name": "leaky_relu", "slope": 0.2}``) or an
            :class:`~backprop.nn.activations.Activation`.
    """

    def __init__(self, n: int, activation: str | Activation | dict[str, Any] = "relu") -> None:
        self.n_in = self.n_out = check_width("n", n)
        self.activation = get_activation(activation)
        self._work: dict[int, tuple[Array, Array]] = {}
        self.z: Array | None = None  # the input x, which plays z's part for σ'
        self.a: Array | None = None


    def _work_arrays(self, m: int, dtype: np.dtype[Any]) -> tuple[Array, Array]:
        """The output a and ∂L/∂x, (m, n), allocated once per batch size."""
        work = self._work.get(m)
        if work is None or work[0].dtype != dtype:
            if len(self._work) >= MAX_CACHED_BATCH_SIZES:
                self._work.pop(next(iter(self._work)))
            work = (np.empty((m, self.n_in), dtype), np.empty((m, self.n_in), dtype))
            self._work[m] = work
        return work

    def forward(self, a_prev: Array, training: bool = False) -> Array:
        """a = σ(x) for a batch x of shape (m, n)."""
        out, _ = self._work_arrays(a_prev.shape[0], a_prev.dtype)
        self.passes.add_bias_and_activate(a_prev, None, out)  # a = σ(x); x is only read
        self.z, self.a = a_prev, out
        return out

    def backward(self, grad_a: Array) -> Array | None:
        """∂L/∂x = ∂L/∂a ⊙ σ'(x), (m, n) (None when not needed); no parameters."""
        if not self.needs_input_gradient:
            return None
        if self.z is None or self.a is None:
            raise RuntimeError("backward called before forward")
        _, grad_input = self._work_arrays(grad_a.shape[0], grad_a.dtype)
        # ∂L/∂x = ∂L/∂a ⊙ σ'(x): σ's passes, with no bias and no 1/m
        delta, _ = self.passes.delta_and_bias_gradient(
            grad_a, self.z, self.a, None, delta_given=False, scale_delta=False,
            delta_out=grad_input, mean_out=grad_input)
        return delta

    def reference_forward(self, a_prev: np.ndarray) -> tuple[np.ndarray, Saved]:
        """a_i = σ(x_i), one sample at a time, in float64."""
        a = np.array([self.activation.function(row[np.newaxis, :], out=np.empty((1, self.n_in)))[0]
                      for row in a_prev]).reshape(-1, self.n_in)
        return a, {"z": a_prev, "a": a}

    def reference_backward(self, grad_a: np.ndarray, saved: Saved,
                           rule: BackwardRule = RIGHT) -> ReferenceBackward:
        """∂ℓ_i/∂x_i = ∂ℓ_i/∂a_i ⊙ σ'(x_i), one sample at a time (σ' dropped by ``rule``)."""
        if not self.needs_input_gradient:
            return ReferenceBackward(None, {})
        if not rule.sigma_prime:
            return ReferenceBackward(grad_a, {})
        return ReferenceBackward(np.array([
            self.activation.vector_jacobian_product(g, x, a)
            for g, x, a in zip(grad_a, saved["z"], saved["a"], strict=True)]).reshape(
                grad_a.shape), {})

    def config(self) -> dict[str, Any]:
        return {"kind": "ActivationLayer", "n": self.n_in,
                "activation": self.activation.config()}

    def __repr__(self) -> str:
        return f"ActivationLayer({self.n_in}, {self.activation.name!r})"

    # -- forms in other runtimes: σ's own ---------------------------------
    def onnx_form(self, graph: OnnxGraph, x: str, name: str) -> str:
        return self.activation.onnx_form(graph, x, f"{name}.a")

    def torch_form(self, torch: Any, dtype: Any) -> list[Any]:
        sigma = self.activation.torch_form(torch)
        return [torch.nn.Identity() if sigma is None else sigma]

    @classmethod
    def from_torch(cls, module: Any, n_in: int | None, torch: Any) -> Layer | None:
        """An activation module that a registered activation recognises."""
        activation = activation_from_torch(module, torch)
        if activation is None:
            return None
        if n_in is None:
            raise OptionError("an activation cannot be the first module: its width is unknown")
        return cls(n_in, activation)

    def merge_into(self, below: Layer) -> Layer | None:
        """A Dense layer without σ takes this σ as its own (PyTorch's Linear then σ)."""
        if not isinstance(below, Dense) or not isinstance(below.activation, Linear):
            return None
        return Dense(below.n_in, below.n_out, self.activation, bias=below.bias,
                     train_bias=below.train_bias, init=below.init)
