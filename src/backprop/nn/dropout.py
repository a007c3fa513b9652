"""Dropout: inverted dropout, a = x ⊙ mask / (1 − rate) in training, a = x at predict time.

In training every unit of every sample is kept with probability 1 − rate
(mask ~ Bernoulli(1 − rate)) and the kept ones are scaled by 1 / (1 − rate),
so the expected value of each unit is the same as without dropout and
nothing needs rescaling at predict time ("inverted" dropout, as
torch.nn.Dropout does it).

The mask is drawn from the network's generator (``Network.rng``, the one
that shuffles), so a seed reproduces a run bit for bit. For gradient
checking the mask must stay fixed while the parameters are nudged:
``freeze_mask = True`` makes every training forward pass reuse the last
mask, and :func:`backprop.teaching.gradcheck` sets it on its own copy of the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from backprop._typing import Array
from backprop.errors import OptionError, OptionTypeError
from backprop.nn.layers import (
    MAX_CACHED_BATCH_SIZES,
    Layer,
    check_width,
)
from backprop.nn.reference_form import RIGHT, BackwardRule, ReferenceBackward, Saved

if TYPE_CHECKING:
    from backprop.export.onnx import OnnxGraph


class Dropout(Layer):
    """Inverted dropout on n units; no parameters.

    Arguments:
        n: units (the width of the layer below; n_in = n_out = n).
        rate: probability that a unit is dropped (zeroed), 0 ≤ rate < 1.

    Attributes:
        freeze_mask: when True, a training forward pass reuses the last mask
            (of the same batch size) instead of drawing a new one.
        mask: the last scaled mask, keep / (1 − rate), shape (m, n), or None.
    """

    def __init__(self, n: int, rate: float = 0.5) -> None:
        self.n_in = self.n_out = check_width("n", n)
        if isinstance(rate, bool) or not isinstance(rate, int | float | np.floating | np.integer):
            raise OptionTypeError(f"rate must be a number, got {rate!r}")
        if not 0.0 <= float(rate) < 1.0:
            raise OptionError(f"rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.freeze_mask = False
        self.mask: Array | None = None
        self._rng: np.random.Generator | None = None
        self._work: dict[int, tuple[Array, Array]] = {}
        self._last_training = False

    def set_rng(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def bind(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        self._work.clear()

    def _work_arrays(self, m: int, dtype: np.dtype[Any]) -> tuple[Array, Array]:
        """The output a and ∂L/∂a_prev, (m, n), allocated once per batch size."""
        work = self._work.get(m)
        if work is None or work[0].dtype != dtype:
            if len(self._work) >= MAX_CACHED_BATCH_SIZES:
                self._work.pop(next(iter(self._work)))
            work = (np.empty((m, self.n_out), dtype), np.empty((m, self.n_in), dtype))
            self._work[m] = work
        return work

    def forward(self, a_prev: Array, training: bool = False) -> Array:
        """x ⊙ mask / (1 − rate) in training; x itself (the same array) otherwise."""
        self._last_training = training
        if not training or self.rate == 0.0:
            return a_prev
        m = a_prev.shape[0]
        reuse = self.freeze_mask and self.mask is not None and self.mask.shape[0] == m
        if not reuse:
            if self._rng is None:
                raise RuntimeError("this Dropout layer is not part of a Network yet")
            # keep ~ Bernoulli(1 − rate); the mask holds keep / (1 − rate)
            keep = self._rng.random((m, self.n_in)) >= self.rate
            self.mask = keep.astype(a_prev.dtype)
            self.mask *= 1.0 / (1.0 - self.rate)
        assert self.mask is not None
        out, _ = self._work_arrays(m, a_prev.dtype)
        # a = x ⊙ mask / (1 − rate)
        return np.multiply(a_prev, self.mask, out=out)

    def backward(self, grad_a: Array) -> Array | None:
        """∂L/∂x = ∂L/∂a ⊙ mask / (1 − rate) (the identity when not training); no parameters."""
        if not self.needs_input_gradient:
            return None
        if not self._last_training or self.rate == 0.0:
            return grad_a
        if self.mask is None:
            raise RuntimeError("backward called before forward")
        _, grad_input = self._work_arrays(grad_a.shape[0], grad_a.dtype)
        return np.multiply(grad_a, self.mask, out=grad_input)

    def reference_forward(self, a_prev: np.ndarray) -> tuple[np.ndarray, Saved]:
        """x ⊙ mask / (1 − rate) with the current mask (the last training pass drew it)."""
        mask = (np.ones_like(a_prev) if self.mask is None or self.rate == 0.0
                else np.array(self.mask, dtype=np.float64))
        return a_prev * mask, {"mask": mask}  # the mask holds keep / (1 − rate)

    def reference_backward(self, grad_a: np.ndarray, saved: Saved,
                           rule: BackwardRule = RIGHT) -> ReferenceBackward:
        """∂ℓ_i/∂x_i = ∂ℓ_i/∂a_i ⊙ mask_i / (1 − rate)."""
        return ReferenceBackward(grad_a * saved["mask"] if self.needs_input_gradient else None, {})

    def config(self) -> dict[str, Any]:
        return {"kind": "Dropout", "n": self.n_in, "rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.n_in}, rate={self.rate:g})"

    # -- forms in other runtimes: inverted dropout changes nothing at predict time --
    def onnx_form(self, graph: OnnxGraph, x: str, name: str) -> str:
        return graph.node("Identity", [x], f"{name}.a")

    def torch_form(self, torch: Any, dtype: Any) -> list[Any]:
        return [torch.nn.Dropout(self.rate)]

    @classmethod
    def from_torch(cls, module: Any, n_in: int | None, torch: Any) -> Layer | None:
        if not isinstance(module, torch.nn.Dropout):
            return None
        if n_in is None:
            raise OptionError("Dropout cannot be the first module here")
        return cls(n_in, rate=float(module.p))

