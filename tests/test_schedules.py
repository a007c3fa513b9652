"""Learning-rate schedules: closed-form formulas, torch.optim.lr_scheduler, and fit."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop as bp

BASE = 0.1
EPOCHS = 25


def closed_form(name: str, e: int) -> float:
    """The formulas of PyTorch's documentation, written out here independently."""
    if name == "constant":
        return BASE
    if name == "step":  # StepLR(step_size=3, gamma=0.5)
        return BASE * 0.5 ** (e // 3)
    if name == "exponential":  # ExponentialLR(gamma=0.9)
        return BASE * 0.9**e
    if name == "cosine":  # CosineAnnealingLR(T_max=10, eta_min=0.001)
        return 0.001 + (BASE - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2
    raise AssertionError(name)


SCHEDULES: dict[str, Callable[[], bp.schedules.Schedule]] = {
    "constant": bp.Constant,
    "step": lambda: bp.StepDecay(step_size=3, gamma=0.5),
    "exponential": lambda: bp.ExponentialDecay(gamma=0.9),
    "cosine": lambda: bp.CosineAnnealing(T_max=10, eta_min=0.001),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedules_follow_the_closed_form(name: str) -> None:
    schedule = SCHEDULES[name]()
    for e in range(EPOCHS):
        assert schedule(e, BASE) == pytest.approx(closed_form(name, e), rel=1e-15, abs=1e-18)


TORCH: dict[str, tuple[str, dict[str, Any]]] = {
    "step": ("StepLR", {"step_size": 3, "gamma": 0.5}),
    "exponential": ("ExponentialLR", {"gamma": 0.9}),
    "cosine": ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
}


@pytest.mark.parametrize("name", list(TORCH))
def test_schedules_match_torch_lr_scheduler(name: str) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: lr_scheduler comparison skipped")
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=BASE)
    cls, kwargs = TORCH[name]
    scheduler = getattr(torch.optim.lr_scheduler, cls)(opt, **kwargs)
    schedule = SCHEDULES[name]()
    for e in range(EPOCHS):  # past T_max too: the cosine rises again in both
        assert schedule(e, BASE) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-15), e
        opt.step()
        scheduler.step()


def test_linear_warmup_then_the_wrapped_schedule() -> None:
    schedule = bp.LinearWarmup(4, bp.StepDecay(step_size=2, gamma=0.5))
    got = [schedule(e, 0.2) for e in range(9)]
    expected = [0.05, 0.1, 0.15, 0.2, 0.2, 0.2, 0.1, 0.1, 0.05]
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    plain = bp.LinearWarmup(2)
    assert [plain(e, 1.0) for e in range(4)] == [0.5, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(("make", "message"), [
    (lambda: bp.StepDecay(0), "step_size must be a positive integer"),
    (lambda: bp.StepDecay(2, gamma=0), "gamma must be a finite number > 0"),
    (lambda: bp.ExponentialDecay(-0.5), "gamma must be a finite number > 0"),
    (lambda: bp.CosineAnnealing(0), "T_max must be a positive integer"),
    (lambda: bp.CosineAnnealing(5, eta_min=-1.0), "eta_min must be a finite number ≥ 0"),
    (lambda: bp.LinearWarmup(0), "warmup_epochs must be a positive integer"),
])
def test_bad_schedule_arguments(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3


def line_net() -> bp.Network:
    return bp.Network([bp.Dense(3, 1)], loss="mse", seed=0, dtype="float64")


def test_fit_sets_the_lr_at_the_start_of_every_epoch_and_records_it() -> None:
    X, y = data()
    schedule = bp.LinearWarmup(2, bp.CosineAnnealing(T_max=4))
    seen: list[float] = []

    class Spy(bp.Callback):
        def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
            seen.append(state.optimizer.lr)

    opt = bp.SGD(lr=0.05, momentum=0.9)
    history = line_net().fit(X, y, epochs=6, batch_size=20, optimizer=opt, schedule=schedule, callbacks=[Spy()])
    expected = [schedule(e, 0.05) for e in range(6)]
    np.testing.assert_allclose(history["lr"], expected, rtol=1e-15)
    np.testing.assert_allclose(seen, np.repeat(expected, 2), rtol=1e-15)  # two batches an epoch
    assert opt.initial_lr == 0.05


def test_a_scheduled_fit_equals_manual_lr_changes() -> None:
    X, y = data()
    schedule = bp.StepDecay(step_size=2, gamma=0.3)
    scheduled = line_net()
    scheduled.fit(X, y, epochs=5, batch_size=8, optimizer=bp.Adam(lr=0.02), schedule=schedule)
    manual, opt = line_net(), bp.Adam(lr=0.02)
    for e in range(5):
        opt.lr = schedule(e, 0.02)
        manual.fit(X, y, epochs=1, batch_size=8, optimizer=opt)
    np.testing.assert_array_equal(scheduled.params, manual.params)


def test_a_second_fit_restarts_the_schedule_from_the_same_base_lr() -> None:
    X, y = data()
    opt = bp.SGD(lr=0.1)
    net = line_net()
    net.fit(X, y, epochs=3, optimizer=opt, schedule=bp.ExponentialDecay(0.5))
    history = net.fit(X, y, epochs=2, optimizer=opt, schedule=bp.ExponentialDecay(0.5))
    assert history["lr"] == [0.1, 0.05]


def test_a_plain_function_is_a_schedule_and_a_non_callable_is_refused() -> None:
    X, y = data()
    history = line_net().fit(X, y, epochs=3, lr=0.1, schedule=lambda e, base: base / (e + 1))
    np.testing.assert_allclose(history["lr"], [0.1, 0.05, 0.1 / 3], rtol=1e-15)
    with pytest.raises(TypeError, match="schedule must be callable"):
        line_net().fit(X, y, schedule=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scheduled lr must be a finite number ≥ 0"):
        line_net().fit(X, y, schedule=lambda e, base: -1.0)
