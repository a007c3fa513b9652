"""Optimizers: how a gradient g becomes a parameter update.

Each works on the network's two flat buffers at once (every parameter in
``params``, every gradient in ``grads``), so a step is a handful of
vectorized NumPy calls, whatever the number of layers. Names, arguments
and defaults follow ``torch.optim``; weight decay applies to every
parameter, biases included, as it does there. The blocks a step walks, and
the state every optimizer keeps, are :mod:`backprop.optim.base`'s.

An optimizer keeps its state (moments, step count) across ``fit`` calls:
``fit(epochs=2)`` then ``fit(epochs=1)`` equals ``fit(epochs=3)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backprop.errors import OptionError, OptionTypeError
from backprop.optim.base import BLOCK_SIZE, FLUSH_EVERY, Block, Optimizer, flush_subnormals
from backprop.optim.compiled import constants, kernel
from backprop.validation import check_non_negative_number, check_positive_number

__all__ = [
    "BLOCK_SIZE",
    "FLUSH_EVERY",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "Block",
    "Optimizer",
    "RMSProp",
    "flush_subnormals",
    "get_optimizer",
]


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
            raise OptionError("nesterov momentum needs momentum > 0 and dampening = 0")

    def _state_names(self) -> tuple[str, ...]:
        return ("momentum_buffer",) if self.momentum else ()

    def _update(self, block: Block) -> None:
        step = block.step
        g = self._with_l2(block)
        if self.momentum:
            buf = block.state["momentum_buffer"]
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
        np.multiply(g, self.lr, out=step)  # Δw = η g

    def _compiled_update(self, block: Block) -> bool:
        c = constants(
            block.params.dtype, (self.lr, self.weight_decay, self.momentum, 1.0 - self.dampening)
        )
        switches = (
            bool(self.weight_decay), bool(self.momentum), self.t == 1,
            bool(self.dampening), self.nesterov, self._flushes(),
        )
        buf = block.state.get("momentum_buffer", block.step)  # no momentum: never read
        return kernel("sgd")(block.params, block.grads, buf, block.step, c, *switches, block.apply)

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
            raise OptionError(f"alpha must be in [0, 1), got {alpha}")
        self.eps = check_positive_number(eps, "eps")
        self.weight_decay = check_non_negative_number(weight_decay, "weight_decay")
        self.momentum = check_non_negative_number(momentum, "momentum")

    def _state_names(self) -> tuple[str, ...]:
        return ("square_avg", "momentum_buffer") if self.momentum else ("square_avg",)

    def _update(self, block: Block) -> None:
        v, step = block.state["square_avg"], block.step
        g = self._with_l2(block)
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
            return
        buf = block.state["momentum_buffer"]
        buf *= self.momentum
        buf += step  # buf = μ buf + g / (√v + ε)
        if self._flushes():
            flush_subnormals(buf)
        np.multiply(buf, self.lr, out=step)  # Δw = η buf

    def _compiled_update(self, block: Block) -> bool:
        c = constants(
            block.params.dtype,
            (self.lr, self.weight_decay, self.alpha, 1.0 - self.alpha, self.eps, self.momentum),
        )
        switches = (bool(self.weight_decay), bool(self.momentum), self._flushes())
        v = block.state["square_avg"]
        buf = block.state.get("momentum_buffer", block.step)  # no momentum: never read
        return kernel("rmsprop")(block.params, block.grads, v, buf, block.step, c, *switches,
                                 block.apply)

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
            raise OptionError(f"betas must each be in [0, 1), got {betas}")
        self.betas = (beta1, beta2)
        self.eps = check_positive_number(eps, "eps")
        self.weight_decay = check_non_negative_number(weight_decay, "weight_decay")
        self._alpha_t = self._eps_hat = 0.0  # of the current step: see _begin_step

    def _state_names(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def _begin_step(self) -> None:
        # η m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), in the order of
        # the paper's end of section 2 (one pass fewer, the same number):
        # α_t m / (√v + ε̂) with α_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ) and ε̂ = ε √(1 − β₂ᵗ).
        beta1, beta2 = self.betas
        root_correction2 = math.sqrt(1.0 - beta2**self.t)
        self._alpha_t = self.lr * root_correction2 / (1.0 - beta1**self.t)
        self._eps_hat = self.eps * root_correction2

    def _update(self, block: Block) -> None:
        beta1, beta2 = self.betas
        m, v, step = block.state["exp_avg"], block.state["exp_avg_sq"], block.step
        g = block.grads if self.decoupled_decay else self._with_l2(block)
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
        step += self._eps_hat  # √v + ε̂
        np.divide(m, step, out=step)
        step *= self._alpha_t  # Δw = α_t m / (√v + ε̂)
        if self.weight_decay and self.decoupled_decay:
            # AdamW: w ← w (1 − η λ) − α_t m / (√v + ε̂), so Δw gains η λ w
            step += np.multiply(block.params, self.lr * self.weight_decay, out=block.scratch)

    def _compiled_update(self, block: Block) -> bool:
        beta1, beta2 = self.betas
        decoupled, decays = self.decoupled_decay, bool(self.weight_decay)
        c = constants(
            block.params.dtype,
            (
                beta1, 1.0 - beta1, beta2, 1.0 - beta2, self._eps_hat, self._alpha_t,
                0.0 if decoupled else self.weight_decay,  # λ of coupled L2
                self.lr * self.weight_decay if decoupled else 0.0,  # η λ of decoupled decay
            ),
        )
        switches = (decays and not decoupled, decays and decoupled, self._flushes())
        m, v = block.state["exp_avg"], block.state["exp_avg_sq"]
        return kernel("adam")(block.params, block.grads, m, v, block.step, c, *switches,
                              block.apply)

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
        raise OptionTypeError(
            f"optimizer must be a name or an Optimizer, got {type(spec).__name__}"
        )
    if spec not in OPTIMIZERS:
        raise OptionError(f"unknown optimizer {spec!r}; valid: {', '.join(OPTIMIZERS)}")
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    return OPTIMIZERS[spec](**options)
