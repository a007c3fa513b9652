"""The optimizers' common part: state arrays, and a step walked block by block.

An optimizer works on the network's two flat buffers at once (every
parameter in ``params``, every gradient in ``grads``). :class:`Optimizer`
cuts them into blocks that fit in the CPU's cache and hands each
:class:`Block` to the rule's ``_update`` (the rules are in
:mod:`backprop.optim.rules`), or, with ``compiled_step`` set, to its one
compiled pass (:mod:`backprop.optim.compiled`), with the same result to the
last bit. That pass can also take the step itself (:meth:`Optimizer.fused_step`):
θ ← θ − Δθ and its finiteness check in the same pass over memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError
from backprop.validation import check_positive_number

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
    ``state`` holds the block's part of each state array (moments). With ``apply``
    (compiled passes only), the pass writes θ − Δθ into ``params`` and the θ it
    replaces into ``step``.
    """

    params: Array
    grads: Array
    step: Array
    scratch: Array
    state: dict[str, Array]
    apply: bool = False


class Optimizer:
    """Base class: holds the learning rate and the per-parameter state.

    A subclass names its state arrays (:meth:`_state_names`) and computes Δθ
    for one :class:`Block` of the flat buffers (:meth:`_update`); the base
    class walks the blocks.
    """

    name = "optimizer"
    #: λ of L2 weight decay (each optimizer that supports it sets it).
    weight_decay = 0.0
    #: Compute each block's Δθ in one compiled pass (numba; :mod:`backprop.optim.compiled`)
    #: instead of the rule's NumPy passes, and take the step in that pass too
    #: (:meth:`fused_step`): the same numbers, to the last bit. Off by default; the compiled
    #: path (``Network(compiled=True)``) uses the pass whenever the rule has one.
    compiled_step = False

    def __init__(self, lr: float) -> None:
        self.lr = check_positive_number(lr, "lr")
        #: The base learning rate of a schedule: ``lr`` when fit first used one (else None).
        self.initial_lr: float | None = None
        #: Number of steps taken so far.
        self.t = 0
        self._state: dict[str, Array] = {}
        self._step: Array | None = None
        self._scratch: Array | None = None
        self._finite = True  # of the last fused step

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
        block = min(like.size, BLOCK_SIZE)
        scratch = self._scratch
        if scratch is None or scratch.shape != (block,) or scratch.dtype != like.dtype:
            self._scratch = scratch = np.empty(block, like.dtype)
        return self._step, scratch

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

    @property
    def has_compiled_step(self) -> bool:
        """Whether this rule has a compiled pass (:meth:`_compiled_update`); a user's rule
        without one runs its NumPy passes on the compiled path."""
        return type(self)._compiled_update is not Optimizer._compiled_update

    def step(self, params: Array, grads: Array) -> None:
        """Update ``params`` in place from ``grads`` (flat arrays of the same size)."""
        if self.compiled_step:
            self.fused_step(params, grads)  # the same θ − Δθ, in the pass that computes Δθ
            return
        params -= self.update(params, grads)  # θ ← θ − Δθ

    def update(self, params: Array, grads: Array) -> Array:
        """Δθ of the next step (θ ← θ − Δθ), advancing the optimizer's state.

        ``params`` is only read: ``fit`` checks that Δθ is finite before it
        subtracts it. The returned array is a work buffer of the optimizer,
        overwritten by the next call.
        """
        update_block = self._compiled_update if self.compiled_step else self._update
        return self._walk(params, grads, update_block, apply=False)

    def fused_step(self, params: Array, grads: Array) -> bool:
        """θ ← θ − Δθ in place, in the compiled pass that computes Δθ; whether every new θ
        is finite.

        Each θ_i is replaced by the same number as ``params -= update(params, grads)``
        gives, and the θ it replaces is kept in :attr:`previous_params` until the next
        step, so that a caller can take back a step that made a weight non-finite
        (``fit`` does: the weights stay at their last finite values). One pass over
        memory instead of the update's, the subtraction's and the check's.
        """
        self._walk(params, grads, self._compiled_update, apply=True)
        return self._finite

    def prepare_compiled(self, dtype: np.dtype[Any]) -> None:
        """Compile this rule's pass for ``dtype`` now (or load it from numba's cache) rather
        than in the first step; nothing for a rule without one. The optimizer is unchanged."""
        if self.has_compiled_step:
            state = {name: np.zeros(1, dtype) for name in self._state_names()}
            params, grads, step, scratch = (np.zeros(1, dtype) for _ in range(4))
            self._compiled_update(Block(params, grads, step, scratch, state, apply=True))

    @property
    def previous_params(self) -> Array:
        """θ before the last :meth:`fused_step` (flat), until the next step."""
        if self._step is None:
            raise RuntimeError("no step taken yet")
        return self._step

    def _walk(self, params: Array, grads: Array, update_block: Callable[[Block], bool | None],
              apply: bool) -> Array:
        """Step t + 1 block by block: ``update_block`` on each; returns the step buffer."""
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
        self._finite = True
        for start in range(0, params.size, BLOCK_SIZE):
            rows = slice(start, start + BLOCK_SIZE)
            block = Block(
                params[rows],
                grads[rows],
                step[rows],
                scratch[: min(BLOCK_SIZE, params.size - start)],
                {name: array[rows] for name, array in state.items()},
                apply,
            )
            if update_block(block) is False:
                self._finite = False
        return step.reshape(shape)

    def _begin_step(self) -> None:
        """Compute what every block of step t shares (Adam's bias corrections)."""

    def _update(self, block: Block) -> None:
        """Write Δθ of ``block`` into ``block.step``, updating its state."""
        raise NotImplementedError

    def _compiled_update(self, block: Block) -> bool:
        """What :meth:`_update` computes, in one compiled pass over the block; with
        ``block.apply``, the step taken too (see :class:`Block`). Returns whether every
        new θ of the block is finite (True without ``apply``)."""
        raise OptionError(f"{type(self).__name__} has no compiled step: set compiled_step = False")

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


