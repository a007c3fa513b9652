"""/regression in headless Chromium: what the page shows while it trains, diverges and scales."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")

READOUTS = ["reg-w", "reg-b", "reg-loss", "reg-step-count", "reg-closed-w", "reg-closed-b",
            "reg-lambda-max", "reg-condition", "reg-bound"]


def value(page: Any, testid: str) -> float:
    """A readout's full-precision number, from its data-value."""
    return float(page.get_by_test_id(testid).get_attribute("data-value"))


def set_number(page: Any, testid: str, number: float) -> None:
    field = page.get_by_test_id(testid)
    field.fill(repr(number))
    field.dispatch_event("change")


def wait_until(page: Any, condition: str, timeout: float = 20_000) -> None:
    page.wait_for_function(condition, timeout=timeout)


def settled(page: Any, expression: str, timeout: float = 20.0) -> Any:
    """The value of ``expression`` once two readings 0.3 s apart agree (messages in flight landed)."""
    deadline = time.monotonic() + timeout
    last = page.evaluate(expression)
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)
        now = page.evaluate(expression)
        if now == last:
            return now
        last = now
    raise AssertionError(f"{expression} kept changing for {timeout} s")


def value_js(testid: str) -> str:
    return f"Number(document.querySelector('[data-testid=\"{testid}\"]').dataset.value)"


def test_every_hook_is_there_with_its_number(lab_page: Callable[..., Any]) -> None:
    page = lab_page("regression")
    for testid in ["reg-play", "reg-pause", "reg-step", "reg-reset", "reg-lr", "reg-batch-mode",
                   "reg-scale", "reg-status", "reg-canvas", "reg-surface-canvas"]:
        assert page.get_by_test_id(testid).count() == 1, testid
    state = page.evaluate("() => window.backpropLab.state()")
    assert value(page, "reg-closed-w") == state["closed"]["w"]
    assert value(page, "reg-lambda-max") == state["stability"]["lambda_max"]
    assert value(page, "reg-loss") == state["model"]["loss"]
    for testid in READOUTS:
        assert math.isfinite(value(page, testid)), testid
        assert page.get_by_test_id(testid).inner_text().strip() not in ("", "—")


def test_play_reaches_least_squares_within_one_percent(lab_page: Callable[..., Any]) -> None:
    page = lab_page("regression")
    set_number(page, "reg-lr", 0.25)
    page.fill("#speed", "400")
    page.dispatch_event("#speed", "change")
    page.get_by_test_id("reg-play").click()
    wait_until(page, f"""() => {{
        const w = {value_js("reg-w")}, b = {value_js("reg-b")};
        const cw = {value_js("reg-closed-w")}, cb = {value_js("reg-closed-b")};
        return Math.abs(w - cw) <= 0.01 * Math.abs(cw) && Math.abs(b - cb) <= 0.01 * Math.abs(cb);
    }}""")
    page.get_by_test_id("reg-pause").click()
    w, b = value(page, "reg-w"), value(page, "reg-b")
    assert w == pytest.approx(value(page, "reg-closed-w"), rel=0.01)
    assert b == pytest.approx(value(page, "reg-closed-b"), rel=0.01)
    assert value(page, "reg-step-count") > 0


def test_lr_above_the_bound_pauses_once_the_loss_passes_ten_times_its_start(
    lab_page: Callable[..., Any], artifacts: Path,
) -> None:
    page = lab_page("regression")
    bound = value(page, "reg-bound")
    start = value(page, "reg-loss")
    rule = page.get_by_test_id("reg-divergence-rule").inner_text()
    assert "pauses as diverging once its loss L rises past 10 × its value at the start" in rule
    set_number(page, "reg-lr", 1.5 * bound)
    status = page.get_by_test_id("reg-status")
    wait_until(page, "() => document.querySelector('[data-testid=\"reg-status\"]')"
                     ".textContent.includes('diverg')")
    assert f"2/λ_max = {bound:.3g}" in status.inner_text()
    page.fill("#speed", "1000")
    page.dispatch_event("#speed", "change")
    page.get_by_test_id("reg-play").click()
    wait_until(page, "() => window.backpropLab.state().status.kind === 'diverged'")
    assert page.evaluate("() => window.backpropLab.state().playing") is False
    loss = value(page, "reg-loss")
    assert 10 * start < loss < 1000 * start  # paused at the threshold, not at 1e285
    assert "rose past 10 × its starting value" in status.inner_text()
    for testid in ["reg-w", "reg-b", "reg-loss"]:
        assert math.isfinite(value(page, testid)), testid
        assert "NaN" not in page.get_by_test_id(testid).inner_text()
    # the surface zoomed out to keep the whole path in view
    state = page.evaluate("() => window.backpropLab.state()")
    view = state["surface"]["view"]
    for _, w, b, _ in state["trace"]:
        assert view[0] <= w <= view[1] and view[2] <= b <= view[3]
    page.screenshot(path=str(artifacts / "regression-diverged.png"), full_page=True)


def test_the_momentum_bound_at_beta_0_9(lab_page: Callable[..., Any]) -> None:
    page = lab_page("regression")
    set_number(page, "reg-momentum", 0.9)
    wait_until(page, "() => window.backpropLab.state().stability.momentum === 0.9")
    lambda_max = value(page, "reg-lambda-max")
    assert value(page, "reg-bound") == pytest.approx(2 * (1 + 0.9) / lambda_max, rel=1e-15)
    assert page.get_by_test_id("reg-bound-label").inner_text() == "2(1+β)/λ_max"
    assert page.get_by_test_id("reg-half-label").inner_text() == "(1+√β)²/λ_max"
    # lr 0.5 is above 2/λ_max but below 2(1+β)/λ_max: judged converging, and it converges
    assert 2 / lambda_max < 0.5 < value(page, "reg-bound")
    set_number(page, "reg-lr", 0.5)
    wait_until(page, "() => window.backpropLab.state().settings.lr === 0.5")
    status = page.get_by_test_id("reg-status")
    assert status.get_attribute("data-kind") == "converging", status.inner_text()
    assert "diverg" not in status.inner_text()
    page.fill("#speed", "1000")
    page.dispatch_event("#speed", "change")
    page.get_by_test_id("reg-play").click()
    wait_until(page, f"""() => {{
        const w = {value_js("reg-w")}, cw = {value_js("reg-closed-w")};
        return Math.abs(w - cw) <= 1e-4 * Math.abs(cw);
    }}""")
    page.get_by_test_id("reg-pause").click()
    assert page.evaluate("() => window.backpropLab.state().status.kind") in ("converging",
                                                                             "converged")
    set_number(page, "reg-lr", 1.05 * value(page, "reg-bound"))
    wait_until(page, "() => window.backpropLab.state().status.kind === 'diverging'")
    assert "lr" in status.inner_text() and "2(1+β)/λ_max = 2(1 + 0.9)/λ_max" in status.inner_text()


def test_marks_are_labelled_lambda_max_is_said_and_minus_signs_are_real(
    lab_page: Callable[..., Any],
) -> None:
    page = lab_page("regression")
    assert page.get_by_test_id("reg-half-label").inner_text() == "1/λ_max"
    assert page.get_by_test_id("reg-bound-label").inner_text() == "2/λ_max"
    assert page.get_by_test_id("reg-half-label").is_visible()
    sentence = page.get_by_test_id("reg-lambda-text").inner_text()
    assert sentence.startswith("λ_max says how sharply the loss bowl curves")
    set_number(page, "reg-lr", 0.25)
    page.evaluate("() => window.backpropLab.send('step', {count: 1000})")
    wait_until(page, f"() => {value_js('reg-step-count')} === 1000")
    # the default data has b* = −1, and near θ* the gradients are written with exponents
    assert abs(value(page, "reg-grad-w")) < 1e-4
    text = page.locator("body").inner_text()
    assert "−" in text and "e−" in text
    hyphen = r"(?<![\w])-\d|\de-\d"  # a minus sign, or an exponent's, written as a hyphen
    assert re.search(hyphen, text) is None, re.findall(f".{{20}}(?:{hyphen}).{{10}}", text)
    set_number(page, "reg-momentum", 2)  # refused: the error reads as a sentence
    wait_until(page, "() => document.querySelector('#error').textContent !== ''")
    assert page.locator("#error").inner_text() == "“momentum” must be less than 1, not 2."


def test_scaling_changes_condition_number_and_bound(lab_page: Callable[..., Any]) -> None:
    page = lab_page("regression")
    kappa, bound = value(page, "reg-condition"), value(page, "reg-bound")
    page.get_by_test_id("reg-scale").check()
    wait_until(page, f"() => {value_js('reg-condition')} !== {kappa!r}")
    assert kappa > 10
    assert value(page, "reg-condition") == pytest.approx(1.0, abs=1e-9)
    assert value(page, "reg-bound") == pytest.approx(2.0, abs=1e-9)
    assert value(page, "reg-bound") != pytest.approx(bound)
    assert page.locator("[data-testid=reg-w-scaled]").is_visible()


def test_canvas_pixels_change_while_playing(
    lab_page: Callable[..., Any], artifacts: Path
) -> None:
    page = lab_page("regression")
    page.wait_for_timeout(300)
    pixels = "(id) => document.querySelector(`[data-testid=\"${id}\"]`).toDataURL()"
    before = [page.evaluate(pixels, id) for id in ("reg-canvas", "reg-surface-canvas")]
    page.get_by_test_id("reg-play").click()
    wait_until(page, f"() => {value_js('reg-step-count')} >= 40")
    page.wait_for_timeout(200)
    after = [page.evaluate(pixels, id) for id in ("reg-canvas", "reg-surface-canvas")]
    assert before[0] != after[0] and before[1] != after[1]
    page.get_by_test_id("reg-pause").click()
    page.screenshot(path=str(artifacts / "regression.png"), full_page=True)


def test_points_are_added_moved_and_removed_with_the_mouse(lab_page: Callable[..., Any]) -> None:
    page = lab_page("regression")
    count = "() => window.backpropLab.state().points.length"
    n = page.evaluate(count)
    canvas = page.get_by_test_id("reg-canvas")
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.9)
    wait_until(page, f"() => ({count})() === {n + 1}")
    added = page.evaluate("() => window.backpropLab.state().points.at(-1)")
    # the new point sits where the click was: to the right and low in the data's box
    view = page.evaluate("() => window.backpropLab.state().data_view")
    assert added[0] > (view[0] + view[1]) / 2 and added[1] < (view[2] + view[3]) / 2
    x, y = box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.9
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 60, y - 60, steps=5)
    page.mouse.up()
    wait_until(page, f"() => window.backpropLab.state().points.at(-1)[1] > {added[1]!r}")
    # every move of the drag has reached the server and come back before the next click
    moved = settled(page, "() => window.backpropLab.state().points.at(-1)")
    assert moved[0] < added[0]
    page.keyboard.down("Shift")
    page.mouse.click(x - 60, y - 60)
    page.keyboard.up("Shift")
    wait_until(page, f"() => ({count})() === {n}")


def test_batch_mode_and_reset_take_effect(lab_page: Callable[..., Any]) -> None:
    page = lab_page("regression")
    page.get_by_test_id("reg-batch-mode").select_option("online")
    wait_until(page, "() => window.backpropLab.state().settings.batch_mode === 'online'")
    page.get_by_test_id("reg-step").click()
    wait_until(page, f"() => {value_js('reg-step-count')} === 1")
    page.get_by_test_id("reg-reset").click()
    wait_until(page, f"() => {value_js('reg-step-count')} === 0")
    assert value(page, "reg-w") == 0.0 and value(page, "reg-b") == 0.0
