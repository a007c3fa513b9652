"""Optimizers: how a gradient g becomes a parameter update.

Each works on the network's two flat buffers at once (every parameter in
``params``, every gradient in ``grads``), so a step is a handful of
vectorized NumPy calls, whatever the number of layers. Names, arguments
and defaults follow ``torch.optim``; weight decay applies to every
parameter, biases included, as it does there.

An optimizer keeps its state (moments, step count) across ``fit`` calls:
``fit(epochs=2)`` then ``fit(epochs=1)`` equals ``fit(epochs=3)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._typing import Array
from .validation import check_non_negative_number, check_positive_number


class Optimizer:
    """Base class: holds the learning rate and the per-parameter state."""

    name = "optimizer"

    def __init__(self, lr: float) -> None:
        self.lr = check_positive_number(lr, "lr")
        #: The base learning rate of a schedule: ``lr`` when fit first used one (else None).
        self.initial_lr: float | None = None
        #: Number of steps taken so far.
        self.t = 0
        self._state: dict[str, Array] = {}
        self._scratch: Array | None = None

    def _buffer(self, name: str, like: Array) -> Array:
        """A state array shaped like the parameters, zero at first use."""
        array = self._state.get(name)
        if array is None:
            array = self._state[name] = np.zeros_like(like)
        elif array.shape != like.shape or array.dtype != like.dtype:
            raise ValueError(
                f"this {type(self).__name__} holds state for {array.size} {array.dtype} "
                f"parameters but got {like.size} {like.dtype}: use one optimizer per network"
            )
        return array

    def _temp(self, like: Array) -> Array:
        if self._scratch is None or self._scratch.shape != like.shape:
            self._scratch = np.empty_like(like)
        return self._scratch

    def step(self, params: Array, grads: Array) -> None:
        """Update ``params`` in place from ``grads`` (flat arrays of the same size)."""
        self.t += 1
        self._update(params, grads)

    def _update(self, params: Array, grads: Array) -> None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """Hyperparameters as JSON-ready data."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this optimizer stopped."""
        return {"config": self.config(), "t": self.t, "arrays": dict(self._state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t = int(state["t"])
        self._state = {name: np.array(array) for name, array in state["arrays"].items()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and Nesterov momentum.

    With g ← g + λ·w (weight decay) and buf ← μ·buf + (1 − dampening)·g
    (buf = g at the first step):
    plain: w ← w − η g;  momentum: w ← w − η buf;  Nesterov: w ← w − η (g + μ buf).
    """

    name = "sgd"

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr)
        self.momentum = check_non_negative_number(momentum, "momentum")
        self.dampening = check_non_negative_number(dampening, "dampening")
        self.nesterov = bool(nesterov)
        self.weight_decay = check_non_negative_number(weight_decay, "weight_decay")
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, params: Array, grads: Array) -> None:
        step = self._temp(params)
        g = grads
        if self.weight_decay:
            np.multiply(params, self.weight_decay, out=step)
            step += grads  # g + λ w
            g = step
        if self.momentum:
            buf = self._buffer("momentum_buffer", params)
            if self.t == 1:
                buf[...] = g
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * g  # buf = μ buf + (1 − dampening) g
            if self.nesterov:
                if g is not step:
                    step[...] = g
                step += self.momentum * buf  # g + μ buf
                g = step
            else:
                g = buf
        np.multiply(g, self.lr, out=step)
        params -= step  # w ← w − η g

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "lr": self.lr,
            "momentum": self.momentum,
            "dampening": self.dampening,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


class RMSProp(Optimizer):
    """v ← α v + (1 − α) g²;  w ← w − η g / (√v + ε)  (Hinton's lecture 6e; torch.optim.RMSprop).

    With momentum μ > 0: buf ← μ buf + g / (√v + ε);  w ← w − η buf.
    """

    name = "rmsprop"

    def __init__(
        self,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
    ) -> None:
        super().__init__(lr)
        self.alpha = check_non_negative_number(alpha, "alpha")
        if self.alpha >= 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        self.eps = check_positive_number(eps, "eps")
        self.weight_decay = check_non_negative_number(weight_decay, "weight_decay")
        self.momentum = check_non_negative_number(momentum, "momentum")

    def _update(self, params: Array, grads: Array) -> None:
        v = self._buffer("square_avg", params)
        step = self._temp(params)
        g = grads
        if self.weight_decay:
            g = grads + self.weight_decay * params
        np.multiply(g, g, out=step)
        step *= 1.0 - self.alpha
        v *= self.alpha
        v += step  # v = α v + (1 − α) g²
        np.sqrt(v, out=step)
        step += self.eps
        np.divide(g, step, out=step)  # g / (√v + ε)
        if self.momentum:
            buf = self._buffer("momentum_buffer", params)
            buf *= self.momentum
            buf += step
            np.multiply(buf, self.lr, out=step)
        else:
            step *= self.lr
        params -= step

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "lr": self.lr,
            "alpha": self.alpha,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "momentum": self.momentum,
        }


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), as torch.optim.Adam computes it.

    m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
    w ← w − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).
    ``weight_decay`` adds λ w to g first (L2 regularization, coupled).
    """

    name = "adam"

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr)
        beta1, beta2 = (check_non_negative_number(b, "betas") for b in betas)
        if beta1 >= 1 or beta2 >= 1:
            raise ValueError(f"betas must each be in [0, 1), got {betas}")
        self.betas = (beta1, beta2)
        self.eps = check_positive_number(eps, "eps")
        self.weight_decay = check_non_negative_number(weight_decay, "weight_decay")

    def _decay(self, params: Array, grads: Array) -> Array:
        """The gradient Adam's moments see: g, or g + λ w for coupled L2."""
        if not self.weight_decay:
            return grads
        return grads + self.weight_decay * params

    def _update(self, params: Array, grads: Array) -> None:
        beta1, beta2 = self.betas
        m = self._buffer("exp_avg", params)
        v = self._buffer("exp_avg_sq", params)
        step = self._temp(params)
        g = self._decay(params, grads)
        np.multiply(g, 1.0 - beta1, out=step)
        m *= beta1
        m += step  # m = β₁ m + (1 − β₁) g
        np.multiply(g, g, out=step)
        step *= 1.0 - beta2
        v *= beta2
        v += step  # v = β₂ v + (1 − β₂) g²
        bias_correction1 = 1.0 - beta1**self.t
        bias_correction2 = 1.0 - beta2**self.t
        np.sqrt(v, out=step)
        step *= 1.0 / math.sqrt(bias_correction2)
        step += self.eps  # √v̂ + ε
        np.divide(m, step, out=step)
        step *= self.lr / bias_correction1  # η m̂ / (√v̂ + ε)
        params -= step

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "lr": self.lr,
            "betas": list(self.betas),
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): w ← w (1 − η λ), then Adam."""

    name = "adamw"

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay)

    def _decay(self, params: Array, grads: Array) -> Array:
        params *= 1.0 - self.lr * self.weight_decay  # decoupled: shrink w, not g
        return grads


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


def get_optimizer(spec: str | Optimizer | dict[str, Any], **options: Any) -> Optimizer:
    """An optimizer from a name (with keyword options), a config dict, or an instance."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, dict):
        options = {**spec, **options}
        spec = str(options.pop("name", None))
    if not isinstance(spec, str):
        raise TypeError(f"optimizer must be a name or an Optimizer, got {type(spec).__name__}")
    if spec not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec!r}; valid: {', '.join(OPTIMIZERS)}")
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    return OPTIMIZERS[spec](**options)
