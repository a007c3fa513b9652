"""Layers: each forward caches what its backward needs.

The protocol every layer keeps (docs/architecture.md):

* ``forward(a_prev, training)`` takes the previous layer's activations, (m, n_in),
  and returns this layer's, (m, n_out), caching what backward needs.
* ``backward(grad_a)`` takes ∂L/∂a of this layer's output, (m, n_out),
  fills the layer's own parameter gradients (of the *mean* loss over the
  batch) and returns ∂L/∂a of its input, (m, n_in) — or ``None`` when its
  ``needs_input_gradient`` is False (the network sets it so for the first
  layer, whose input is the data). ``grad_a`` is read, never written: what
  a layer computes goes into its own buffers. Its rows are per-sample
  gradients ∂ℓ_i/∂a_i (no 1/m): a layer takes the batch mean's 1/m where it
  sums over the samples into its parameter gradients.
* ``reference_forward(a_prev)`` and ``reference_backward(grad_a, saved)``: the
  same two passes as the equations read them, out of place, in float64, one
  sample at a time where the kind allows; :mod:`backprop.teaching.reference`
  runs them, for the worked step, the lab's sandbox and the tests.

Parameters and their gradients live in the owning network's two flat
buffers; a layer only holds views into them, given by ``bind``.
The work between the matrix products (z + b and σ, δ ⊙ σ' and the bias
gradient's sum) runs through the layer's σ's passes (:mod:`backprop.nn.passes`):
NumPy's, or on the compiled path (``Network(compiled=True)``, which calls
``use_compiled``) fused compiled passes where σ has them.

Non-trainable state (BatchNorm's running statistics) is the layer's own,
exposed by ``state_arrays`` so model files can save it; randomness during
training (Dropout's masks) comes from the network's generator, handed over
by ``set_rng``, so one seed reproduces a whole run bit for bit.

Layer kinds: :class:`Dense` here, :class:`~backprop.nn.dropout.Dropout` and
:class:`~backprop.nn.batchnorm.BatchNorm` in their own modules; the table of
kinds that model files name is :mod:`backprop.nn.layer_kinds`. Work
arrays are allocated once per batch size and reused, so a training step
allocates (almost) nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from backprop._typing import Array, SparseRows
from backprop.errors import DataError, OptionError, OptionTypeError
from backprop.limits import above_limit
from backprop.nn.activations import Activation, get_activation
from backprop.nn.compiled_activations import WithActivationPasses
from backprop.nn.initializers import get_initializer, initial_bias
from backprop.nn.reference_form import RIGHT, BackwardRule, ReferenceBackward, Saved

if TYPE_CHECKING:
    from backprop.export.onnx import OnnxGraph

#: How many batch sizes a layer keeps work arrays for (training batch,
#: last partial batch, inference chunk, ...).
MAX_CACHED_BATCH_SIZES = 4


def check_width(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise OptionTypeError(f"{name} must be an integer, got {value!r}")
    if value <= 0:
        raise OptionError(f"{name} must be positive, got {value}")
    too_wide = above_limit(name, int(value), "BACKPROP_MAX_UNITS")
    if too_wide:
        raise OptionError(too_wide)
    return int(value)


class Layer:
    """Base class of all layer kinds (the protocol: see the module's docstring)."""

    n_in: int
    n_out: int
    #: Whether backward must return ∂L/∂a of the input; the Network sets it False for the
    #: first layer, so that no one computes a gradient of the data.
    needs_input_gradient: bool = True
    #: Whether forward takes a scipy.sparse CSR batch as its input (a Dense layer does);
    #: a network whose first layer does not refuses sparse X.
    takes_sparse_input: bool = False

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name → shape of each trainable tensor, in storage order."""
        return {}

    def frozen_parameters(self) -> tuple[str, ...]:
        """Names of the tensors that keep their values in training (no optimizer moves them)."""
        return ()

    def bind(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        """Receive the views of the network's parameter and gradient buffers."""

    def initialize(self, rng: np.random.Generator, init: str) -> None:
        """Fill the bound parameters with their initial values."""

    def set_rng(self, rng: np.random.Generator) -> None:
        """Receive the network's generator, for randomness during training."""

    def use_compiled(self, compiled: bool) -> None:
        """Run this layer's elementwise work as compiled passes where its kind has them
        (``Network(compiled=True)`` calls it), or as NumPy calls. By default nothing
        changes: a kind without compiled passes runs its NumPy code on the compiled path."""

    def state_arrays(self) -> dict[str, Array]:
        """Name → non-trainable state saved with the model (e.g. running statistics)."""
        return {}

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        """Restore the arrays of :meth:`state_arrays` (same names and shapes)."""
        own = self.state_arrays()
        for name, value in arrays.items():
            if name not in own:
                raise ValueError(f"{type(self).__name__} has no state array {name!r}")
            assign_parameter(own[name], value, name)

    def forward(self, a_prev: Array, training: bool = False) -> Array:
        """a of this layer, (m, n_out), for a batch a_prev, (m, n_in).

        ``training`` is True in fit, gradients and gradcheck, False in
        forward, predict and evaluate (Dropout and BatchNorm behave differently).
        """
        raise NotImplementedError

    def backward(self, grad_a: Array) -> Array | None:
        """From ∂L/∂a of this layer's output, (m, n_out): fill this layer's parameter
        gradients (of the mean loss) and return ∂L/∂a of its input, (m, n_in), or None
        when :attr:`needs_input_gradient` is False. ``grad_a`` is not written to."""
        raise NotImplementedError

    def reference_forward(self, a_prev: np.ndarray) -> tuple[np.ndarray, Saved]:
        """The forward pass as the equations read it, out of place, in float64: the output,
        (m, n_out), for a_prev, (m, n_in), and what :meth:`reference_backward` needs."""
        raise NotImplementedError(f"{type(self).__name__} has no reference form: define "
                                  f"reference_forward and reference_backward")

    def reference_backward(self, grad_a: np.ndarray, saved: Saved,
                           rule: BackwardRule = RIGHT) -> ReferenceBackward:
        """The backward pass as the equations read it, in float64: from ∂ℓ_i/∂a of the
        output per sample, (m, n_out), and what :meth:`reference_forward` saved."""
        raise NotImplementedError(f"{type(self).__name__} has no reference form: define "
                                  f"reference_forward and reference_backward")

    def config(self) -> dict[str, Any]:
        """JSON description from which :func:`layer_from_config` rebuilds the layer."""
        raise NotImplementedError

    # -- forms in other runtimes (onnx and torch are handed in, never imported here) --
    def onnx_form(self, graph: OnnxGraph, x: str, name: str) -> str:
        """Add this layer, in inference mode, to an ONNX graph: nodes reading tensor ``x``.

        Returns the name of the layer's output tensor. ``name`` ("layers.3") starts the
        names of the tensors and constants it adds (see
        :class:`~backprop.export.onnx.OnnxGraph`).
        """
        raise OptionError(f"no ONNX form; define {type(self).__name__}.onnx_form(graph, x, "
                          "name) to export it")

    def torch_form(self, torch: Any, dtype: Any) -> list[Any]:
        """The ``torch.nn`` modules computing this layer, with copies of its arrays.

        ``torch`` is the torch package and ``dtype`` the torch dtype of the network.
        """
        raise OptionError(f"no PyTorch form; define {type(self).__name__}.torch_form(torch, "
                          "dtype) to convert it")

    @classmethod
    def from_torch(cls, module: Any, n_in: int | None, torch: Any) -> Layer | None:
        """A layer of this kind that computes the ``torch.nn`` module, else None (the default).

        ``n_in`` is the width of the layer below (None for the first module). The layer's
        arrays are copied afterwards, by :meth:`load_torch`. Raises
        :class:`~backprop.errors.OptionError` for a module of this kind that the library
        cannot follow.
        """
        return None

    def load_torch(self, module: Any) -> None:
        """Copy the arrays of the module :meth:`from_torch` recognised, once in a Network."""

    def merge_into(self, below: Layer) -> Layer | None:
        """One layer that does ``below`` and then this one, or None: they stay two (default).

        :func:`~backprop.from_torch` asks it of each layer, so that PyTorch's Linear then
        ReLU becomes one ``Dense(..., "relu")``.
        """
        return None


class Dense(WithActivationPasses, Layer):
    """A fully connected layer: z = W a_prev + b, a = σ(z).

    Arguments:
        n_in: inputs per sample (the width of the layer below).
        n_out: units in this layer.
        activation: a name from :func:`backprop.nn.activations.activation_names`
            or an :class:`~backprop.nn.activations.Activation`; ``None`` is linear
            (z itself, e.g. before a BatchNorm and an
            :class:`~backprop.nn.activation_layer.ActivationLayer`).
        bias: whether the layer has a bias b (``False`` reproduces textbook
            networks without biases).
        train_bias: whether training updates b (``False`` keeps the bias at
            the value it is given, as derivations that hold the biases fixed
            do; its gradient is still computed, but no optimizer moves it,
            weight decay included).
        init: weight initialization for this layer; ``None`` uses the network's.

    After the layer joins a :class:`~backprop.Network`, ``W`` has shape
    (n_out, n_in) and ``b`` shape (n_out,); ``dW`` and ``db`` hold the
    gradients of the mean loss from the last backward pass.

    As a network's first layer it takes a scipy.sparse batch (CSR rows) as it is: the
    products with A_prev are SciPy's sparse × dense ones, and no dense copy of it is made.
    """

    #: Its products take sparse A_prev as it is (and, first, it never computes Wᵀδ).
    takes_sparse_input = True

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | Activation | dict[str, Any] | None = "linear",
        *,
        bias: bool = True,
        train_bias: bool = True,
        init: str | None = None,
    ) -> None:
        self.n_in = check_width("n_in", n_in)
        self.n_out = check_width("n_out", n_out)
        self.activation = get_activation("linear" if activation is None else activation)
        self.bias = bool(bias)
        self.train_bias = bool(train_bias)
        if init is not None:
            get_initializer(init, self.activation)  # fail now on a bad name
        self.init = init
        self._W: Array | None = None
        self._b: Array | None = None
        self._dW: Array | None = None
        self._db: Array | None = None
        self._work: dict[int, tuple[Array, ...]] = {}
        self.a_prev: Array | SparseRows | None = None  # the input: CSR rows, for a first layer
        self.z: Array | None = None
        self.a: Array | None = None

    # -- parameters -------------------------------------------------------
    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {"W": (self.n_out, self.n_in)}
        if self.bias:
            shapes["b"] = (self.n_out,)
        return shapes

    def frozen_parameters(self) -> tuple[str, ...]:
        return ("b",) if self.bias and not self.train_bias else ()

    def bind(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        self._W, self._dW = params["W"], grads["W"]
        self._b, self._db = params.get("b"), grads.get("b")
        self._work.clear()

    def initialize(self, rng: np.random.Generator, init: str) -> None:
        scheme = get_initializer(self.init or init, self.activation)
        self.W = scheme(rng, (self.n_out, self.n_in))
        if self._b is not None:
            self._b[...] = initial_bias(self.init or init, self.activation, rng,
                                        (self.n_out, self.n_in))

    def _bound(self, array: Array | None) -> Array:
        if array is None:
            raise RuntimeError("this Dense layer is not part of a Network yet")
        return array

    @property
    def W(self) -> Array:
        """Weights W^[l], shape (n_out, n_in): W[j, k] connects input k to unit j."""
        return self._bound(self._W)

    @W.setter
    def W(self, value: Any) -> None:
        assign_parameter(self._bound(self._W), value, "W")

    @property
    def b(self) -> Array | None:
        """Biases b^[l], shape (n_out,), or ``None`` for a layer without bias."""
        return self._b

    @b.setter
    def b(self, value: Any) -> None:
        if self._b is None:
            raise OptionError("this layer was built with bias=False and has no b")
        assign_parameter(self._b, value, "b")

    @property
    def dW(self) -> Array:
        """∂L/∂W^[l] of the mean loss, from the last backward pass."""
        return self._bound(self._dW)

    @property
    def db(self) -> Array | None:
        """∂L/∂b^[l] of the mean loss, or ``None`` without bias."""
        return self._db

    # -- the two passes ---------------------------------------------------

    def _work_arrays(self, m: int, dtype: np.dtype[Any]) -> tuple[Array, ...]:
        """Z, A, Δ and Δ/m, (m, n_out), and ∂L/∂a_prev, (m, n_in), allocated once per
        batch size. The first layer, which never computes ∂L/∂a_prev, gets it with 0 rows:
        nothing of the data's size (m × n_inputs) is allocated for it."""
        rows_in = m if self.needs_input_gradient else 0
        work = self._work.get(m)
        if work is None or work[0].dtype != dtype or work[4].shape[0] != rows_in:
            if len(self._work) >= MAX_CACHED_BATCH_SIZES:
                self._work.pop(next(iter(self._work)))
            work = (*(np.empty((m, self.n_out), dtype) for _ in range(4)),
                    np.empty((rows_in, self.n_in), dtype))
            self._work[m] = work
        return work

    def forward(self, a_prev: Array | SparseRows, training: bool = False) -> Array:
        """a^[l] = σ(W^[l] a^[l-1] + b^[l]) for a batch a_prev of shape (m, n_in): an array,
        or, for a first layer, scipy.sparse CSR rows (never densified)."""
        z, a = self._work_arrays(a_prev.shape[0], self.W.dtype)[:2]
        self._product(a_prev, z)  # z^[l] = W^[l] a^[l-1]: with one sample per row, A_prev Wᵀ
        # + b^[l], then a^[l] = σ(z^[l]): σ's passes (one pass on the compiled path)
        self.passes.add_bias_and_activate(z, self._b, a)
        self.a_prev, self.z, self.a = a_prev, z, a
        return a

    def logits(self, a_prev: Array | SparseRows) -> Array:
        """z^[l] = W^[l] a^[l-1] + b^[l] without σ, in a new (m, n_out) array: what a
        classifier's labels need where σ keeps the order of z (``labels_from_logits``).
        Inference only: ``z`` is kept (for the network's finiteness check), ``a`` is not."""
        z = np.empty((a_prev.shape[0], self.n_out), self.W.dtype)
        self._product(a_prev, z)
        if self._b is not None:
            z += self._b
        self.a_prev, self.z, self.a = a_prev, z, None
        return z

    def _product(self, a_prev: Array | SparseRows, z: Array) -> None:
        """z ← W^[l] a^[l-1]; with one sample per row: Z = A_prev Wᵀ."""
        if isinstance(a_prev, np.ndarray):
            np.matmul(a_prev, self.W.T, out=z)
        else:  # sparse A_prev (CSR rows): SciPy's sparse × dense product, a dense ndarray
            z[...] = a_prev @ self.W.T

    def backward(self, grad_a: Array, *, delta_given: bool = False) -> Array | None:
        """Equations (1)/(2), (3) and (4) of this layer, from ∂L/∂a^[l], (m, n_out).

        Fills dW and db (the means over the batch) and returns ∂L/∂a^[l-1] = W^[l]ᵀ δ^[l],
        (m, n_in), or None when :attr:`needs_input_gradient` is False.

        ``delta_given``: ``grad_a`` already is δ^[l] = ∂L/∂z^[l], so σ' is not applied
        again. :meth:`Loss.output_gradient <backprop.nn.losses.Loss.output_gradient>` gives
        it so for a canonical pair, δ^[L] = a^[L] − y, where σ_L' cancelled in the derivation.

        Rows are samples: Δ stacks the δ_iᵀ, so the equations appear transposed (δ aᵀ is
        Δᵀ A_prev). ``grad_a`` is read, never written: δ, δ/m and ∂L/∂a^[l-1] go into this
        layer's own buffers. The elementwise work, (1)/(2) and (3), is σ's passes' (NumPy
        calls, or one compiled pass); the products are BLAS's.
        """
        z, a, a_prev = self._cached(self.z), self._cached(self.a), self._cached(self.a_prev)
        W, dW, db, m = self.W, self.dW, self._db, a_prev.shape[0]
        _, _, delta_buffer, mean_buffer, input_buffer = self._work_arrays(m, W.dtype)
        # The batch mean's 1/m goes on Δ or on dW and db, whichever has fewer entries.
        scale_delta = m > 1 and delta_buffer.size < dW.size
        # For one sample, δ aᵀ is a broadcast multiply (BLAS is several times slower at inner
        # dimension 1); for a batch, the sum over samples Σ_i δ_i a_iᵀ is the product Δᵀ A_prev.
        outer = np.multiply if m == 1 else np.matmul

        # (1), (2)  δ^[l] = ∂L/∂a^[l] ⊙ σ'(z^[l])                      (given: a − y)
        # (3)       ∂L/∂b^[l] = δ^[l], summed over the samples (rows): Δ's column sums (/ m)
        delta, mean_delta = self.passes.delta_and_bias_gradient(
            grad_a, z, a, db, delta_given=delta_given, scale_delta=scale_delta,
            delta_out=delta_buffer, mean_out=mean_buffer)
        # Wᵀδ       ∂L/∂a^[l-1] = W^[l]ᵀ δ^[l], (2)'s first factor one layer down: Δ W (no 1/m)
        grad_input = np.matmul(delta, W, out=input_buffer) if self.needs_input_gradient else None
        # (4)       ∂L/∂W^[l] = δ^[l] a^[l-1]ᵀ, summed over the samples (rows): Δᵀ A_prev (/ m)
        if isinstance(a_prev, np.ndarray):
            outer(mean_delta.T, a_prev, out=dW)
        else:  # sparse A_prev: Δᵀ A_prev = (A_prevᵀ Δ)ᵀ, sparse × dense, A_prev kept sparse
            dW[...] = (a_prev.T @ mean_delta).T
        if m > 1 and not scale_delta:  # the 1/m that is not on Δ
            dW *= 1.0 / m
        return grad_input

    # -- the same two passes as the equations read (teaching.reference) ----
    def reference_forward(self, a_prev: np.ndarray) -> tuple[np.ndarray, Saved]:
        """z^[l] and a^[l] of each sample, in float64: z = W a_prev + b, a = σ(z)."""
        W = np.array(self.W, dtype=np.float64)
        b = None if self._b is None else np.array(self._b, dtype=np.float64)
        # z^[l] = W^[l] a^[l-1] + b^[l], one sample (a column vector) at a time
        z = np.array([W @ x if b is None else W @ x + b for x in a_prev]).reshape(-1, self.n_out)
        # a^[l] = σ(z^[l])
        a = np.array([self.activation.function(row[np.newaxis, :], out=np.empty((1, self.n_out)))[0]
                      for row in z]).reshape(-1, self.n_out)
        return a, {"a_prev": a_prev, "z": z, "a": a, "W": W}

    def reference_backward(self, grad_a: np.ndarray, saved: Saved,
                           rule: BackwardRule = RIGHT, *,
                           delta_given: bool = False) -> ReferenceBackward:
        """δ_i, ∂L/∂W^[l], ∂L/∂b^[l] and W^[l]ᵀ δ_i, one sample at a time, in float64.

        ``delta_given`` as in :meth:`backward`; ``rule`` may swap in a known-wrong step.
        """
        a_prev, z, a, W = saved["a_prev"], saved["z"], saved["a"], saved["W"]
        m = a_prev.shape[0]
        # (1), (2)  δ_i^[l] = g_i ⊙ σ'(z_i^[l]), g_i = ∂ℓ_i/∂a_i^[l]
        delta = grad_a if delta_given or not rule.sigma_prime else np.array(
            [self.activation.vector_jacobian_product(g, zi, ai)
             for g, zi, ai in zip(grad_a, z, a, strict=True)]).reshape(m, self.n_out)
        # (4)       ∂L/∂W^[l] = 1/m Σ_i δ_i^[l] a_i^[l-1]ᵀ
        outer_sum = np.zeros_like(W)
        for d, x in zip(delta, a_prev, strict=True):
            outer_sum += np.outer(d, x)
        gradients = {"W": outer_sum / (float(m) if rule.mean_dW else 1.0)}
        # (3)       ∂L/∂b^[l] = 1/m Σ_i δ_i^[l]
        if self._b is not None:
            gradients["b"] = delta.sum(axis=0) / (float(m) if rule.mean_db else 1.0)
        if not self.needs_input_gradient:
            return ReferenceBackward(None, gradients, delta)
        # Wᵀδ       ∂ℓ_i/∂a_i^[l-1] = W^[l]ᵀ δ_i^[l]
        if rule.stale_lr is not None:
            W = W - rule.stale_lr * gradients["W"]
        if not rule.transpose and W.shape[0] != W.shape[1]:
            raise ValueError(f"W δ in place of Wᵀ δ needs square weights, but W is "
                             f"{W.shape[0]}×{W.shape[1]}, so W δ cannot give the layer below its δ")
        across = W.T if rule.transpose else W
        return ReferenceBackward(np.array([across @ d for d in delta]).reshape(m, self.n_in),
                                 gradients, delta)

    def _cached(self, array: Array | None) -> Array:
        if array is None:
            raise RuntimeError("backward called before forward")
        return array

    def config(self) -> dict[str, Any]:
        return {
            "kind": "Dense",
            "n_in": self.n_in,
            "n_out": self.n_out,
            "activation": self.activation.config(),
            "bias": self.bias,
            "train_bias": self.train_bias,
            "init": self.init,
        }

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        extra += "" if self.train_bias or not self.bias else ", train_bias=False"
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation.name!r}{extra})"

    # -- forms in other runtimes ------------------------------------------
    def onnx_form(self, graph: OnnxGraph, x: str, name: str) -> str:
        """Gemm(a, W, b, transB=1): z = a Wᵀ + b (W is (n_out, n_in)); then σ's own nodes."""
        inputs = [x, graph.constant(f"{name}.W", self.W)]
        if self._b is not None:
            inputs.append(graph.constant(f"{name}.b", self._b))
        z = graph.node("Gemm", inputs, f"{name}.z", transB=1)
        return self.activation.onnx_form(graph, z, f"{name}.a")

    def torch_form(self, torch: Any, dtype: Any) -> list[Any]:
        """``nn.Linear`` (the same W, (n_out, n_in), and b), then σ's module unless linear."""
        linear = torch.nn.Linear(self.n_in, self.n_out, bias=self._b is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(self.W.copy()))
            if self._b is not None:
                linear.bias.copy_(torch.from_numpy(self._b.copy()))
        sigma = self.activation.torch_form(torch)
        return [linear] if sigma is None else [linear, sigma]

    @classmethod
    def from_torch(cls, module: Any, n_in: int | None, torch: Any) -> Layer | None:
        """``nn.Linear``, as a Dense layer without σ (an activation module after it merges in)."""
        if not isinstance(module, torch.nn.Linear):
            return None
        return cls(module.in_features, module.out_features, bias=module.bias is not None)

    def load_torch(self, module: Any) -> None:
        self.W = module.weight.detach().cpu().numpy()
        if module.bias is not None:
            self.b = module.bias.detach().cpu().numpy()


def assign_parameter(target: Array, value: Any, name: str) -> None:
    """Copy ``value`` into a parameter view, keeping the network's buffer and dtype."""
    array = np.asarray(value)
    if array.shape != target.shape:
        raise DataError(f"{name} must have shape {target.shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} contains NaN or inf")
    target[...] = array
