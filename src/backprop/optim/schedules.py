"""Learning-rate schedules: the learning rate as a function of the epoch.

A schedule is called as ``schedule(epoch, base_lr)`` and returns the
learning rate for that epoch. ``epoch`` counts completed epochs from 0
(PyTorch's ``last_epoch``), so the first epoch of a ``fit`` call trains
with ``schedule(0, base_lr)``. ``base_lr`` is the optimizer's learning
rate when it first met a schedule (kept as ``optimizer.initial_lr``, as
torch.optim keeps ``initial_lr`` in a parameter group), so a second ``fit``
call restarts the schedule from the same base lr.

    net.fit(X, y, epochs=30, optimizer=bp.SGD(lr=0.1),
            schedule=bp.LinearWarmup(5, bp.CosineAnnealing(T_max=25)))

Any callable ``(epoch: int, base_lr: float) -> float`` works as a schedule.
The formulas are the closed forms of PyTorch's StepLR, ExponentialLR and
CosineAnnealingLR.
"""

from __future__ import annotations

import math
from typing import Protocol

from backprop.errors import OptionError, OptionTypeError
from backprop.validation import check_non_negative_number, check_positive_int, check_positive_number


class ScheduleFunction(Protocol):
    """Anything that maps (epoch counted from 0, base learning rate) to a learning rate."""

    def __call__(self, epoch: int, base_lr: float) -> float: ...


class Schedule:
    """Base class of the built-in schedules."""

    def __call__(self, epoch: int, base_lr: float) -> float:
        if epoch < 0:
            raise OptionError(f"epoch must be ≥ 0, got {epoch}")
        return self.lr_at(epoch, base_lr)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """η_e = η₀ for every epoch."""

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return base_lr


class StepDecay(Schedule):
    """η_e = η₀ · γ^⌊e / step_size⌋ (torch.optim.lr_scheduler.StepLR).

    Arguments:
        step_size: epochs between two decays.
        gamma: factor applied at each decay (default 0.1).
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_positive_int(step_size, "step_size")
        self.gamma = check_positive_number(gamma, "gamma")

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """η_e = η₀ · γ^e (torch.optim.lr_scheduler.ExponentialLR)."""

    def __init__(self, gamma: float) -> None:
        self.gamma = check_positive_number(gamma, "gamma")

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealing(Schedule):
    """η_e = η_min + (η₀ − η_min)(1 + cos(π e / T_max)) / 2 (torch's CosineAnnealingLR).

    The learning rate falls from η₀ at e = 0 to η_min at e = T_max; past
    T_max the cosine carries on (rising again), as the closed form of
    PyTorch's scheduler does.
    """

    def __init__(self, T_max: int, eta_min: float = 0.0) -> None:  # PyTorch's names
        self.T_max = check_positive_int(T_max, "T_max")
        self.eta_min = check_non_negative_number(eta_min, "eta_min")

    def lr_at(self, epoch: int, base_lr: float) -> float:
        cosine = (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0
        return self.eta_min + (base_lr - self.eta_min) * cosine


class LinearWarmup(Schedule):
    """Linear warm-up, then another schedule.

    η_e = η₀ · (e + 1) / warmup_epochs for e < warmup_epochs (reaching η₀ at
    the last warm-up epoch), then η_e = after(e − warmup_epochs, η₀): the
    wrapped schedule starts from its own epoch 0 when the warm-up ends.

    Arguments:
        warmup_epochs: epochs of warm-up.
        after: the schedule that follows (default :class:`Constant`).
    """

    def __init__(self, warmup_epochs: int, after: ScheduleFunction | None = None) -> None:
        self.warmup_epochs = check_positive_int(warmup_epochs, "warmup_epochs")
        if after is not None and not callable(after):
            raise OptionTypeError(f"after must be a schedule, got {type(after).__name__}")
        self.after: ScheduleFunction = Constant() if after is None else after

    def lr_at(self, epoch: int, base_lr: float) -> float:
        if epoch < self.warmup_epochs:
            return base_lr * (epoch + 1) / self.warmup_epochs
        return self.after(epoch - self.warmup_epochs, base_lr)


def check_schedule(schedule: object) -> ScheduleFunction:
    """``schedule`` if it can be called as ``schedule(epoch, base_lr)``."""
    if not callable(schedule):
        raise OptionTypeError(
            f"schedule must be callable as schedule(epoch, base_lr), got {type(schedule).__name__}"
        )
    return schedule
