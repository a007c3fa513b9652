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

#: How often (in steps) optimizers flush subnormal values out of their state.
FLUSH_EVERY = 64


def flush_subnormals(*moments: Array) -> None:
    """Set the entries of ``moments`` below the smallest normal number to 0.

    A moment whose gradient has become 0 (the weight of an input pixel that
    is almost always 0, a dead unit) decays geometrically into the
    subnormal range, where every arithmetic operation on it costs the CPU
    many times more. Such values (|x| < 1.2e-38 in float32) are far below
    anything that can move a weight, so they become exact zeros.
    """
    for moment in moments:
        tiny = np.finfo(moment.dtype).tiny
        np.copyto(moment, 0.0, where=np.abs(moment) < tiny)


class Optimizer:
    """Base class: holds the learning rate and the per-parameter state."""

    name = "optimizer"
    #: λ of L2 weight decay (each optimizer that supports it sets it).
    weight_decay = 0.0

    def __init__(self, lr: float) -> None:
        self.lr = check_positive_number(lr, "lr")
        #: The base learning rate of a schedule: ``lr`` when fit first used one (else None).
        self.initial_lr: float | None = None
        #: Number of steps taken so far.
        self.t = 0
        self._state: dict[str, Array] = {}
        self._scratch: dict[int, Array] = {}

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

    def _temp(self, like: Array, which: int = 0) -> Array:
        """Work buffer number ``which``, shaped like the parameters, allocated once."""
        scratch = self._scratch.get(which)
        if scratch is None or scratch.shape != like.shape or scratch.dtype != like.dtype:
            scratch = self._scratch[which] = np.empty_like(like)
        return scratch

    def _with_l2(self, params: Array, grads: Array) -> Array:
        """g + λ w (coupled L2 weight decay) in a work buffer, or g itself when λ = 0."""
        if not self.weight_decay:
            return grads
        g = np.multiply(params, self.weight_decay, out=self._temp(params, 1))
        g += grads  # g + λ w
        return g

    def _flushes(self) -> bool:
        """Whether this step flushes subnormals out of the state (:func:`flush_subnormals`)."""
        return self.t % FLUSH_EVERY == 0

    def step(self, params: Array, grads: Array) -> None:
        """Update ``params`` in place from ``grads`` (flat arrays of the same size)."""
        params -= self.update(params, grads)  # θ ← θ − Δθ

    def update(self, params: Array, grads: Array) -> Array:
        """Δθ of the next step (θ ← θ − Δθ), advancing the optimizer's state.

        ``params`` is only read: ``fit`` checks that Δθ is finite before it
        subtracts it. The returned array is a work buffer of the optimizer,
        overwritten by the next call.
        """
        self.t += 1
        return self._update(params, grads)

    def _update(self, params: Array, grads: Array) -> Array:
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

    def _update(self, params: Array, grads: Array) -> Array:
        step = self._temp(params)
        g = self._with_l2(params, grads)
        if self.momentum:
            buf = self._buffer("momentum_buffer", params)
            if self.t == 1:
                buf[...] = g
            else:
                buf *= self.momentum
                if self.dampening:
                    buf += np.multiply(g, 1.0 - self.dampening, out=step)
                else:
                    buf += g  # buf = μ buf + (1 − dampening) g
                if self._flushes():
                    flush_subnormals(buf)
            if self.nesterov:
                g = np.add(g, np.multiply(buf, self.momentum, out=step), out=step)  # g + μ buf
            else:
                g = buf
        return np.multiply(g, self.lr, out=step)  # Δw = η g

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

    def _update(self, params: Array, grads: Array) -> Array:
        v = self._buffer("square_avg", params)
        step = self._temp(params)
        g = self._with_l2(params, grads)
        np.multiply(g, g, out=step)
        step *= 1.0 - self.alpha
        v *= self.alpha
        v += step  # v = α v + (1 − α) g²
        np.sqrt(v, out=step)
        step += self.eps
        np.divide(g, step, out=step)  # g / (√v + ε)
        if self._flushes():
            flush_subnormals(v)
        if not self.momentum:
            step *= self.lr  # Δw = η g / (√v + ε)
            return step
        buf = self._buffer("momentum_buffer", params)
        buf *= self.momentum
        buf += step  # buf = μ buf + g / (√v + ε)
        if self._flushes():
            flush_subnormals(buf)
        return np.multiply(buf, self.lr, out=step)  # Δw = η buf

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
    #: AdamW: weight decay shrinks w directly instead of entering g.
    decoupled_decay = False

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

    def _update(self, params: Array, grads: Array) -> Array:
        beta1, beta2 = self.betas
        m = self._buffer("exp_avg", params)
        v = self._buffer("exp_avg_sq", params)
        step = self._temp(params)
        # η m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), in the order of
        # the paper's end of section 2 (one pass fewer, the same number):
        # α_t m / (√v + ε̂) with α_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ) and ε̂ = ε √(1 − β₂ᵗ).
        root_correction2 = math.sqrt(1.0 - beta2**self.t)
        alpha_t = self.lr * root_correction2 / (1.0 - beta1**self.t)
        eps_hat = self.eps * root_correction2
        g = grads if self.decoupled_decay else self._with_l2(params, grads)
        np.multiply(g, 1.0 - beta1, out=step)
        m *= beta1
        m += step  # m = β₁ m + (1 − β₁) g
        np.multiply(g, g, out=step)
        step *= 1.0 - beta2
        v *= beta2
        v += step  # v = β₂ v + (1 − β₂) g²
        if self._flushes():
            flush_subnormals(m, v)
        np.sqrt(v, out=step)
        step += eps_hat  # √v + ε̂
        np.divide(m, step, out=step)
        step *= alpha_t  # Δw = α_t m / (√v + ε̂)
        if self.weight_decay and self.decoupled_decay:
            # AdamW: w ← w (1 − η λ) − α_t m / (√v + ε̂), so Δw gains η λ w
            step += np.multiply(params, self.lr * self.weight_decay, out=self._temp(params, 1))
        return step

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
    decoupled_decay = True

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay)


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
