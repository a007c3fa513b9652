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
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._typing import Array
from .errors import OptionError, OptionTypeError
from .validation import check_non_negative_number, check_positive_number

#: How often (in steps) optimizers flush subnormal values out of their state.
FLUSH_EVERY = 64

#: Parameters per block of a step. An update makes about ten passes over its
#: arrays; done block by block, a block's parameters, gradients, moments and
#: Δθ (≈ 3 MB in float32) stay in the CPU's cache between passes instead of
#: coming from main memory each time, which is what large networks need.
BLOCK_SIZE = 1 << 17


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


@dataclass
class Block:
    """One block of the flat buffers: what an optimizer's update works on.

    ``step`` receives Δθ; ``scratch`` is a work array of the same size;
    ``state`` holds the block's part of each state array (moments).
    """

    params: Array
    grads: Array
    step: Array
    scratch: Array
    state: dict[str, Array]


class Optimizer:
    """Base class: holds the learning rate and the per-parameter state.

    A subclass names its state arrays (:meth:`_state_names`) and computes Δθ
    for one :class:`Block` of the flat buffers (:meth:`_update`); the base
    class walks the blocks.
    """

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
        self._step: Array | None = None
        self._scratch: Array | None = None

    def _state_names(self) -> tuple[str, ...]:
        """The state arrays this optimizer keeps, each shaped like the parameters."""
        return ()

    def _buffer(self, name: str, like: Array) -> Array:
        """A state array shaped like the parameters, zero at first use."""
        array = self._state.get(name)
        if array is None:
            array = self._state[name] = np.zeros_like(like)
        elif array.shape != like.shape or array.dtype != like.dtype:
            raise OptionError(
                f"this {type(self).__name__} holds state for {array.size} {array.dtype} "
                f"parameters but got {like.size} {like.dtype}: use one optimizer per network"
            )
        return array

    def _work_arrays(self, like: Array) -> tuple[Array, Array]:
        """Δθ, shaped like the parameters, and one block of scratch, allocated once."""
        if self._step is None or self._step.shape != like.shape or self._step.dtype != like.dtype:
            self._step = np.empty_like(like)
            self._scratch = np.empty(min(like.size, BLOCK_SIZE), like.dtype)
        assert self._scratch is not None
        return self._step, self._scratch

    def _with_l2(self, block: Block) -> Array:
        """g + λ w (coupled L2 weight decay) in the block's scratch, or g itself when λ = 0."""
        if not self.weight_decay:
            return block.grads
        g = np.multiply(block.params, self.weight_decay, out=block.scratch)
        g += block.grads  # g + λ w
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
        if params.shape != grads.shape:
            raise OptionError(
                f"params and grads must have the same shape, got {params.shape} and {grads.shape}"
            )
        shape = params.shape
        params, grads = params.reshape(-1), grads.reshape(-1)  # blocks walk one flat axis
        self.t += 1
        state = {name: self._buffer(name, params) for name in self._state_names()}
        step, scratch = self._work_arrays(params)
        self._begin_step()
        for start in range(0, params.size, BLOCK_SIZE):
            rows = slice(start, start + BLOCK_SIZE)
            block = Block(
                params[rows],
                grads[rows],
                step[rows],
                scratch[: min(BLOCK_SIZE, params.size - start)],
                {name: array[rows] for name, array in state.items()},
            )
            self._update(block)
        return step.reshape(shape)

    def _begin_step(self) -> None:
        """Compute what every block of step t shares (Adam's bias corrections)."""

    def _update(self, block: Block) -> None:
        """Write Δθ of ``block`` into ``block.step``, updating its state."""
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
