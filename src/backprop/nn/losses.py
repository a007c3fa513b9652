"""Loss functions: the value, ∂L/∂a, and the fused δ^[L] of canonical pairs.

Conventions (docs/architecture.md): a batch has one sample per row; the per-sample
loss sums over the output units; the loss L is the mean of the per-sample
losses over the batch. ``gradient`` returns the per-sample ∂ℓ/∂a, shape
(m, n_out), *without* the 1/m: the mean is taken where equations (3) and
(4) sum over the batch, so δ^[L] stays the textbook per-sample error.

Like Nielsen's cost classes, a loss that has a canonical output activation
(sigmoid for binary cross-entropy, softmax for cross-entropy) provides the
fused output error δ^[L] = a^[L] − y and a value computed from the logits
z^[L], which stays finite where log a would not. Where the backward pass
begins is the loss's business: :meth:`Loss.output_gradient` gives ∂ℓ/∂a^[L],
or δ^[L] itself for a canonical pair, and says which.

On the compiled path (``Network(compiled=True)``) a loss whose ``compiled_kind``
names a form in :mod:`backprop.nn.compiled_losses` computes L and the output
error in one pass; a user's own loss keeps its NumPy methods there.

Sample weights (``Network.backprop(X, Y, sample_weight=w)``) make L the weighted mean
Σ_i w_i ℓ_i / Σ_i w_i of the per-sample losses (:meth:`Loss.sample_losses`), and the
gradient's row i is scaled by w_i · m / Σ w (:func:`weighted_mean_loss`): the 1/m that
(3) and (4) take then gives w_i / Σ w.

Mean squared error here is ½ Σ_k (a_k − y_k)² per sample, the textbook
convention whose derivative is a − y. PyTorch's ``MSELoss`` has no ½ and
also averages over the outputs: ``MSELoss()(a, y) == 2 * L / n_out``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from backprop._typing import Array
from backprop.errors import DataError, OptionError, OptionTypeError

if TYPE_CHECKING:
    from backprop.nn.activations import Activation


def _y_log_y(y: Array) -> Array:
    """y log y, elementwise, with 0 log 0 = 0 (its limit)."""
    return np.asarray(y * np.log(np.where(y > 0, y, 1.0)))


def _clip_positive(a: Array) -> Array:
    """a kept ≥ the dtype's smallest normal number, so log a and 1/a stay finite."""
    return np.maximum(a, np.finfo(a.dtype).tiny)


def _clip_probabilities(a: Array) -> Array:
    """a kept inside [ε, 1 − ε] so log a and 1/a stay finite (ε: the dtype's resolution)."""
    eps = float(np.finfo(a.dtype).eps)
    return np.clip(a, eps, 1.0 - eps)


class Loss:
    """A loss L(a, y) = (1/m) Σ_samples ℓ(a, y)."""

    name: ClassVar[str] = "loss"
    #: The output activation whose pairing gives δ^[L] = a − y, if any.
    canonical_activation: ClassVar[str | None] = None
    #: Whether outputs must lie in (0, 1) (they are probabilities).
    needs_probabilities: ClassVar[bool] = False
    #: Whether outputs must be positive (they are means of counts: the Poisson deviance).
    needs_positive_outputs: ClassVar[bool] = False
    #: The per-sample loss ℓ written out (the right-hand side of ℓ = ...) for the worked
    #: step (:func:`backprop.explain`): plain text and TeX. ``None``: "name(a^[L], y)".
    formula: ClassVar[str | None] = None
    formula_tex: ClassVar[str | None] = None
    #: The compiled form of L and the output error (a name in
    #: :mod:`backprop.nn.compiled_losses`) that ``Network(compiled=True)`` runs, or None: the
    #: compiled path calls the NumPy methods. A subclass that redefines the loss or its
    #: gradient and names no form of its own has none.
    compiled_kind: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        redefined = {"value", "gradient", "value_from_logits", "output_gradient", "fuses_with",
                     "sample_losses", "sample_losses_from_logits"} & set(cls.__dict__)
        if redefined and "compiled_kind" not in cls.__dict__:
            cls.compiled_kind = None  # its parent's compiled form computes another loss

    def value(self, a: Array, y: Array) -> float:
        """L: the mean over the batch of the per-sample loss."""
        raise NotImplementedError

    def gradient(self, a: Array, y: Array, out: Array) -> Array:
        """∂ℓ/∂a per sample, (m, n_out), written into ``out``."""
        raise NotImplementedError

    def value_from_logits(self, z: Array, y: Array) -> float:
        """L computed from z^[L] for the canonical pair (numerically stable)."""
        raise NotImplementedError(f"{self.name} has no canonical output activation")

    def sample_losses(self, a: Array, y: Array) -> Array:
        """ℓ of each sample, (m,): the terms whose mean :meth:`value` is (sample weights
        weigh them). By default :meth:`value` of each row alone."""
        return np.array([self.value(a[i:i + 1], y[i:i + 1]) for i in range(a.shape[0])])

    def sample_losses_from_logits(self, z: Array, y: Array) -> Array:
        """ℓ of each sample from z^[L], (m,), for the canonical pair. By default
        :meth:`value_from_logits` of each row alone."""
        return np.array([self.value_from_logits(z[i:i + 1], y[i:i + 1])
                         for i in range(z.shape[0])])

    def fuses_with(self, activation: Activation) -> bool:
        """Whether this loss and the output activation σ_L make a canonical pair."""
        canonical = self.canonical_activation
        return canonical is not None and canonical == activation.name

    def output_gradient(self, activation: Activation, a: Array, y: Array,
                        out: Array) -> tuple[Array, bool]:
        """Where the backward pass begins, per sample (no 1/m), written into ``out``.

        Arguments:
            activation: the output layer's σ_L.
            a: its output a^[L], (m, n_out); y: the targets, (m, n_out).
            out: the (m, n_out) array the result is written into.

        Returns:
            (g, is_delta). For a canonical pair, g = δ^[L] = ∂ℓ/∂z^[L] = a^[L] − y itself,
            since σ_L' cancels in the derivation, and is_delta is True: the output layer
            must not apply σ_L' again (``Dense.backward(g, delta_given=True)``). Otherwise
            g = ∂ℓ/∂a^[L] and is_delta is False: (1) then multiplies it by σ_L'(z^[L]).
        """
        if self.fuses_with(activation):
            # (1) for a canonical pair: δ^[L] = a^[L] − y
            return np.subtract(a, y, out=out), True
        return self.gradient(a, y, out=out), False

    def config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    """ℓ = ½ Σ_k (a_k − y_k)²,  ∂ℓ/∂a = a − y."""

    name = "mse"
    compiled_kind = "mse"
    formula = "½ Σ_k (a_k^[L] − y_k)²"
    formula_tex = r"\frac{1}{2}\sum_{k} \left(a_{k}^{[L]} - y_{k}\right)^2"

    def value(self, a: Array, y: Array) -> float:
        diff = a - y
        return 0.5 * float(np.einsum("ij,ij->", diff, diff)) / int(a.shape[0])

    def sample_losses(self, a: Array, y: Array) -> Array:
        diff = a - y
        return np.asarray(0.5 * np.einsum("ij,ij->i", diff, diff))

    def gradient(self, a: Array, y: Array, out: Array) -> Array:
        return np.subtract(a, y, out=out)


class BinaryCrossEntropy(Loss):
    """ℓ = −Σ_k [y_k log a_k + (1 − y_k) log(1 − a_k)],  ∂ℓ/∂a = (a − y) / (a (1 − a)).

    With a sigmoid output, a = σ(z) and δ^[L] = ∂ℓ/∂a ⊙ a(1 − a) = a − y.
    """

    name = "binary_cross_entropy"
    compiled_kind = "binary_cross_entropy"
    canonical_activation = "sigmoid"
    needs_probabilities = True
    formula = "−Σ_k [y_k log a_k^[L] + (1 − y_k) log(1 − a_k^[L])]"
    formula_tex = (r"-\sum_{k} \left[y_{k} \log a_{k}^{[L]} + \left(1 - y_{k}\right) "
                   r"\log\left(1 - a_{k}^{[L]}\right)\right]")

    @staticmethod
    def _log_likelihoods(a: Array, y: Array) -> Array:
        """y_k log a_k + (1 − y_k) log(1 − a_k) per unit: −ℓ's terms."""
        p = _clip_probabilities(a)
        return np.asarray(y * np.log(p) + (1.0 - y) * np.log1p(-p))

    def value(self, a: Array, y: Array) -> float:
        return -float(np.sum(self._log_likelihoods(a, y))) / int(a.shape[0])

    def sample_losses(self, a: Array, y: Array) -> Array:
        return np.asarray(-np.sum(self._log_likelihoods(a, y), axis=1))

    def gradient(self, a: Array, y: Array, out: Array) -> Array:
        p = _clip_probabilities(a)
        np.subtract(p, y, out=out)
        out /= p * (1.0 - p)
        return out

    @staticmethod
    def _losses_from_logits(z: Array, y: Array) -> Array:
        """ℓ's terms per unit from z^[L]:
        −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^(−|z|))."""
        return np.asarray(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))))

    def value_from_logits(self, z: Array, y: Array) -> float:
        return float(np.add.reduce(self._losses_from_logits(z, y), axis=None)) / int(z.shape[0])

    def sample_losses_from_logits(self, z: Array, y: Array) -> Array:
        return np.asarray(np.add.reduce(self._losses_from_logits(z, y), axis=1))


class CrossEntropy(Loss):
    """ℓ = −Σ_k y_k log a_k,  ∂ℓ/∂a = −y / a.

    With a softmax output, δ^[L] = a ⊙ (g − ⟨g, a⟩) with g = −y/a gives
    −y + a Σ_k y_k = a − y whenever the targets of a sample sum to 1.
    """

    name = "cross_entropy"
    compiled_kind = "cross_entropy"
    canonical_activation = "softmax"
    needs_probabilities = True
    formula = "−Σ_k y_k log a_k^[L]"
    formula_tex = r"-\sum_{k} y_{k} \log a_{k}^{[L]}"

    def value(self, a: Array, y: Array) -> float:
        return -float(np.sum(y * np.log(_clip_probabilities(a)))) / int(a.shape[0])

    def sample_losses(self, a: Array, y: Array) -> Array:
        return np.asarray(-np.sum(y * np.log(_clip_probabilities(a)), axis=1))

    def gradient(self, a: Array, y: Array, out: Array) -> Array:
        np.negative(y, out=out)
        out /= _clip_probabilities(a)
        return out

    @staticmethod
    def _log_likelihoods_from_logits(z: Array, y: Array) -> Array:
        """y_k log a_k per unit from z^[L]: log a_k = z_k − logsumexp(z), with the row
        maximum taken out first."""
        shifted = z - z.max(axis=1, keepdims=True)
        log_sum = np.log(np.add.reduce(np.exp(shifted), axis=1, keepdims=True))
        return np.asarray(y * (shifted - log_sum))

    def value_from_logits(self, z: Array, y: Array) -> float:
        terms = self._log_likelihoods_from_logits(z, y)
        return -float(np.add.reduce(terms, axis=None)) / int(z.shape[0])

    def sample_losses_from_logits(self, z: Array, y: Array) -> Array:
        return np.asarray(-np.add.reduce(self._log_likelihoods_from_logits(z, y), axis=1))


class PoissonDeviance(Loss):
    """ℓ = Σ_k [y_k log(y_k / a_k) − y_k + a_k] (half the Poisson deviance),  ∂ℓ/∂a = 1 − y/a.

    For counts y ≥ 0 with mean a > 0 (0 log 0 = 0). With an exp output (the log link),
    a = e^z and ℓ = Σ_k [y_k log y_k − y_k z_k − y_k + e^(z_k)], so
    δ^[L] = ∂ℓ/∂z = e^z − y = a − y: the canonical pair, as softmax with cross-entropy.
    """

    name = "poisson"
    canonical_activation = "exp"
    needs_positive_outputs = True
    formula = "Σ_k [y_k log(y_k / a_k^[L]) − y_k + a_k^[L]]"
    formula_tex = (r"\sum_{k} \left[y_{k} \log\frac{y_{k}}{a_{k}^{[L]}} - y_{k} "
                   r"+ a_{k}^{[L]}\right]")

    def value(self, a: Array, y: Array) -> float:
        return float(np.sum(self.sample_losses(a, y))) / int(a.shape[0])

    def sample_losses(self, a: Array, y: Array) -> Array:
        p = _clip_positive(a)
        return np.asarray(np.sum(_y_log_y(y) - y * np.log(p) - y + p, axis=1))

    def gradient(self, a: Array, y: Array, out: Array) -> Array:
        np.divide(y, _clip_positive(a), out=out)
        return np.subtract(1.0, out, out=out)  # 1 − y/a

    def value_from_logits(self, z: Array, y: Array) -> float:
        return float(np.sum(self.sample_losses_from_logits(z, y))) / int(z.shape[0])

    def sample_losses_from_logits(self, z: Array, y: Array) -> Array:
        # y log(y / e^z) − y + e^z = y log y − y z − y + e^z
        return np.asarray(np.sum(_y_log_y(y) - y * z - y + np.exp(z), axis=1))


def weighted_mean_loss(sample_losses: Array, sample_weight: Array) -> tuple[float, Array]:
    """(Σ w_i ℓ_i / Σ w_i, the rows' factors w_i · m / Σ w) for per-sample losses ℓ, (m,).

    Row i of ∂ℓ/∂a^[L] times its factor, then the 1/m of (3)–(4), gives w_i / Σ w: the
    gradient of the weighted mean. Weights all 1 give factors exactly 1.
    """
    total = float(np.sum(sample_weight))
    if not total > 0.0:
        raise DataError(f"sample_weight must have a positive sum over the batch, got {total}")
    value = float(np.dot(sample_weight, sample_losses)) / total
    return value, sample_weight * (sample_losses.shape[0] / total)


_LOSSES: dict[str, Callable[[], Loss]] = {
    "mse": MeanSquaredError,
    "binary_cross_entropy": BinaryCrossEntropy,
    "cross_entropy": CrossEntropy,
    "poisson": PoissonDeviance,
}


def loss_names() -> list[str]:
    """The names :func:`get_loss` accepts."""
    return list(_LOSSES)


def register_loss(name: str, factory: Callable[[], Loss]) -> None:
    """Make a user-defined loss available by name (and loadable from model files)."""
    if not name or not isinstance(name, str):
        raise OptionError(f"loss name must be a non-empty string, got {name!r}")
    _LOSSES[name] = factory


def get_loss(spec: str | Loss | dict[str, Any]) -> Loss:
    """A :class:`Loss` from a name, a config dict, or an instance (returned as is)."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, dict):
        spec = str(spec.get("name"))
    if not isinstance(spec, str):
        raise OptionTypeError(f"loss must be a name or a Loss, got {type(spec).__name__}")
    if spec not in _LOSSES:
        raise OptionError(f"unknown loss {spec!r}; valid: {', '.join(_LOSSES)}")
    return _LOSSES[spec]()


def check_output_pairing(activation: Activation, units: int, loss: Loss) -> None:
    """Refuse output activation / loss pairings whose math makes no sense."""
    name = activation.name
    if name == "softmax" and units == 1:
        raise OptionError(
            "softmax on a single output unit always outputs 1 and cannot learn; "
            "use 1 sigmoid unit with binary_cross_entropy, or ≥ 2 softmax units"
        )
    if loss.name == "cross_entropy" and units == 1:
        raise OptionError(
            "cross_entropy needs one output unit per class (≥ 2); for two classes use "
            "1 sigmoid unit with binary_cross_entropy, or 2 softmax units"
        )
    low, high = activation.output_range
    if loss.needs_positive_outputs and low < 0.0:
        raise OptionError(
            f"{loss.name} needs outputs > 0 but a {name} output ranges over "
            f"({low:g}, {high:g}); use an exp output layer"
        )
    if loss.needs_probabilities and (low < 0.0 or high > 1.0):
        raise OptionError(
            f"{loss.name} needs outputs in (0, 1) but a {name} output ranges over "
            f"({low:g}, {high:g}); use a sigmoid or softmax output layer"
        )
