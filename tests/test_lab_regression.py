"""/regression's logic without a server: the exact picture, the engine's steps, the edits."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

pytest.importorskip("pydantic", reason="the lab needs the extra backprop-mlp[lab]")

from backprop.lab.protocol import FieldError, Play
from backprop.lab.regression import math as rm
from backprop.lab.regression import page as regression_page
from backprop.lab.regression.page import DIVERGENCE_FACTOR, MAX_TRACE, RegressionPage
from backprop.lab.regression.protocol import (
    AddPoint,
    Generate,
    LoadCsv,
    MovePoint,
    RemovePoint,
    Reset,
    SetStart,
    Settings,
    Step,
)
from backprop.lab.regression.text import number, operand


def page_with(**settings: object) -> RegressionPage:
    page = RegressionPage()
    page.handle(Settings(type="set", **settings))  # type: ignore[arg-type]
    return page


def distance(page: RegressionPage) -> float:
    assert page.closed is not None
    return math.hypot(page.params[0] - page.closed[0], page.params[1] - page.closed[1])


def test_least_squares_matches_numpy_polyfit() -> None:
    page = RegressionPage()
    x, y = page.points[:, 0], page.points[:, 1]
    w, b = rm.least_squares(x, y)
    assert (w, b) == pytest.approx(tuple(np.polyfit(x, y, 1)), rel=1e-12)


def test_hessian_is_the_second_derivative_of_the_loss() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(2, 1.5, 30), rng.normal(0, 1, 30)
    h = 1e-3  # L is quadratic: central second differences are exact up to rounding
    w, b = 0.3, -0.2
    L = lambda dw, db: rm.loss_at(x, y, w + dw, b + db)  # noqa: E731
    second = np.array([
        [(L(h, 0) - 2 * L(0, 0) + L(-h, 0)) / h**2,
         (L(h, h) - L(h, -h) - L(-h, h) + L(-h, -h)) / (4 * h**2)],
        [0.0, (L(0, h) - 2 * L(0, 0) + L(0, -h)) / h**2],
    ])
    second[1, 0] = second[0, 1]
    np.testing.assert_allclose(rm.hessian(x), second, rtol=1e-5)


def test_the_engine_gradient_is_the_mean_of_delta_times_x_and_matches_differences() -> None:
    page = RegressionPage()
    page.handle(SetStart(type="set_start", w=0.7, b=0.4))
    e = page.current
    assert e is not None
    x, y = page.x, page.y
    delta = 0.7 * x + 0.4 - y
    assert e.grad_w == pytest.approx(np.mean(delta * x), rel=1e-12)
    assert e.grad_b == pytest.approx(np.mean(delta), rel=1e-12)
    h = 1e-6
    numeric_w = (rm.loss_at(x, y, 0.7 + h, 0.4) - rm.loss_at(x, y, 0.7 - h, 0.4)) / (2 * h)
    numeric_b = (rm.loss_at(x, y, 0.7, 0.4 + h) - rm.loss_at(x, y, 0.7, 0.4 - h)) / (2 * h)
    assert e.grad_w == pytest.approx(numeric_w, rel=1e-7)
    assert e.grad_b == pytest.approx(numeric_b, rel=1e-7)
    assert e.loss == pytest.approx(rm.loss_at(x, y, 0.7, 0.4), rel=1e-12)


def test_full_batch_descent_reaches_least_squares_below_the_bound() -> None:
    page = RegressionPage()
    assert page.stability is not None
    page.handle(Settings(type="set", lr=0.9 * page.stability.bound))
    page.handle(Step(type="step", count=1000))
    assert page.closed is not None
    assert page.params == pytest.approx(page.closed, rel=1e-6)
    losses = [entry[3] for entry in page.trace]
    assert losses[-1] < losses[0] / 10


@pytest.mark.parametrize(("factor", "converges"), [(0.98, True), (1.02, False)])
def test_two_over_lambda_max_separates_convergence_from_divergence(
    factor: float, converges: bool
) -> None:
    page = RegressionPage()
    assert page.stability is not None
    page.handle(Settings(type="set", lr=factor * page.stability.bound))
    start = distance(page)
    page.handle(Step(type="step", count=600))
    assert (distance(page) < start / 100) is converges
    assert (distance(page) > start * 2) is not converges


def test_above_the_bound_the_run_pauses_once_the_loss_passes_ten_times_its_start() -> None:
    page = RegressionPage()
    assert page.stability is not None
    bound = page.stability.bound
    start = page.state()["model"]["loss"]
    page.handle(Settings(type="set", lr=1.5 * bound))
    page.handle(Play(type="play"))
    assert page.playing
    losses = []
    while page.playing:
        page.tick()
        losses.append(page.state()["model"]["loss"])
    state = page.state()
    assert state["status"]["kind"] == "diverged"
    assert f"diverging: lr {1.5 * bound:.3g} > 2/λ_max = {bound:.3g}" in state["status"]["text"]
    assert f"rose past 10 × its starting value {number(start, 3)}" in state["status"]["text"]
    # it paused at the first step past 10 L0, not hundreds of orders of magnitude later
    trace = [entry[3] for entry in page.trace]
    assert trace[-1] > DIVERGENCE_FACTOR * start >= max(trace[:-1])
    assert trace[-1] < 100 * DIVERGENCE_FACTOR * start
    assert "10 ×" in state["divergence"]["rule"] and state["divergence"]["factor"] == 10
    # a new run starts from where the last one paused, with its own starting value
    page.handle(Step(type="step", count=50))
    assert page.state()["status"]["kind"] == "diverged"
    assert page.start_loss == trace[-1] and page.trace[-1][3] > DIVERGENCE_FACTOR * trace[-1]


def test_a_step_whose_values_would_not_be_finite_is_not_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(regression_page, "DIVERGENCE_FACTOR", sys.float_info.max)
    page = RegressionPage()
    assert page.stability is not None
    page.handle(Settings(type="set", lr=1.5 * page.stability.bound))
    page.handle(Step(type="step", count=1000))
    state = page.state()
    text = json.dumps(state, allow_nan=False)  # every number finite
    assert state["status"]["kind"] == "diverged"
    assert "whose values would not be finite" in state["status"]["text"]
    assert all(math.isfinite(v) for v in page.params)
    assert "NaN" not in text and "Infinity" not in text
    stopped = state["step"]
    page.handle(Step(type="step"))  # the next step still cannot be taken
    assert page.state()["step"] == stopped


def test_with_momentum_the_bound_is_two_times_one_plus_beta_over_lambda_max() -> None:
    page = page_with(momentum=0.9)
    assert page.stability is not None
    state = page.state()["stability"]
    assert state["bound"] == pytest.approx(2 * 1.9 / state["lambda_max"], rel=1e-15)
    assert state["bound_name"] == "2(1+β)/λ_max" and state["zigzag_name"] == "(1+√β)²/λ_max"
    assert state["zigzag_from"] == pytest.approx((1 + math.sqrt(0.9)) ** 2 / state["lambda_max"])
    for factor, converges in ((0.9, True), (1.03, False)):
        page = page_with(momentum=0.9)
        assert page.stability is not None
        page.handle(Settings(type="set", lr=factor * page.stability.bound))
        status = page.state()["status"]
        # (1+√β)² = 3.797 < 2(1+β) = 3.8: at β = 0.9 the zig-zag band is a sliver
        assert status["kind"] == ("converging" if converges else "diverging"), status
        start = distance(page)
        page.handle(Step(type="step", count=1000))
        assert (distance(page) < start / 100) is converges, factor
        assert (page.state()["status"]["kind"] == "diverged") is not converges


def test_a_converging_run_that_overshoots_ten_times_says_so_and_goes_on() -> None:
    page = page_with(momentum=0.9)
    assert page.stability is not None
    page.handle(Settings(type="set", lr=0.97 * page.stability.bound))  # below the bound
    page.handle(Step(type="step", count=1000))
    status = page.state()["status"]
    assert status["kind"] == "overshoot" and "still converges" in status["text"], status
    for _ in range(5):  # each new run starts from where the last one paused
        page.handle(Step(type="step", count=1000))
    assert page.closed is not None
    assert page.params == pytest.approx(page.closed, rel=1e-6)


def test_the_surface_zooms_out_to_hold_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regression_page, "DIVERGENCE_FACTOR", 1e12)  # let it wander far
    page = RegressionPage()
    assert page.stability is not None
    first = page.state()["surface"]["view"]
    # with momentum the path swings far out and back: it must stay in view all the same
    page.handle(Settings(type="set", momentum=0.9))
    page.handle(Settings(type="set", lr=0.97 * page.stability.bound))
    grown = None
    for _ in range(40):
        for _ in range(5):  # several steps between two updates, as a tick takes them
            page.step()
        reply = page.progress()
        if "surface" in reply:
            grown = reply["surface"]["view"]
        view = page.surface()["view"]  # what the page draws now
        for _, w, b, _ in page.trace:
            assert view[0] <= w <= view[1] and view[2] <= b <= view[3]
    assert grown is not None and grown[1] - grown[0] > first[1] - first[0]
    page.handle(Reset(type="reset"))
    assert page.state()["surface"]["view"] == first
    # a point of the path out of view counts even when the current point is back inside
    page.steps = 1
    page._set_params(first[1] + 5.0, first[3] + 5.0)
    page._record()
    page._set_params(*page.start)
    view = page.progress()["surface"]["view"]
    assert view[1] >= first[1] + 5.0 and view[3] >= first[3] + 5.0


def test_status_names_zigzag_between_one_and_two_over_lambda_max() -> None:
    page = RegressionPage()
    assert page.stability is not None
    page.handle(Settings(type="set", lr=1.5 / page.stability.lambda_max))
    assert page.state()["status"]["kind"] == "zigzag"
    page.handle(Settings(type="set", lr=0.5 / page.stability.lambda_max))
    assert page.state()["status"]["kind"] == "converging"


def test_standardized_x_makes_h_the_identity_and_keeps_the_line() -> None:
    page = RegressionPage()
    before = page.state()
    page.handle(Settings(type="set", scale=True))
    after = page.state()
    assert after["stability"]["condition"] == pytest.approx(1.0, abs=1e-9)
    assert after["stability"]["bound"] == pytest.approx(2.0, abs=1e-9)
    assert before["stability"]["condition"] > 10
    # the same least-squares line, in either units
    assert after["closed"]["w"] == pytest.approx(before["closed"]["w"], rel=1e-10)
    assert after["closed"]["b"] == pytest.approx(before["closed"]["b"], rel=1e-10)
    page.handle(Settings(type="set", lr=0.5))
    page.handle(Step(type="step", count=200))
    state = page.state()
    w_s, b_s = state["model"]["w_scaled"], state["model"]["b_scaled"]
    mean, std = page.scaling.mean, page.scaling.std
    assert state["model"]["w"] == pytest.approx(w_s / std, rel=1e-12)
    assert state["model"]["b"] == pytest.approx(b_s - w_s * mean / std, rel=1e-12)
    assert state["model"]["w"] == pytest.approx(before["closed"]["w"], rel=1e-9)


def test_each_contour_is_the_level_set_of_the_loss() -> None:
    page = RegressionPage()
    surface = page.surface()
    assert surface is not None
    for level, line in zip(surface["levels"], surface["contours"], strict=True):
        for w, b in line[::7]:
            assert rm.loss_at(page.x, page.y, w, b) == pytest.approx(level, rel=1e-9)


def test_mini_batches_visit_every_sample_once_per_epoch() -> None:
    page = page_with(batch_mode="mini", batch_size=8)
    n = len(page.points)
    seen = []
    for _ in range(n // 8):
        X, _ = page.next_batch()
        seen.extend(X[:, 0].tolist())
    assert sorted(seen) == sorted(page.x.tolist())
    page = page_with(batch_mode="online")
    assert page.next_batch()[0].shape == (1, 1)


def test_momentum_follows_the_heavy_ball_update() -> None:
    page = page_with(lr=0.05, momentum=0.9)
    theta0 = np.array(page.params)
    e0 = page.current
    assert e0 is not None
    page.step()
    g0 = np.array([e0.grad_w, e0.grad_b])
    theta1 = theta0 - 0.05 * g0  # buf = g at the first step
    np.testing.assert_allclose(page.params, theta1, rtol=1e-12)
    e1 = page.current
    assert e1 is not None
    page.step()
    buffer = 0.9 * g0 + np.array([e1.grad_w, e1.grad_b])
    np.testing.assert_allclose(page.params, theta1 - 0.05 * buffer, rtol=1e-12)


def test_point_edits_and_their_errors() -> None:
    page = RegressionPage()
    n = len(page.points)
    page.handle(AddPoint(type="add_point", x=10.0, y=-3.0))
    assert page.points.shape == (n + 1, 2) and page.points[-1].tolist() == [10.0, -3.0]
    page.handle(MovePoint(type="move_point", index=0, x=1.0, y=2.0))
    assert page.points[0].tolist() == [1.0, 2.0]
    page.handle(RemovePoint(type="remove_point", index=0))
    assert len(page.points) == n
    with pytest.raises(FieldError) as error:
        page.handle(RemovePoint(type="remove_point", index=n))
    assert error.value.field == "index" and f"there are {n}" in str(error.value)
    w, b = page.state()["model"]["w"], page.state()["model"]["b"]
    page.handle(Generate(type="generate", n=5, seed=3))
    assert len(page.points) == 5
    assert (page.state()["model"]["w"], page.state()["model"]["b"]) == pytest.approx((w, b))
    with pytest.raises(FieldError) as error:
        page.handle(Generate(type="generate", x_min=2.0, x_max=1.0))
    assert error.value.field == "x_max"


def test_without_points_there_is_nothing_to_train_and_the_state_says_so() -> None:
    page = RegressionPage()
    page.handle(Generate(type="generate", n=1))
    state = page.state()
    assert state["stability"]["condition"] is None  # one point: H is singular
    json.dumps(state, allow_nan=False)
    page.handle(RemovePoint(type="remove_point", index=0))
    state = page.state()
    assert state["status"]["kind"] == "empty" and state["surface"] is None
    json.dumps(state, allow_nan=False)
    with pytest.raises(FieldError, match="There is no data"):
        page.handle(Play(type="play"))


def test_csv_round_trip_and_errors_naming_row_and_column() -> None:
    page = RegressionPage()
    text = rm.to_csv(page.points)
    assert text.startswith("x,y\n")
    np.testing.assert_array_equal(rm.parse_csv(text), page.points)
    page.handle(LoadCsv(type="load_csv", text="1,2\n3,4.5\n"))
    assert page.points.tolist() == [[1.0, 2.0], [3.0, 4.5]]
    cases = {
        "x,y\n1,2\n3,abc\n": "In row 2, column 2 of the CSV, 'abc' is not a number.",
        "1,2,3\n": "Row 1 of the CSV has 3 values; give two, x,y.",
        "1,nan\n": "In row 1, column 2 of the CSV, 'nan' is not a finite number.",
        "x,y\n": "The CSV has no data rows; give two numbers x,y per line.",
        "1,1e9\n": "In row 1, column 2 of the CSV, 1e+09 is outside ±10000.",
        "0,0\n" * 2001: "The CSV has 2001 rows; the plot holds at most 2000 points.",
    }
    for bad, message in cases.items():
        with pytest.raises(FieldError) as error:
            rm.parse_csv(bad)
        assert error.value.field == "text" and message in str(error.value)


def test_the_trace_stays_bounded_and_streams_only_new_entries() -> None:
    page = page_with(lr=0.01)
    page.state()  # a full state sends the whole trace
    page.step()
    page.step()
    update = page.progress()
    assert [entry[0] for entry in update["trace_append"]] == [1, 2]
    assert page.progress()["trace_append"] == []
    page.handle(Step(type="step", count=1000))
    page.handle(Step(type="step", count=1000))
    page.handle(Step(type="step", count=1000))
    assert len(page.trace) <= MAX_TRACE + 1 and page.trace[0][0] == 0
    assert page.trace[-1][0] <= 3002 and page.stride > 1


def test_formulas_carry_the_engine_numbers() -> None:
    page = RegressionPage()
    state = page.state()
    e = page.current
    assert e is not None
    formulas = state["formulas"]
    assert formulas["grad_w"].startswith("∂L/∂w = (1/n) Σ δᵢ·xᵢ = (1/40)·(")
    assert formulas["grad_w"].endswith(f"= {e.grad_w:.4g}".replace("-", "−"))
    assert formulas["grad_b"].endswith(f"= {e.grad_b:.4g}".replace("-", "−"))
    y1 = float(page.y[0])  # at the start (0, 0): a₁ = 0, δ₁ = 0 − y₁
    assert f"δ₁ = 0 − {operand(y1)} = {number(-y1)}," in formulas["delta"]
    assert formulas["loss"].endswith(f"= {number(e.loss)}")


def test_reset_returns_to_the_start_point() -> None:
    page = RegressionPage()
    page.handle(SetStart(type="set_start", w=2.0, b=-3.0))
    page.handle(Step(type="step", count=10))
    page.handle(Reset(type="reset"))
    assert page.params == (2.0, -3.0) and page.steps == 0 and len(page.trace) == 1
