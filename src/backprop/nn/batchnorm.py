"""BatchNorm: per-feature normalization over the batch, y = γ x̂ + β.

In training, for each feature j over the m samples of the batch:

    μ_B = (1/m) Σ_i x_i          σ²_B = (1/m) Σ_i (x_i − μ_B)²
    x̂_i = (x_i − μ_B) / √(σ²_B + ε)
    y_i = γ x̂_i + β

and the running statistics move towards the batch's, as PyTorch's
torch.nn.BatchNorm1d does (the running variance takes the *unbiased*
batch variance, σ²_B · m / (m − 1)):

    running_mean ← (1 − momentum) · running_mean + momentum · μ_B
    running_var  ← (1 − momentum) · running_var  + momentum · σ²_B · m/(m − 1)

At predict time (``training=False``) x̂ uses running_mean and running_var.

γ and β are trainable and live in the network's flat parameter buffer like
W and b; the running statistics are non-trainable state, saved in model
files as ``layers.<i>.running_mean`` and ``layers.<i>.running_var``.

BatchNorm has no activation of its own: it normalizes whatever the layer
below outputs. Put it after a Dense layer, e.g.
``Dense(n, k, activation="relu") → BatchNorm(k) → Dense(k, ...)``
(normalizing the activations), or ``Dense(n, k, activation="linear",
bias=False) → BatchNorm(k) → ...`` (normalizing z; a bias there is
cancelled by the mean subtraction, β takes its place).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError, OptionTypeError
from backprop.nn.layers import (
    MAX_CACHED_BATCH_SIZES,
    Layer,
    assign_parameter,
    check_width,
)
from backprop.nn.reference_form import RIGHT, BackwardRule, ReferenceBackward, Saved

if TYPE_CHECKING:
    from backprop.export.onnx import OnnxGraph


def _check_positive_float(name: str, value: object, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise OptionTypeError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not np.isfinite(number) or number <= 0.0 or (upper is not None and number > upper):
        bound = f"in (0, {upper:g}]" if upper is not None else "positive"
        raise OptionError(f"{name} must be {bound}, got {value!r}")
    return number


class BatchNorm(Layer):
    """Batch normalization of n features.

    Arguments:
        n: features (the width of the layer below; n_in = n_out = n).
        momentum: weight of the batch statistics in the running ones (PyTorch's
            convention and default: 0.1).
        eps: ε added to the variance, for numerical safety.

    After the layer joins a :class:`~backprop.Network`, ``gamma`` and ``beta``
    have shape (n,) (initially 1 and 0), ``dgamma`` and ``dbeta`` hold their
    gradients of the mean loss, and ``running_mean`` / ``running_var``
    (initially 0 and 1) the statistics used at predict time.
    """

    def __init__(self, n: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        self.n_in = self.n_out = check_width("n", n)
        self.momentum = _check_positive_float("momentum", momentum, upper=1.0)
        self.eps = _check_positive_float("eps", eps)
        self._gamma: Array | None = None
        self._beta: Array | None = None
        self._dgamma: Array | None = None
        self._dbeta: Array | None = None
        self.running_mean: Array = np.zeros(self.n_in)
        self.running_var: Array = np.ones(self.n_in)
        # x̂ and y, (m, n), and ∂L/∂x, (m, n), per batch size
        self._work: dict[int, tuple[Array, Array, Array]] = {}
        self.x_hat: Array | None = None
        self.inv_std: Array | None = None  # 1 / √(σ² + ε), (n,)
        self._last_training = False

    # -- parameters and state ---------------------------------------------
    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"gamma": (self.n_in,), "beta": (self.n_in,)}

    def bind(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        self._gamma, self._dgamma = params["gamma"], grads["gamma"]
        self._beta, self._dbeta = params["beta"], grads["beta"]
        # the running statistics follow the network's dtype, keeping their values
        dtype = self._gamma.dtype
        self.running_mean = self.running_mean.astype(dtype)
        self.running_var = self.running_var.astype(dtype)
        self._work.clear()

    def initialize(self, rng: np.random.Generator, init: str) -> None:
        self.gamma[...] = 1.0
        self.beta[...] = 0.0
        self.running_mean[...] = 0.0
        self.running_var[...] = 1.0

    def state_arrays(self) -> dict[str, Array]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        super().load_state_arrays(arrays)
        if np.any(self.running_var < 0):
            raise ValueError("running_var must not be negative")

    def _bound(self, array: Array | None) -> Array:
        if array is None:
            raise RuntimeError("this BatchNorm layer is not part of a Network yet")
        return array

    @property
    def gamma(self) -> Array:
        """Scale γ, shape (n,)."""
        return self._bound(self._gamma)

    @gamma.setter
    def gamma(self, value: Any) -> None:
        assign_parameter(self.gamma, value, "gamma")

    @property
    def beta(self) -> Array:
        """Shift β, shape (n,)."""
        return self._bound(self._beta)

    @beta.setter
    def beta(self, value: Any) -> None:
        assign_parameter(self.beta, value, "beta")

    @property
    def dgamma(self) -> Array:
        """∂L/∂γ of the mean loss, from the last backward pass."""
        return self._bound(self._dgamma)

    @property
    def dbeta(self) -> Array:
        """∂L/∂β of the mean loss, from the last backward pass."""
        return self._bound(self._dbeta)

    # -- the two passes ---------------------------------------------------
    def _work_arrays(self, m: int, dtype: np.dtype[Any]) -> tuple[Array, Array, Array]:
        work = self._work.get(m)
        if work is None or work[0].dtype != dtype:
            if len(self._work) >= MAX_CACHED_BATCH_SIZES:
                self._work.pop(next(iter(self._work)))
            work = (np.empty((m, self.n_in), dtype), np.empty((m, self.n_in), dtype),
                    np.empty((m, self.n_in), dtype))
            self._work[m] = work
        return work

    def forward(self, a_prev: Array, training: bool = False) -> Array:
        """y = γ x̂ + β for a batch a_prev of shape (m, n): batch statistics in
        training (updating the running ones), running statistics otherwise."""
        gamma, beta = self.gamma, self.beta
        m = a_prev.shape[0]
        x_hat, y, _ = self._work_arrays(m, gamma.dtype)
        if training:
            if m < 2:
                raise OptionError(
                    "BatchNorm needs at least 2 samples per batch in training (the variance "
                    "of one sample is 0); use a batch_size > 1 and avoid a last batch of 1"
                )
            # μ_B and the biased σ²_B, per feature over the batch
            mean = a_prev.mean(axis=0)
            var = a_prev.var(axis=0)
            # running ← (1 − momentum) · running + momentum · batch statistic (σ² unbiased)
            self.running_mean *= 1.0 - self.momentum
            self.running_mean += self.momentum * mean
            self.running_var *= 1.0 - self.momentum
            self.running_var += (self.momentum * m / (m - 1)) * var
        else:
            mean, var = self.running_mean, self.running_var
        # 1 / √(σ² + ε)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        # x̂ = (x − μ) / √(σ² + ε)
        np.subtract(a_prev, mean, out=x_hat)
        x_hat *= inv_std
        # y = γ x̂ + β
        np.multiply(x_hat, gamma, out=y)
        y += beta
        self.x_hat, self.inv_std, self._last_training = x_hat, inv_std, training
        return y

    def backward(self, grad_a: Array) -> Array | None:
        """From ∂L/∂y, (m, n): fill dgamma, dbeta; return ∂L/∂x, (m, n).

        As everywhere in backprop, the rows of ``grad_a`` are per-sample
        gradients dy_i = ∂ℓ_i/∂y_i (m times the gradient of the mean loss),
        and the parameter gradients are of the mean loss L = (1/m) Σ_i ℓ_i.
        ``grad_a`` is not modified.
        """
        if self.x_hat is None or self.inv_std is None:
            raise RuntimeError("backward called before forward")
        x_hat, inv_std, dy = self.x_hat, self.inv_std, grad_a
        m = dy.shape[0]
        # Σ_i dy_i, per feature
        sum_dy = dy.sum(axis=0)
        # Σ_i dy_i ⊙ x̂_i, per feature
        sum_dy_xhat = np.einsum("ij,ij->j", dy, x_hat)
        # ∂L/∂β = (1/m) Σ_i dy_i
        np.multiply(sum_dy, 1.0 / m, out=self.dbeta)
        # ∂L/∂γ = (1/m) Σ_i dy_i ⊙ x̂_i
        np.multiply(sum_dy_xhat, 1.0 / m, out=self.dgamma)
        if not self.needs_input_gradient:
            return None
        _, _, dx = self._work_arrays(m, dy.dtype)
        if not self._last_training:
            # μ and σ² were constants (running statistics): dx = dy ⊙ γ / √(σ² + ε)
            return np.multiply(dy, self.gamma * inv_std, out=dx)
        # μ_B and σ²_B depend on every x_i of the batch, hence the two sums:
        # dx = (1/m) · γ/√(σ² + ε) · (m·dy − Σdy − x̂ ⊙ Σ(dy ⊙ x̂))
        # x̂ ⊙ Σ(dy ⊙ x̂): the part that flows through σ²_B
        np.multiply(x_hat, sum_dy_xhat, out=dx)
        # Σdy + x̂ ⊙ Σ(dy ⊙ x̂): adds the part that flows through μ_B
        dx += sum_dy
        # m·dy − Σdy − x̂ ⊙ Σ(dy ⊙ x̂): the direct path x_i → x̂_i minus both
        np.subtract(m * dy, dx, out=dx)
        # times (1/m) · γ/√(σ² + ε), per feature
        dx *= self.gamma * inv_std * (1.0 / m)
        return dx

    def reference_forward(self, a_prev: np.ndarray) -> tuple[np.ndarray, Saved]:
        """y = γ x̂ + β with the batch's own μ_B and σ²_B (as in training), in float64.

        The batch statistics couple the samples, so this works on the whole batch.
        """
        inv_std = 1.0 / np.sqrt(a_prev.var(axis=0) + self.eps)  # 1 / √(σ²_B + ε)
        x_hat = (a_prev - a_prev.mean(axis=0)) * inv_std
        gamma = np.array(self.gamma, dtype=np.float64)
        y = gamma * x_hat + np.array(self.beta, dtype=np.float64)
        return y, {"x_hat": x_hat, "inv_std": inv_std, "gamma": gamma}

    def reference_backward(self, grad_a: np.ndarray, saved: Saved,
                           rule: BackwardRule = RIGHT) -> ReferenceBackward:
        """From g_i = ∂ℓ_i/∂y_i: ∂L/∂β = mean_B(g), ∂L/∂γ = mean_B(g ⊙ x̂), and
        ∂ℓ_i/∂x_i = γ/√(σ²_B + ε) · (g_i − mean_B(g) − x̂_i · mean_B(g ⊙ x̂))."""
        g, x_hat, inv_std, gamma = grad_a, saved["x_hat"], saved["inv_std"], saved["gamma"]
        gradients = {"gamma": (g * x_hat).mean(axis=0), "beta": g.mean(axis=0)}
        if not self.needs_input_gradient:
            return ReferenceBackward(None, gradients)
        grad_input = gamma * inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
        return ReferenceBackward(grad_input, gradients)

    def config(self) -> dict[str, Any]:
        return {"kind": "BatchNorm", "n": self.n_in, "momentum": self.momentum, "eps": self.eps}

    def __repr__(self) -> str:
        return f"BatchNorm({self.n_in}, momentum={self.momentum:g}, eps={self.eps:g})"

    # -- forms in other runtimes ------------------------------------------
    def onnx_form(self, graph: OnnxGraph, x: str, name: str) -> str:
        """BatchNormalization: y = γ (x − μ) / √(σ² + ε) + β with the running statistics."""
        inputs = [x, graph.constant(f"{name}.gamma", self.gamma),
                  graph.constant(f"{name}.beta", self.beta),
                  graph.constant(f"{name}.running_mean", self.running_mean),
                  graph.constant(f"{name}.running_var", self.running_var)]
        return graph.node("BatchNormalization", inputs, f"{name}.a", epsilon=float(self.eps))

    def torch_form(self, torch: Any, dtype: Any) -> list[Any]:
        """``nn.BatchNorm1d(n, eps, momentum)`` with γ, β and the running statistics."""
        norm = torch.nn.BatchNorm1d(self.n_in, eps=self.eps, momentum=self.momentum, dtype=dtype)
        own = self.gamma.dtype
        with torch.no_grad():
            norm.weight.copy_(torch.from_numpy(self.gamma.copy()))
            norm.bias.copy_(torch.from_numpy(self.beta.copy()))
            norm.running_mean.copy_(torch.from_numpy(self.running_mean.astype(own)))
            norm.running_var.copy_(torch.from_numpy(self.running_var.astype(own)))
        return [norm]

    @classmethod
    def from_torch(cls, module: Any, n_in: int | None, torch: Any) -> Layer | None:
        if not isinstance(module, torch.nn.BatchNorm1d):
            return None
        if not module.track_running_stats or module.running_mean is None:
            raise OptionError("BatchNorm1d needs track_running_stats=True")
        if module.momentum is None:
            raise OptionError("BatchNorm1d with momentum=None is not supported")
        return cls(module.num_features, momentum=module.momentum, eps=module.eps)

    def load_torch(self, module: Any) -> None:
        if module.affine:
            self.gamma = module.weight.detach().cpu().numpy()
            self.beta = module.bias.detach().cpu().numpy()
        self.load_state_arrays({"running_mean": module.running_mean.detach().cpu().numpy(),
                                "running_var": module.running_var.detach().cpu().numpy()})

