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

import backprop as bp
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


def test_a_bad_value_shows_the_servers_error(lab_page: Callable[..., Any]) -> None:
    page = lab_page("sandbox")
    page.get_by_test_id("sb-lr").fill("500")
    page.get_by_test_id("sb-lr").dispatch_event("change")
    page.wait_for_function("() => document.querySelector('[data-testid=\"sb-error\"]')"
                           ".textContent.startsWith('lr:')")
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
    page.get_by_test_id("sb-weights-json").fill('{"layers": [{"W": [[0.5, -1.5, 2.0]]}]}')
    page.get_by_test_id("sb-paste").click()
    page.wait_for_function("() => window.backpropLab.state().preset === 'custom'")
    assert value(page, "sb-w-1-1-2") == -1.5
    assert page.get_by_test_id("sb-preset").input_value() == "custom"
    page.get_by_test_id("sb-weights-json").fill("[{")
    page.get_by_test_id("sb-paste").click()
    assert page.get_by_test_id("sb-error").inner_text().startswith("weights: not valid JSON")
