"""OptimizerSpec: an optimizer described, its hyperparameters those its class takes."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backprop.errors import OptionError, OptionTypeError
from backprop.optim.base import Optimizer
from backprop.optim.rules import OPTIMIZERS
from backprop.spec.checks import flag, naming, set_field, unit_interval
from backprop.validation import check_non_negative_number, check_positive_number


def _betas(value: object, field: str) -> tuple[float, float]:
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise OptionTypeError(f"{field} must be a pair of numbers (β₁, β₂), got {value!r}")
    first, second = (unit_interval(beta, field) for beta in value)
    return first, second


#: The hyperparameters an OptimizerSpec may carry, each with its check (the one the
#: optimizers apply to their own arguments); an optimizer takes those its class's
#: constructor names.
_HYPERPARAMETERS: dict[str, Any] = {
    "lr": check_positive_number,
    "momentum": check_non_negative_number,
    "dampening": check_non_negative_number,
    "nesterov": flag,
    "weight_decay": check_non_negative_number,
    "betas": _betas,
    "eps": check_positive_number,
    "alpha": unit_interval,
}


def _takes(kind: type[Optimizer]) -> dict[str, Any]:
    """The keyword arguments an optimizer class takes, with their defaults."""
    parameters = inspect.signature(kind.__init__).parameters
    return {name: p.default for name, p in parameters.items()
            if name != "self" and p.default is not inspect.Parameter.empty}


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer, described; :func:`build_optimizer` makes it.

    Arguments (the names and defaults of ``torch.optim``, as the optimizers take them):
        name: a name from :data:`backprop.optim.rules.OPTIMIZERS` (sgd, rmsprop, adam, adamw).
        lr: the learning rate η.
        momentum: μ (sgd, rmsprop).
        dampening: sgd's dampening of the momentum buffer.
        nesterov: Nesterov momentum (sgd; needs momentum > 0 and dampening 0).
        weight_decay: λ (every optimizer; adamw's is decoupled).
        betas: (β₁, β₂) of adam and adamw.
        eps: ε of rmsprop, adam and adamw.
        alpha: α, rmsprop's smoothing constant.
        compiled_step: the update as one compiled pass (the numba extra); the same numbers.

    A hyperparameter left None takes the optimizer's own default; one that the
    optimizer does not take must stay None (an OptionError names it otherwise).
    """

    name: str = "sgd"
    lr: float | None = None
    momentum: float | None = None
    dampening: float | None = None
    nesterov: bool | None = None
    weight_decay: float | None = None
    betas: tuple[float, float] | None = None
    eps: float | None = None
    alpha: float | None = None
    compiled_step: bool = False

    def __post_init__(self) -> None:
        with naming("name"):
            if not isinstance(self.name, str):
                raise OptionTypeError(f"optimizer must be a name, got {self.name!r}")
            if self.name not in OPTIMIZERS:
                raise OptionError(f"unknown optimizer {self.name!r}; valid: "
                                  f"{', '.join(OPTIMIZERS)}")
        takes = _takes(OPTIMIZERS[self.name])
        for field, check in _HYPERPARAMETERS.items():
            value = getattr(self, field)
            with naming(field):
                if value is None:
                    value = takes.get(field)
                    if value is None:
                        continue
                elif field not in takes:
                    users = [n for n, kind in OPTIMIZERS.items() if field in _takes(kind)]
                    raise OptionError(f"{field} applies to {', '.join(users)}, not {self.name} "
                                      f"(got {value!r})")
                set_field(self, field, check(value, field))
        with naming("compiled_step"):
            flag(self.compiled_step, "compiled_step")
        with naming("nesterov"):
            if self.nesterov and (not self.momentum or self.dampening):
                raise OptionError(f"nesterov momentum needs momentum > 0 and dampening = 0, "
                                  f"got momentum {self.momentum!r} and dampening "
                                  f"{self.dampening!r}")

    def hyperparameters(self) -> dict[str, Any]:
        """The keyword arguments of the optimizer's class (every one it takes, set)."""
        return {field: getattr(self, field) for field in _HYPERPARAMETERS
                if getattr(self, field) is not None}

    def config(self) -> dict[str, Any]:
        """The spec as JSON values: ``OptimizerSpec(**spec.config()) == spec``."""
        config: dict[str, Any] = {"name": self.name}
        for field, value in self.hyperparameters().items():
            config[field] = list(value) if isinstance(value, tuple) else value
        if self.compiled_step:
            config["compiled_step"] = True
        return config
