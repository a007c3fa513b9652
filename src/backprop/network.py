"""Network: a stack of layers and its one training step, :meth:`Network.backprop`.

For layers l = 1..L, with a^[0] = x (docs/architecture.md):

    z^[l] = W^[l] a^[l-1] + b^[l]          a^[l] = σ_l(z^[l])

    (1) δ^[L] = ∂L/∂a^[L] ⊙ σ_L'(z^[L])            output error
    (2) δ^[l] = (W^[l+1]ᵀ δ^[l+1]) ⊙ σ_l'(z^[l])    hidden error
    (3) ∂L/∂b^[l] = δ^[l]
    (4) ∂L/∂W^[l] = δ^[l] a^[l-1]ᵀ

:meth:`Network.backprop` runs the forward pass, asks the loss where (1) begins, and hands
∂L/∂a down the layers from the top, each layer's ``backward`` filling its own gradients;
the four equations are four lines of :meth:`Dense.backward <backprop.nn.layers.Dense.backward>`.

With ``compiled=True`` the same loop runs the work between the matrix products as fused
compiled passes (numba): each layer's σ's passes and the loss's (:mod:`backprop.nn.passes`)
are the compiled ones, and ``fit`` takes the optimizer's step in its compiled pass.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from backprop._typing import Array, IntArray, SparseRows, float_dtype
from backprop.blas_threads import training_threads
from backprop.errors import DataTypeError, OptionError, OptionTypeError
from backprop.jit import require_numba
from backprop.limits import enforce_limit
from backprop.nn.compiled_activations import WithActivationPasses
from backprop.nn.compiled_losses import loss_passes
from backprop.nn.initializers import INIT_NAMES
from backprop.nn.layers import MAX_CACHED_BATCH_SIZES, Dense, Layer
from backprop.nn.losses import Loss, check_output_pairing, get_loss
from backprop.nn.metrics import regression_metrics
from backprop.nn.passes import LossPasses
from backprop.training.fit import fit as fit_network
from backprop.validation import (
    all_finite,
    check_inputs,
    check_seed,
    is_sparse,
    known_to_be_finite,
    prepare_targets,
    shaped_inputs,
)

if TYPE_CHECKING:
    from backprop.training.callbacks import History

#: Rows per block when predicting, so memory stays bounded for any X.
INFERENCE_CHUNK = 2048

class Network:
    """A multi-layer perceptron.

    Arguments:
        layers: the layers, input side first: :class:`~backprop.nn.layers.Dense`,
            :class:`~backprop.nn.dropout.Dropout`, :class:`~backprop.nn.batchnorm.BatchNorm`,
            :class:`~backprop.nn.activation_layer.ActivationLayer` or a kind of one's own
            (a :class:`~backprop.nn.layers.Layer`); the last must be a Dense (its σ is σ_L).
        loss: "mse", "binary_cross_entropy", "cross_entropy", "poisson", or a Loss.
        init: default weight initialization (see :mod:`backprop.nn.initializers`).
        seed: makes initialization, shuffling and dropout masks reproducible bit for bit.
        dtype: "float32" (default) or "float64".
        compiled: run the work between the matrix products (z + b and σ, the loss and
            δ^[L], δ ⊙ σ' and the bias gradient, the optimizer's step) as fused compiled
            passes: the numba extra. The same numbers as without, to 1e-12 relative in
            float64, bit for bit where no sum is reordered (docs/guides/speed-compiled.md).
            Settable later, ``net.compiled = True``; not saved in model files.

    All parameters live in one flat array ``params`` (and their gradients in
    ``grads``); each layer's W and b (and BatchNorm's γ, β) are views into it.
    Non-trainable state (BatchNorm's running statistics) stays in the layers.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: str | Loss = "mse",
        *,
        init: str = "auto",
        seed: int | None = None,
        dtype: Any = "float32",
        compiled: bool = False,
    ) -> None:
        if isinstance(layers, Layer) or not isinstance(layers, Sequence) or not layers:
            raise OptionTypeError("layers must be a non-empty list of layers, e.g. [Dense(2, 1)]")
        enforce_limit("the number of layers", len(layers), "BACKPROP_MAX_LAYERS")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise OptionTypeError(f"layers[{i}] is a {type(layer).__name__}, not a Layer")
        for i in range(1, len(layers)):
            if layers[i].n_in != layers[i - 1].n_out:
                raise OptionError(
                    f"layer {i + 1} expects {layers[i].n_in} inputs but layer {i} "
                    f"gives {layers[i - 1].n_out} outputs"
                )
        output = layers[-1]
        if not isinstance(output, Dense):
            raise OptionTypeError(
                "the last layer must be a Dense layer (it holds the output activation)"
            )
        if init not in INIT_NAMES:
            raise OptionError(f"unknown init {init!r}; valid: {', '.join(INIT_NAMES)}")
        self.layers: list[Layer] = list(layers)
        self.loss: Loss = get_loss(loss)
        check_output_pairing(output.activation, output.n_out, self.loss)
        self.init = init
        self.dtype = float_dtype(dtype)
        #: True when δ^[L] = a^[L] − y (sigmoid + binary CE, softmax + CE).
        self.fused_output = self.loss.fuses_with(output.activation)
        seed = check_seed(seed)
        self._seed_sequence = np.random.SeedSequence(seed)
        self.seed = seed
        init_seed, shuffle_seed = self._seed_sequence.spawn(2)
        #: Drives shuffling (and anything else random during training).
        self.rng = np.random.default_rng(shuffle_seed)
        for index, layer in enumerate(self.layers):
            layer.set_rng(self.rng)  # Dropout draws its masks from the same generator
            # nothing needs ∂L/∂x of the data: the first layer skips its Wᵀδ
            layer.needs_input_gradient = index > 0
        self.history: History | None = None
        self.metadata: dict[str, Any] = {}
        self._allocate_parameters()
        self.initialize(np.random.default_rng(init_seed))
        self._output_work: dict[int, Array] = {}
        self.compiled = compiled

    @property
    def compiled(self) -> bool:
        """Whether the step's elementwise work runs as compiled passes (see the class)."""
        return self._compiled

    @compiled.setter
    def compiled(self, compiled: bool) -> None:
        if not isinstance(compiled, bool | np.bool_):
            raise OptionTypeError(f"compiled must be True or False, got {compiled!r}")
        if compiled:
            require_numba("compiled=True")
        self._compiled = bool(compiled)
        for layer in self.layers:
            layer.use_compiled(self._compiled)
        #: The loss's passes: L and where (1) begins (NumPy's, or one compiled pass).
        self.output_passes: LossPasses = loss_passes(self.loss, self.output_layer.activation,
                                                     self._compiled)

    def prepare_compiled(self) -> None:
        """Compile the compiled passes for this network's dtype now (or load them from
        numba's cache) rather than in the first step (fit does it before its first epoch)."""
        for layer in self.layers:
            if isinstance(layer, WithActivationPasses):
                layer.passes.prepare(self.dtype)
        self.output_passes.prepare(self.dtype)

    # -- parameters -------------------------------------------------------
    def _allocate_parameters(self, params: Array | None = None) -> None:
        """One contiguous buffer for every parameter (``params``, when given), one for every
        gradient."""
        shapes = [layer.parameter_shapes() for layer in self.layers]
        total = sum(int(np.prod(s)) for layer_shapes in shapes for s in layer_shapes.values())
        enforce_limit("the number of parameters", total, "BACKPROP_MAX_PARAMETERS")
        self.params: Array = np.zeros(total, dtype=self.dtype) if params is None else params
        self.grads: Array = np.zeros(total, dtype=self.dtype)
        #: (layer index, tensor name, slice into params/grads), in storage order.
        self.parameter_slices: list[tuple[int, str, slice]] = []
        offset = 0
        for index, (layer, layer_shapes) in enumerate(zip(self.layers, shapes, strict=True)):
            views: dict[str, Array] = {}
            grad_views: dict[str, Array] = {}
            for name, shape in layer_shapes.items():
                size = int(np.prod(shape))
                where = slice(offset, offset + size)
                views[name] = self.params[where].reshape(shape)
                grad_views[name] = self.grads[where].reshape(shape)
                self.parameter_slices.append((index, name, where))
                offset += size
            layer.bind(views, grad_views)

    @property
    def frozen_slices(self) -> list[slice]:
        """The slices of params that training leaves as they are (e.g. frozen biases)."""
        return [where for index, name, where in self.parameter_slices
                if name in self.layers[index].frozen_parameters()]

    def initialize(self, rng: np.random.Generator) -> None:
        """Draw fresh weights for every layer (biases start at 0)."""
        for layer in self.layers:
            layer.initialize(rng, self.init)

    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def n_params(self) -> int:
        return int(self.params.size)

    @property
    def output_layer(self) -> Dense:
        """The last layer, which holds σ_L (the constructor made sure it is a Dense)."""
        return cast(Dense, self.layers[-1])

    @property
    def is_classifier(self) -> bool:
        """Whether predict returns class labels (cross-entropy losses) or values (mse)."""
        return self.loss.name in ("cross_entropy", "binary_cross_entropy")

    def named_parameters(self) -> list[tuple[str, Array]]:
        """("layers.0.W", view), ... for every parameter tensor, in storage order."""
        return [
            (f"layers.{index}.{name}", self.params[where].reshape(self._shape(index, name)))
            for index, name, where in self.parameter_slices
        ]

    def named_state(self) -> list[tuple[str, Array]]:
        """("layers.1.running_mean", array), ... for every non-trainable state array."""
        return [
            (f"layers.{index}.{name}", array)
            for index, layer in enumerate(self.layers)
            for name, array in layer.state_arrays().items()
        ]

    def _shape(self, index: int, name: str) -> tuple[int, ...]:
        return self.layers[index].parameter_shapes()[name]

    # -- forward ----------------------------------------------------------
    def training_threads(self, rows: int) -> AbstractContextManager[None]:
        """BLAS's threads for training steps of ``rows`` samples, by the size of the largest
        product, Z = A_prev Wᵀ (see :mod:`backprop.blas_threads`)."""
        weights = max((p.size for _, p in self.named_parameters() if p.ndim == 2), default=0)
        return training_threads(rows, weights, self.dtype.itemsize)

    def forward_batch(self, X: Array, training: bool) -> Array:
        """a^[L] for a checked batch X, (m, n_inputs); the layers keep z, a for the backward pass.

        ``training`` selects Dropout's masks and BatchNorm's batch statistics.
        """
        a = X
        for layer in self.layers:
            # z^[l] = W^[l] a^[l-1] + b^[l], a^[l] = σ_l(z^[l]) (or Dropout's, BatchNorm's a)
            a = layer.forward(a, training)
        return a

    def batch_loss(self, Y: Array) -> float:
        """L, the mean loss of the batch just passed forward, for its targets Y (m, n_outputs).

        A canonical pair computes it from z^[L] (log-sum-exp), the others from a^[L].
        """
        output = self.output_layer
        assert output.z is not None and output.a is not None
        return self.output_passes.value(output.z, output.a, Y)

    def check_inputs(self, X: Any) -> Array | SparseRows:
        """X validated and converted to the network's dtype, (m, n_inputs).

        A scipy.sparse X (any format) comes back as CSR rows of the network's dtype, never
        densified, when the first layer takes sparse input (a Dense layer does; the
        products of the first layer then take it as it is); otherwise it is refused.
        """
        first = self.layers[0]
        if not first.takes_sparse_input and is_sparse(X):
            raise DataTypeError(f"X is sparse but the first layer, {first!r}, takes dense "
                                "input only (a Dense first layer takes sparse X); give "
                                "X.toarray()")
        return check_inputs(X, self.n_inputs, self.dtype, accept_sparse=True)

    def prepare_targets(self, y: Any, n_samples: int) -> tuple[Array, IntArray | None]:
        """Targets as (m, n_outputs) rows, and the class labels when y gives classes."""
        return prepare_targets(y, n_samples, self.n_outputs, self.loss.name, self.dtype)

    def forward(self, X: Any) -> Array:
        """The output activations a^[L], shape (m, n_outputs), in inference mode.

        X is refused with NaN or ±inf as :meth:`check_inputs` refuses it. Where the first
        layer is a Dense layer narrower than X, the search for them goes through its
        product instead of X: a non-finite entry of a row of X makes every entry of that
        row of Z = X Wᵀ + b non-finite (NaN times anything is NaN, ±inf times a weight is
        ±inf, or NaN times 0), so a finite Z shows a finite X, and Z is the smaller array
        to look at. Only when Z is not finite is X searched, to name the entry (or the
        weights are not finite, and X passes).
        """
        return self._inference(X, activate_output=True)

    def _inference(self, X: Any, activate_output: bool) -> Array:
        """:meth:`forward`; without ``activate_output``, the logits z^[L] instead of a^[L]."""
        first = self.layers[0]
        if is_sparse(X) or known_to_be_finite(X) or not (
                isinstance(first, Dense) and first.n_out < first.n_in):  # X's own check
            return self._inference_checked(self.check_inputs(X), activate_output)
        source = shaped_inputs(X, self.n_inputs)
        with np.errstate(over="ignore"):  # a value float32 cannot hold: inf, found in Z
            converted = np.ascontiguousarray(source, dtype=self.dtype)
        outputs = np.empty((converted.shape[0], self.n_outputs), dtype=self.dtype)
        searched = False
        for start in range(0, converted.shape[0], INFERENCE_CHUNK):
            rows = converted[start:start + INFERENCE_CHUNK]
            if not searched:
                with np.errstate(over="ignore", invalid="ignore"):  # X not known finite yet
                    a = self._through(rows, range(1), activate_output)
                assert first.z is not None
                if not all_finite(first.z):
                    self.check_inputs(source)  # names the entry, or the value the cast overflows
                    searched = True  # X is finite: the product overflows, or the weights do
            if searched:  # again, with NumPy's warnings for what is left
                a = self._through(rows, range(1), activate_output)
            outputs[start:start + INFERENCE_CHUNK] = self._through(
                a, range(1, len(self.layers)), activate_output)
        return outputs

    def forward_checked(self, X: Array) -> Array:
        """:meth:`forward` on an X that is checked already: (m, n_inputs), finite, in the
        network's dtype, as :meth:`check_inputs` gives it (the estimators' predict, whose
        scikit-learn checks came first). It is not checked again."""
        return self._inference_checked(X, activate_output=True)

    def _inference_checked(self, X: Array, activate_output: bool) -> Array:
        outputs = np.empty((X.shape[0], self.n_outputs), dtype=self.dtype)
        for start in range(0, X.shape[0], INFERENCE_CHUNK):
            block = slice(start, start + INFERENCE_CHUNK)
            outputs[block] = self._through(X[block], range(len(self.layers)), activate_output)
        return outputs

    def _through(self, a: Any, layers: range, activate_output: bool) -> Any:
        """a through the layers numbered ``layers``, in inference mode; the output layer
        gives its logits z^[L] instead of a^[L] unless ``activate_output``."""
        for index in layers:
            if index == len(self.layers) - 1 and not activate_output:
                return self.output_layer.logits(a)
            a = self.layers[index].forward(a)
        return a

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (m,) for a classifier; values (m,) or (m, n_outputs) for regression.

        A classifier whose σ_L keeps the order of its logits (softmax, and sigmoid's one
        unit: ``labels_from_logits``) takes its labels from z^[L] without computing σ_L:
        the argmax of z, or z ≥ 0. They are the labels of :meth:`predict_proba` but where
        rounding ties two of its probabilities (or rounds a sigmoid to 1/2 just below
        z = 0): there the logits decide.
        """
        if not self.is_classifier:
            outputs = self.forward(X)
            return outputs[:, 0] if self.n_outputs == 1 else outputs
        rule = self.output_layer.activation.labels_from_logits
        if rule == ("sign" if self.n_outputs == 1 else "argmax"):
            return self.labels_of(self._inference(X, activate_output=False), threshold=0.0)
        return self.labels_of(self.forward(X))

    def labels_of(self, outputs: Array, threshold: float = 0.5) -> IntArray:
        """Class labels (m,) from output activations: a ≥ ``threshold`` for one unit, else
        the argmax. (From one unit's logit z rather than σ(z): ``threshold=0``.)"""
        if self.n_outputs == 1:
            return (outputs[:, 0] >= threshold).astype(np.int64)
        return np.asarray(outputs.argmax(axis=1), dtype=np.int64)

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities (the output activations) of a classifier."""
        return self.forward(X)

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """Metrics on (X, y): "loss"; "accuracy" when y gives classes; "mse" and "r2" for mse."""
        X = self.check_inputs(X)
        Y, labels = self.prepare_targets(y, X.shape[0])
        return self.metrics(X, Y, labels)

    def metrics(self, X: Array, Y: Array, labels: IntArray | None) -> dict[str, float]:
        """:meth:`evaluate` on checked arrays (from check_inputs and prepare_targets)."""
        m = X.shape[0]
        total_loss = 0.0
        outputs = np.empty((m, self.n_outputs), dtype=self.dtype)
        for start in range(0, m, INFERENCE_CHUNK):
            block = slice(start, start + INFERENCE_CHUNK)
            outputs[block] = self.forward_batch(X[block], training=False)
            total_loss += self.batch_loss(Y[block]) * outputs[block].shape[0]
        metrics = {"loss": total_loss / m}
        if labels is not None:
            metrics["accuracy"] = float(np.mean(self.labels_of(outputs) == labels))
        if self.loss.name == "mse":
            metrics.update(regression_metrics(outputs, Y))
        return metrics

    # -- the training step ------------------------------------------------
    def backprop(self, X: Array, Y: Array, sample_weight: Array | None = None) -> float:
        """One step's gradients: the forward pass, the loss, and equations (1)–(4).

        X is a checked batch, (m, n_inputs), in the network's dtype (:meth:`check_inputs`);
        Y its targets, (m, n_outputs) (:meth:`prepare_targets`). Returns L, the mean loss;
        afterwards ``grads`` holds every gradient of that mean loss (each layer's own).
        The forward pass runs in training mode.

        ``sample_weight``, (m,) numbers ≥ 0 with a positive sum, makes L the weighted mean
        Σ w_i ℓ_i / Σ w_i (and ``grads`` its gradient): row i of where (1) begins is
        scaled by w_i · m / Σ w, so the 1/m of (3)–(4) gives w_i / Σ w. None: every
        sample counts once, the numbers as without the argument. (BatchNorm's batch
        statistics stay unweighted.)
        """
        # the forward pass, l = 1..L: z^[l] = W^[l] a^[l-1] + b^[l], a^[l] = σ_l(z^[l])
        a_L = self.forward_batch(X, training=True)
        output = self.output_layer
        assert output.z is not None
        # L, and (1) begins in the loss: ∂L/∂a^[L], or δ^[L] = a^[L] − y for a canonical pair
        loss, grad, is_delta = self.output_passes.value_and_gradient(
            output.z, a_L, Y, out=self._output_buffer(X.shape[0]), sample_weight=sample_weight)
        # l = L..1: ∂L/∂a of each layer's output in, of its input out; its own gradients filled
        grad_a = output.backward(grad, delta_given=is_delta)
        for layer in reversed(self.layers[:-1]):
            assert grad_a is not None  # only the first layer, the last called, gives None
            grad_a = layer.backward(grad_a)
        return loss

    def _output_buffer(self, m: int) -> Array:
        """The (m, n_outputs) array the backward pass begins in, allocated once per batch size."""
        start = self._output_work.get(m)
        if start is None or start.dtype != self.dtype:
            if len(self._output_work) >= MAX_CACHED_BATCH_SIZES:
                self._output_work.pop(next(iter(self._output_work)))
            start = self._output_work[m] = np.empty((m, self.n_outputs), dtype=self.dtype)
        return start

    def gradients(self, X: Any, y: Any) -> list[tuple[Array, Array | None]]:
        """[(dW, db), ...] per Dense layer: the gradients of the mean loss on (X, y).

        The pass runs in training mode (Dropout draws masks, BatchNorm uses and
        updates batch statistics); a BatchNorm's ∂L/∂γ, ∂L/∂β are left in its
        ``dgamma``, ``dbeta``, and every gradient in ``grads``.
        """
        X = self.check_inputs(X)
        Y, _ = self.prepare_targets(y, X.shape[0])
        self.backprop(X, Y)
        return [
            (layer.dW.copy(), None if layer.db is None else layer.db.copy())
            for layer in self.layers
            if isinstance(layer, Dense)
        ]

    def loss_value(self, X: Any, y: Any) -> float:
        """The mean loss L on (X, y)."""
        return self.evaluate(X, y)["loss"]

    # -- training, persistence --------------------------------------------
    #: Train by backpropagation: :func:`backprop.training.fit.fit`, with this network as ``net``
    #: (its arguments are defined once, there).
    fit = fit_network

    def save(self, path: str) -> None:
        """Write the model to ``path`` (.npz arrays + JSON architecture, atomically)."""
        from backprop.files.model_file import save

        save(self, path)

    def to_onnx(self, path: str | os.PathLike[str]) -> None:
        """Write the network as an ONNX graph; see :func:`backprop.export.onnx.to_onnx`."""
        from backprop.export.onnx import to_onnx

        to_onnx(self, path)

    def to_torch(self) -> Any:
        """This network as a torch.nn.Sequential, weights copied (see backprop.export)."""
        from backprop.export.to_torch import to_torch

        return to_torch(self)

    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (no weights)."""
        return {
            "layers": [layer.config() for layer in self.layers],
            "loss": self.loss.config(),
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    def copy(self, dtype: Any = None) -> Network:
        """An independent copy (weights, RNG state, metadata), optionally in another dtype."""
        clone = copy.deepcopy(self)
        if dtype is not None:
            clone.dtype = float_dtype(dtype)
        # deepcopy copies each view on its own: rebuild the shared buffers and views
        clone._allocate_parameters()
        clone.params[...] = self.params
        clone._output_work = {}
        return clone

    def replica(self) -> Network:
        """A network that shares this one's parameters (the same ``params`` buffer, which an
        update of either moves) but has gradients and work arrays of its own: two batches'
        gradients can be computed at once, one by each."""
        clone = copy.deepcopy(self)
        clone._allocate_parameters(params=self.params)
        clone._output_work = {}
        return clone

    def summary(self) -> str:
        """A table of the layers and their parameter counts."""
        lines = [f"{'layer':<8}{'kind':<40}{'params':>10}"]
        for index, layer in enumerate(self.layers):
            count = sum(int(np.prod(s)) for s in layer.parameter_shapes().values())
            lines.append(f"{index:<8}{layer!r:<40}{count:>10,}")
        lines.append(
            f"loss: {self.loss.name}   dtype: {self.dtype.name}   params: {self.n_params:,}"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        layers = ", ".join(repr(layer) for layer in self.layers)
        return f"Network([{layers}], loss={self.loss.name!r}, dtype={self.dtype.name!r})"
