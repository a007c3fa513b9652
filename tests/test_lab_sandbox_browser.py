"""/sandbox in headless Chromium: what the page shows is what bp.explain computes.

Every number is read from the page's ``data-value`` attributes (the full
value of each readout) and compared with the library run here in the test;
the check's verdict is read from its text, the drawing from canvas pixels.
The ``lab_page`` fixture fails a test whose page logged a console error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import backprop as bp
from backprop.teaching.answers import step_values
from backprop.teaching.reference import MISTAKES

MAZUR_W = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
MAZUR_B = [[0.35, 0.35], [0.60, 0.60]]


def mazur_trace(weights: list[list[list[float]]] = MAZUR_W) -> bp.Trace:
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 2, activation="sigmoid")],
                     loss="mse", dtype="float64")
    for layer, W, b in zip(net.layers, weights, MAZUR_B, strict=True):
        layer.W, layer.b = W, b  # type: ignore[attr-defined]
    return bp.explain(net, [[0.05, 0.10]], [[0.01, 0.99]], lr=0.5)


def classic_trace() -> bp.Trace:
    from backprop.cli.explain import CLASSIC_WEIGHTS

    net = bp.Network([bp.Dense(2, 3, activation="sigmoid", bias=False),
                      bp.Dense(3, 1, activation="sigmoid", bias=False)], dtype="float64")
    for layer, W in zip(net.layers, CLASSIC_WEIGHTS, strict=True):
        layer.W = W  # type: ignore[attr-defined]
    return bp.explain(net, [[0.35, 0.9]], [[0.5]], lr=0.5)


def value(page: Any, testid: str) -> float:
    text = page.get_by_test_id(testid).get_attribute("data-value")
    assert text, f"{testid} has no data-value"
    return float(text)


def wait_for_error(page: Any, start: str) -> None:
    """Wait until the page's error line begins with ``start``."""
    page.wait_for_function("(start) => document.querySelector('[data-testid=\"sb-error\"]')"
                           ".textContent.startsWith(start)", arg=start)


def choose_preset(page: Any, name: str) -> None:
    page.get_by_test_id("sb-preset").select_option(name)
    page.wait_for_function(f"() => window.backpropLab.state().preset === '{name}'")


def check(page: Any, rule: str) -> str:
    """Select the backward rule, press Check, and return the verdict the page shows."""
    page.get_by_test_id("sb-break").select_option(rule)
    page.wait_for_function(f"() => window.backpropLab.state().rule === '{rule}'")
    page.get_by_test_id("sb-check").click()
    page.wait_for_function("() => { const c = window.backpropLab.state().check;"
                           f" return c && c.rule === '{rule}'; }}")
    text: str = page.get_by_test_id("sb-check-verdict").inner_text()
    return text


def assert_page_shows_trace(page: Any, trace: bp.Trace) -> None:
    """Loss, every w and ∂L/∂w, every z, a, δ: the page's full values equal the trace's."""
    assert value(page, "sb-loss") == trace.loss_value
    for g in trace.gradients:
        if g.name == "w":
            assert value(page, f"sb-w-{g.layer}-{g.unit}-{g.input}") == g.old
            assert value(page, f"sb-g-{g.layer}-{g.unit}-{g.input}") == g.value
        else:
            assert value(page, f"sb-b-{g.layer}-{g.unit}") == g.old
            assert value(page, f"sb-gb-{g.layer}-{g.unit}") == g.value
    for unit in trace.forward:
        assert value(page, f"sb-z-{unit.layer}-{unit.unit}") == unit.z
        assert value(page, f"sb-a-{unit.layer}-{unit.unit}") == unit.a
    for d in trace.deltas:
        assert value(page, f"sb-d-{d.layer}-{d.unit}") == d.delta


def coloured_pixels(page: Any) -> dict[str, int]:
    """How many canvas pixels are the check's green (right) and red (wrong)."""
    counts: dict[str, int] = page.evaluate("""() => {
        const canvas = document.querySelector('[data-testid="sb-canvas"]');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let green = 0, red = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a < 200) continue;
          if (g > 100 && r < 70 && b < 110) green++;
          if (r > 170 && g < 90 && b < 90) red++;
        }
        return {green, red};
    }""")
    return counts


def test_classic_231_shows_the_numbers_of_bp_explain(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    assert page.get_by_test_id("sb-preset").input_value() == "classic-231"
    assert page.evaluate("() => window.backpropLab.state().page") == "sandbox"
    assert_page_shows_trace(page, classic_trace())


def test_mazur_222_loss_and_w5_after_one_step(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    trace = mazur_trace()
    assert_page_shows_trace(page, trace)
    assert math.isclose(value(page, "sb-loss"), 0.298371109, abs_tol=5e-10)
    page.get_by_test_id("sb-lr").fill("0.5")
    page.get_by_test_id("sb-lr").dispatch_event("change")
    page.get_by_test_id("sb-step").click()
    page.wait_for_function("() => window.backpropLab.state().last_step")
    w5 = value(page, "sb-w-2-1-1")
    assert math.isclose(w5, 0.35891648, abs_tol=5e-9)
    new = {(g.layer, g.name, g.unit, g.input): g.new for g in trace.gradients}
    assert math.isclose(w5, new[(2, "w", 1, 1)], rel_tol=1e-14)
    assert value(page, "sb-old-w-2-1-1") == 0.4 and value(page, "sb-new-w-2-1-1") == w5
    assert value(page, "sb-loss") < trace.loss_value


def test_check_passes_and_fails_with_each_broken_rule(lab_page: Callable[..., Any],
                                                     artifacts: Path) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    assert check(page, "none") == "PASS"
    right = coloured_pixels(page)
    assert right["green"] > 500 and right["red"] == 0, right
    for rule in MISTAKES:
        assert check(page, rule) == "FAIL", rule
        state = page.evaluate("() => window.backpropLab.state()")
        wrong = [key for key, edge in state["check"]["edges"].items()
                 if edge["relative_error"] > 1e-3]
        assert wrong, rule
        # the page shows each wrong edge's relative error beside it
        for key in wrong:
            if key.startswith("w-"):
                shown = value(page, f"sb-e-{key[2:]}")
                assert shown == state["check"]["edges"][key]["relative_error"]
                assert "sb-bad" in page.get_by_test_id(f"sb-e-{key[2:]}").get_attribute("class")
        assert coloured_pixels(page)["red"] > 200, rule
        if rule == "drop-sigma-prime":
            page.screenshot(path=str(artifacts / "sandbox-check-fail.png"), full_page=True)
    assert check(page, "none") == "PASS"


def test_clicking_a_number_shows_its_line_of_the_trace(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    lines = [line.strip() for line in mazur_trace().to_text().splitlines()]
    for testid in ("sb-g-2-1-1", "sb-d-1-2", "sb-z-2-2", "sb-w-1-2-1", "sb-gb-1-1"):
        page.get_by_test_id(testid).click()
        shown = page.get_by_test_id("sb-explain").inner_text().strip()
        assert shown in lines, (testid, shown)
    assert page.get_by_test_id("sb-explain").inner_text().startswith("∂L/∂b_1^[1] = δ_1^[1]")


def test_a_weight_is_edited_by_clicking_it(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    page.get_by_test_id("sb-w-2-1-1").click()
    page.get_by_test_id("sb-edit-value").fill("1.5")
    page.get_by_test_id("sb-edit-apply").click()
    page.wait_for_function("() => window.backpropLab.state().layers[1].W[0][0] === 1.5")
    assert value(page, "sb-w-2-1-1") == 1.5
    assert_page_shows_trace(page, mazur_trace([MAZUR_W[0], [[1.5, 0.45], [0.50, 0.55]]]))


def test_downloads_give_the_trace_and_the_weights(lab_page: Callable[..., Any],
                                                  tmp_path: Path) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    with page.expect_download() as caught:
        page.get_by_test_id("sb-download-md").click()
    download = caught.value
    assert download.suggested_filename == "trace.md"
    download.save_as(tmp_path / "trace.md")
    assert (tmp_path / "trace.md").read_text(encoding="utf-8").strip() == \
        mazur_trace().to_markdown()
    with page.expect_download() as caught:
        page.get_by_test_id("sb-download-weights").click()
    caught.value.save_as(tmp_path / "weights.json")
    weights = json.loads((tmp_path / "weights.json").read_text(encoding="utf-8"))
    assert [layer["W"] for layer in weights] == MAZUR_W
    assert [layer["b"] for layer in weights] == MAZUR_B


def test_a_bad_value_shows_the_servers_error_as_a_sentence(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    page.get_by_test_id("sb-lr").fill("500")
    page.get_by_test_id("sb-lr").dispatch_event("change")
    wait_for_error(page, "“lr” must be at most 100, not 500.")
    assert page.evaluate("() => window.backpropLab.state().lr") == 0.5


def test_screenshot(lab_page: Callable[..., Any], artifacts: Path) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    page.get_by_test_id("sb-break").select_option("drop-sigma-prime")
    page.wait_for_function("() => window.backpropLab.state().rule === 'drop-sigma-prime'")
    page.get_by_test_id("sb-check").click()
    page.wait_for_function("() => window.backpropLab.state().check")
    page.get_by_test_id("sb-d-1-1").click()
    assert page.get_by_test_id("sb-check-verdict").inner_text() == "FAIL"
    assert page.get_by_test_id("sb-explain").inner_text().startswith("δ_1^[1] = ")
    path = artifacts / "sandbox.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000


def test_samples_and_pasted_weights(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    page.get_by_test_id("sb-add-sample").click()
    page.wait_for_function("() => window.backpropLab.state().X.length === 2")
    page.get_by_test_id("sb-x-2").fill("0.5, -0.25")
    page.get_by_test_id("sb-x-2").dispatch_event("change")
    page.wait_for_function("() => window.backpropLab.state().X[1][1] === -0.25")
    page.get_by_test_id("sb-sample-2").check()
    page.wait_for_function("() => window.backpropLab.state().sample === 2")
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 2, activation="sigmoid")],
                     loss="mse", dtype="float64")
    for layer, W, b in zip(net.layers, MAZUR_W, MAZUR_B, strict=True):
        layer.W, layer.b = W, b  # type: ignore[attr-defined]
    trace = bp.explain(net, [[0.05, 0.10], [0.5, -0.25]], [[0.01, 0.99], [0.99, 0.01]], lr=0.5)
    assert value(page, "sb-loss") == trace.loss_value
    for unit in (u for u in trace.forward if u.sample == 2):  # the drawing shows sample 2
        assert value(page, f"sb-z-{unit.layer}-{unit.unit}") == unit.z
    for g in (g for g in trace.gradients if g.name == "w"):  # means over both samples
        assert value(page, f"sb-g-{g.layer}-{g.unit}-{g.input}") == g.value
    choose_preset(page, "custom")
    page.get_by_test_id("sb-weights-json").fill('{"layers": [{"W": [[0.5, -1.5, 2.0]]}]}')
    page.get_by_test_id("sb-paste").click()
    page.wait_for_function("() => window.backpropLab.state().architecture.widths.join() === '3,1'")
    assert value(page, "sb-w-1-1-2") == -1.5
    assert page.get_by_test_id("sb-preset").input_value() == "custom"
    assert page.get_by_test_id("sb-note").inner_text().startswith(
        "Built a new 3→1 network without biases (every layer sigmoid) from the pasted weights")
    page.get_by_test_id("sb-weights-json").fill("[{")
    page.get_by_test_id("sb-paste").click()
    wait_for_error(page, "The weights are not valid JSON (line 1, column 3)")


# -- check my answer ----------------------------------------------------------------------------

def mazur_network() -> bp.Network:
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 2, activation="sigmoid")],
                     loss="mse", dtype="float64")
    for layer, W, b in zip(net.layers, MAZUR_W, MAZUR_B, strict=True):
        layer.W, layer.b = W, b  # type: ignore[attr-defined]
    return net


def step_numbers(page: Any, mistake: str | None = None) -> dict[str, float]:
    """The numbers of the page's step (its batch, η, chosen sample), computed here."""
    state = page.evaluate("() => window.backpropLab.state()")
    return step_values(mazur_network(), np.array(state["X"]), np.array(state["Y"]), state["lr"],
                       sample=state["sample"], mistake=mistake)


def answer_mode(page: Any, kinds: tuple[str, ...] = ("d", "gb", "g")) -> list[str]:
    """Turn on "check my answer" asking for these kinds; the keys asked, output layer first."""
    if not page.get_by_test_id("sb-answer-mode").is_checked():
        page.get_by_test_id("sb-answer-mode").check()
        page.wait_for_function("() => window.backpropLab.state().answer.on")
    for kind in ("d", "gb", "g", "w"):
        box = page.get_by_test_id(f"sb-answer-ask-{kind}")
        if box.is_checked() != (kind in kinds):
            box.set_checked(kind in kinds)
            page.wait_for_function("(on) => window.backpropLab.state().answer.ask.includes("
                                   f"'{kind}') === on", arg=kind in kinds)
    asked: list[str] = page.evaluate("() => window.backpropLab.state().answer.asked")
    return asked


def submit(page: Any, answers: dict[str, str]) -> dict[str, Any]:
    """Type the answers (clearing the other inputs), press Check my answers; the answer state."""
    for key in page.evaluate("() => window.backpropLab.state().answer.asked"):
        page.get_by_test_id(f"sb-answer-{key}").fill(answers.get(key, ""))
    given = {key: text.strip() for key, text in answers.items() if text.strip()}
    page.get_by_test_id("sb-answer-submit").click()
    page.wait_for_function("""(given) => {
        const answer = window.backpropLab.state().answer;
        const keys = Object.keys(given);
        return answer.checked && keys.length === Object.keys(answer.given).length
            && keys.every((key) => answer.given[key] === given[key]);
    }""", arg=given)
    answer: dict[str, Any] = page.evaluate("() => window.backpropLab.state().answer")
    return answer


def verdicts(page: Any, keys: list[str]) -> dict[str, str | None]:
    return {key: page.get_by_test_id(f"sb-answer-{key}").get_attribute("data-verdict")
            for key in keys}


def test_check_my_answer_on_mazur_with_every_answer_right(lab_page: Callable[..., Any],
                                                         artifacts: Path) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    asked = answer_mode(page)
    assert len(asked) == 16 and asked[0] == "d-2-1"
    # the numbers worked out are hidden on the drawing, the rest stay
    assert page.get_by_test_id("sb-d-1-1").inner_text() == "?"
    assert page.get_by_test_id("sb-g-2-1-1").get_attribute("data-value") == ""
    assert value(page, "sb-a-2-1") == mazur_trace().forward[-2].a
    numbers = step_numbers(page)
    answer = submit(page, {key: f"{numbers[key]:#.6g}" for key in asked})
    assert verdicts(page, asked) == dict.fromkeys(asked, "right")
    assert answer["hint"] is None and page.get_by_test_id("sb-answer-hint").inner_text() == ""
    assert page.get_by_test_id("sb-answer-status").inner_text() == "16 right, 0 wrong of 16 checked."
    # the textbook's rounded numbers are right to the digits they have
    answer = submit(page, {"d-2-1": "0.138498562", "d-1-1": "0.00877135", "g-2-1-1": "0.0821670"})
    assert verdicts(page, ["d-2-1", "d-1-1", "g-2-1-1"]) == dict.fromkeys(
        ["d-2-1", "d-1-1", "g-2-1-1"], "right")
    assert verdicts(page, ["d-2-2"]) == {"d-2-2": None}  # left empty: not judged
    page.get_by_test_id("sb-answer-mode").uncheck()
    page.wait_for_function("() => !window.backpropLab.state().answer.on")
    assert value(page, "sb-d-1-1") == numbers["d-1-1"]  # shown again


def test_each_known_mistake_is_named_in_the_hint(lab_page: Callable[..., Any],
                                                 artifacts: Path) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    cases = [("drop-sigma-prime", "d-1-1", "σ′ dropped"),
             ("transpose-W", "d-1-2", "W instead of Wᵀ"),
             ("stale-weights", "d-1-1", "the updated weights used in the backward pass")]
    asked = answer_mode(page)
    for mistake, key, name in cases:
        answers = {k: f"{v:#.6g}" for k, v in step_numbers(page).items() if k in asked}
        answers[key] = f"{step_numbers(page, mistake)[key]:#.6g}"
        answer = submit(page, answers)
        assert [k for k, v in verdicts(page, asked).items() if v != "right"] == [key], mistake
        assert verdicts(page, [key]) == {key: "wrong"}
        hint = page.get_by_test_id("sb-answer-hint").inner_text()
        assert hint == answer["hint"] and f"the known mistake “{name}” gives" in hint, hint
        assert "equation (2)" in hint
        if mistake == "drop-sigma-prime":
            page.screenshot(path=str(artifacts / "sandbox-answer-hint.png"), full_page=True)
    # the 1/m mistakes show on a batch of two samples, where they differ from the right answer
    page.get_by_test_id("sb-add-sample").click()
    page.wait_for_function("() => window.backpropLab.state().X.length === 2")
    right = step_numbers(page)
    for key, typed, mistake, name in [
            ("g-2-1-1", right["g-2-1-1"] * 2, "forget-1/m", "1/m forgotten"),
            ("gb-1-2", right["gb-1-2"] * 2, "sum-not-mean", "1/m forgotten"),
            ("g-1-2-1", right["g-1-2-1"] / 2, "twice-1/m", "1/m applied twice")]:
        answers = {k: f"{v:#.6g}" for k, v in right.items() if k in asked}
        answers[key] = f"{typed:#.6g}"
        answer = submit(page, answers)
        assert [k for k, v in verdicts(page, asked).items() if v != "right"] == [key]
        assert answer["verdicts"][key]["mistake"] == mistake
        assert f"the known mistake “{name}” gives" in page.get_by_test_id("sb-answer-hint").inner_text()
    # the sign of the update: ask for the weights after the step too
    asked = answer_mode(page, ("d", "gb", "g", "w"))
    assert "w-2-1-1" in asked and "b-1-1" in asked
    answers = {k: f"{v:#.6g}" for k, v in right.items() if k in asked}
    answers["w-2-2-1"] = f"{0.5 + 0.5 * right['g-2-2-1']:#.6g}"  # w + η ∂L/∂w
    answer = submit(page, answers)
    assert [k for k, v in verdicts(page, asked).items() if v != "right"] == ["w-2-2-1"]
    hint = page.get_by_test_id("sb-answer-hint").inner_text()
    assert "the known mistake “the sign of the update” gives" in hint
    assert "It comes from the update: w_21^[2] ← w_21^[2] − η ∂L/∂w_21^[2]." in hint


def test_a_two_digit_answer_is_refused(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    answer_mode(page)
    answer = submit(page, {"d-2-1": "0.14", "d-2-2": "-0.0381"})
    assert verdicts(page, ["d-2-1", "d-2-2"]) == {"d-2-1": "refused", "d-2-2": "right"}
    assert page.get_by_test_id("sb-answer-refusals").inner_text() == (
        "δ_1^[2]: “0.14” has 2 significant digits; give at least three.")
    assert answer["hint"] is None


def test_the_four_equations_and_a_broken_rules_values_beside_the_right_ones(
    lab_page: Callable[..., Any], artifacts: Path,
) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    state = page.evaluate("() => window.backpropLab.state()")
    for equation in state["equations"]:
        item = page.get_by_test_id(f"sb-equation-{equation['label']}")
        assert equation["text"] in item.inner_text()
    assert "∂L/∂W^[l] = 1/m Σ_i δ_i^[l] a_i^[l−1]ᵀ" in page.get_by_test_id("sb-equation-4").inner_text()
    # each number on the drawing carries the tag of its equation
    tags = {"d-2-1": "(1)", "d-1-2": "(2)", "gb-1-1": "(3)", "g-2-1-2": "(4)", "z-1-1": "(f)"}
    for key, text in tags.items():
        assert page.get_by_test_id(f"sb-tag-{key}").inner_text() == text
    page.get_by_test_id("sb-tag-d-1-2").click()
    assert "sb-eq-on" in page.get_by_test_id("sb-equation-2").get_attribute("class")
    page.get_by_test_id("sb-g-2-1-2").click()  # choosing a number marks its equation
    assert "sb-eq-on" in page.get_by_test_id("sb-equation-4").get_attribute("class")
    assert "sb-eq-on" not in (page.get_by_test_id("sb-equation-2").get_attribute("class") or "")
    for rule in MISTAKES:
        page.get_by_test_id("sb-break").select_option(rule)
        page.wait_for_function("(rule) => { const b = window.backpropLab.state().broken;"
                               " return b && b.rule === rule; }", arg=rule)
        wrong = step_numbers(page, rule)
        right = step_numbers(page)
        changed = {key for key in right if key.split("-")[0] in ("d", "g", "gb")
                   and not math.isclose(wrong[key], right[key], rel_tol=1e-12)}
        assert changed, rule
        for key in changed:  # the wrong value beside the right one, for every number changed
            assert value(page, f"sb-wrong-{key}") == wrong[key], (rule, key)
            assert page.get_by_test_id(f"sb-wrong-{key}").is_visible()
            assert value(page, f"sb-{key}") == right[key]
        assert page.locator("[data-testid^=sb-wrong-]").count() == len(changed)
        assert page.get_by_test_id("sb-broken-legend").is_visible()
        if rule == "stale-weights":
            page.screenshot(path=str(artifacts / "sandbox-broken-rule.png"), full_page=True)
    page.get_by_test_id("sb-break").select_option("none")
    page.wait_for_function("() => window.backpropLab.state().broken === null")
    assert page.locator("[data-testid^=sb-wrong-]").count() == 0


def test_the_explanation_follows_a_preset_switch(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    page.get_by_test_id("sb-d-1-1").click()
    classic_line = page.get_by_test_id("sb-explain").inner_text()
    assert classic_line.startswith("δ_1^[1] = ")
    choose_preset(page, "mazur-222")
    shown = page.get_by_test_id("sb-explain").inner_text()
    assert shown != classic_line and not shown.startswith("δ_1^[1]")
    page.get_by_test_id("sb-d-1-1").click()
    lines = [line.strip() for line in mazur_trace().to_text().splitlines()]
    assert page.get_by_test_id("sb-explain").inner_text().strip() in lines


def test_a_malformed_weight_list_is_refused_in_one_sentence_and_changes_nothing(
    lab_page: Callable[..., Any],
) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    before = page.evaluate("() => window.backpropLab.state()")
    for text, sentence in [
            ('[{"W": [[0.1, 0.2, 0.3]]}]', "These weights make a 3→1 network without biases, "
             "but mazur-222 is a 2→2→2 network with biases; choose custom in the network menu "
             "to use another shape."),
            ('[{"W": [[0.1, 0.2], [0.3]], "b": [0, 0]}, {"W": [[1, 1], [1, 1]], "b": [0, 0]}]',
             "Layer 1's W has rows of different lengths (1 and 2); every row needs one number "
             "per unit of the layer below."),
            ('[{"W": [[0.1, "a"], [0.3, 0.4]]}]', "In row 1 of layer 1's W, \"a\" is not a number.")]:
        page.get_by_test_id("sb-weights-json").fill(text)
        page.get_by_test_id("sb-paste").click()
        wait_for_error(page, sentence[:20])
        assert page.get_by_test_id("sb-error").inner_text() == sentence
        assert page.evaluate("() => window.backpropLab.state()") == before
        assert value(page, "sb-loss") == before["loss"]


def test_one_weight_notation_on_the_page(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    choose_preset(page, "mazur-222")
    page.get_by_test_id("sb-w-2-1-2").click()
    assert page.locator("#sb-edit-label").inner_text() == "new value of w_12^[2]"
    assert page.get_by_test_id("sb-explain").inner_text().startswith("w_12^[2] ← ")
    page.get_by_test_id("sb-step").click()
    page.wait_for_function("() => window.backpropLab.state().last_step")
    names = page.get_by_test_id("sb-last-step").inner_text()
    assert "w_12^[2]" in names and "b_1^[1]" in names and "w 2-1-2" not in names
    answer_mode(page)
    assert page.get_by_test_id("sb-answer-g-2-1-2").get_attribute("placeholder") == "∂L/∂w_12^[2]"
