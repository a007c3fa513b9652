"""/playground in Chromium for a classroom: replay then branch, a lock the server keeps,
every click counted, a tab closed mid-play, the keyboard, tooltips, text alternatives,
Space, Explain's δ sum and optimizer rule, per-layer activations and the discretized output.
Each test waits on what the page shows, never on a fixed time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lab_fixtures import CHROMIUM, start_lab

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")


def state(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("() => window.backpropLab.state()")
    return result


def wait_state(page: Any, condition: str, timeout: float = 10_000) -> None:
    """Wait until ``condition`` (JavaScript, with ``s`` the page's state) holds."""
    page.wait_for_function(f"() => {{ const s = window.backpropLab.state(); return {condition}; }}",
                           timeout=timeout)


def send(page: Any, verb: str, fields: dict[str, Any] | None = None) -> None:
    page.evaluate("([verb, fields]) => window.backpropLab.send(verb, fields)", [verb, fields or {}])


def steps(page: Any, count: int) -> None:
    start = int(state(page)["step"])
    send(page, "step", {"count": count})
    wait_state(page, f"s.step === {start + count}")


def next_frame(page: Any) -> None:
    page.evaluate("() => new Promise((done) => requestAnimationFrame("
                  "() => requestAnimationFrame(done)))")


def test_replay_keeps_the_history_then_branches(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    steps(page, 30)
    rows = len(state(page)["history"])
    slider = page.get_by_test_id("pg-replay")
    slider.evaluate("(s) => { s.value = '10'; s.dispatchEvent(new Event('change')); }")
    wait_state(page, "s.step === 10 && s.replay.viewing")
    assert len(state(page)["history"]) == rows and state(page)["replay"]["latest"] == 30
    assert slider.get_attribute("max") == "30" and slider.input_value() == "10"
    assert "showing step 10 of 30" in page.get_by_test_id("pg-status").inner_text()
    assert page.get_by_test_id("pg-branch").is_enabled()
    page.get_by_test_id("pg-play").click()  # not from here without saying so
    page.wait_for_function("() => /branch from here/.test("
                           "document.querySelector('[data-testid=\"pg-error\"]').textContent)")
    assert not state(page)["playing"] and state(page)["step"] == 10
    page.get_by_test_id("pg-replay-latest").click()
    wait_state(page, "s.step === 30 && !s.replay.viewing")
    slider.evaluate("(s) => { s.value = '10'; s.dispatchEvent(new Event('change')); }")
    wait_state(page, "s.step === 10 && s.replay.viewing")
    page.get_by_test_id("pg-branch").click()
    wait_state(page, "!s.replay.viewing && s.replay.latest === 10")
    assert state(page)["history"][-1][0] == 10
    assert page.get_by_test_id("pg-branch").is_disabled()
    steps(page, 5)
    assert slider.get_attribute("max") == "15"


def test_the_server_refuses_a_locked_change_sent_from_the_console(
        lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground?dataset=xor&lock=1")
    wait_state(page, "s.setup.dataset === 'xor' && (s.locked || []).includes('lr')")
    assert page.get_by_test_id("pg-lr").is_disabled()
    send(page, "configure", {"lr": 3.0})  # what a student could type in the console
    page.wait_for_function("() => window.backpropLab.lastError && "
                           "window.backpropLab.lastError.field === 'lr'")
    assert "locked by the classroom link" in page.get_by_test_id("pg-error").inner_text()
    send(page, "ping")
    wait_state(page, "s.setup.lr === 0.1")
    send(page, "add_layer")
    page.wait_for_function("() => window.backpropLab.lastError.field === 'layers'")
    assert state(page)["setup"]["layers"] == [4, 4]
    steps(page, 2)  # it still trains
    share = page.get_by_test_id("pg-share-url").get_attribute("href")
    assert share is not None and "lock=1" in share


def test_two_quick_clicks_on_minus_layer_remove_two_layers(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground?layers=4,4,4")
    wait_state(page, "JSON.stringify(s.setup.layers) === '[4,4,4]'")
    # both clicks before any reply comes back
    page.get_by_test_id("pg-remove-layer").evaluate("(b) => { b.click(); b.click(); }")
    wait_state(page, "JSON.stringify(s.setup.layers) === '[4]'")
    page.get_by_test_id("pg-units-plus-0").evaluate("(b) => { b.click(); b.click(); }")
    wait_state(page, "JSON.stringify(s.setup.layers) === '[6]'")
    assert len(state(page)["network"]["layers"]) == 2


def test_a_tab_closed_mid_play_leaves_no_traceback(chromium: Any) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Chromium")
    server = start_lab()
    try:
        for close_context in (False, True, False, True):
            context = chromium.new_context()
            page = context.new_page()
            page.goto(server.url + "playground")
            wait_state(page, "s.type === 'state'")
            page.get_by_test_id("pg-play").click()
            wait_state(page, "s.playing && s.step > 20")
            if close_context:
                context.close()
            else:
                page.close()
                context.close()
        # the server goes on serving
        context = chromium.new_context()
        page = context.new_page()
        page.goto(server.url + "playground")
        wait_state(page, "s.type === 'state' && s.step === 0")
        context.close()
    finally:
        assert server.stop() == 0
    log = "".join(server.output)
    assert "Traceback" not in log and "Exception" not in log and "ERROR" not in log, log


def test_an_edge_is_chosen_and_edited_from_the_keyboard(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    steps(page, 3)
    next_frame(page)
    canvas = page.get_by_test_id("pg-network-canvas")
    canvas.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    targets = page.evaluate("() => window.backpropLab.targets()")
    third = targets["edges"][2]
    assert targets["selected"] == {"layer": third["layer"], "row": third["row"],
                                   "col": third["col"], "bias": False}
    weight = state(page)["network"]["layers"][third["layer"]]["W"][third["row"]][third["col"]]
    assert float(page.get_by_test_id("pg-weight-value").input_value()) == weight
    tooltip = page.get_by_test_id("pg-tooltip")
    assert tooltip.is_visible() and "∂L/∂w" in tooltip.inner_text()
    assert "chosen" in page.get_by_test_id("pg-selection").inner_text()
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("() => window.backpropLab.targets().selected.col") == \
        targets["edges"][1]["col"]
    page.keyboard.press("Enter")  # to the weight's editor
    assert page.evaluate("() => document.activeElement.dataset.testid") == "pg-weight-value"
    page.keyboard.press("Control+a")
    page.keyboard.type("0.75")
    page.keyboard.press("Enter")
    second = targets["edges"][1]
    wait_state(page, f"s.network.layers[{second['layer']}].W[{second['row']}][{second['col']}]"
                     " === 0.75")


def test_hovering_a_unit_or_an_edge_shows_its_value_and_formula(
        lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    steps(page, 2)
    next_frame(page)
    box = page.get_by_test_id("pg-network-canvas").bounding_box()
    targets = page.evaluate("() => window.backpropLab.targets()")
    unit = next(u for u in targets["nodes"] if u["layer"] == 0 and u["row"] == 1)
    page.mouse.move(box["x"] + unit["x"] + unit["size"] / 2, box["y"] + unit["y"] + unit["size"] / 2)
    tooltip = page.get_by_test_id("pg-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    layer = state(page)["network"]["layers"][0]
    assert "unit 2 of hidden layer 1" in text and "a₂ = tanh(z₂)" in text
    assert "Σₖ w₂ₖ·aₖ + b₂" in text and "δ̄₂ = ∂L/∂b₂" in text
    page.wait_for_function("(b) => document.querySelector('[data-testid=\"pg-tooltip\"]')"
                           ".textContent.includes(b)", arg=f"b₂ = {format_number(page, layer['b'][1])}")
    edge = next(e for e in targets["edges"] if (e["layer"], e["row"], e["col"]) == (1, 2, 3))
    page.mouse.move(box["x"] + edge["x0"] + (edge["x1"] - edge["x0"]) / 3,
                    box["y"] + edge["y0"] + (edge["y1"] - edge["y0"]) / 3)
    page.wait_for_function("() => document.querySelector('[data-testid=\"pg-tooltip\"]')"
                           ".textContent.startsWith('w₃,₄ of layer 2')")
    w = state(page)["network"]["layers"][1]["W"][2][3]
    assert f"w = {format_number(page, w)}" in tooltip.inner_text()


def format_number(page: Any, value: float) -> str:
    """A number as the page writes it (lab.format)."""
    text: str = page.evaluate("(v) => window.backpropLab.format(v)", value)
    return text


def test_each_canvas_says_what_it_shows_and_the_network_is_a_table(
        lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    steps(page, 5)
    next_frame(page)
    for testid in ("pg-network-canvas", "pg-boundary-canvas", "pg-loss-canvas",
                   "pg-norm-canvas", "pg-histograms"):
        canvas = page.get_by_test_id(testid)
        assert canvas.get_attribute("role") == "img", testid
        assert len(canvas.get_attribute("aria-label") or "") > 40, testid
    assert "test accuracy" in page.get_by_test_id("pg-boundary-canvas").get_attribute("aria-label")
    assert "2-4-4-1" in page.get_by_test_id("pg-network-canvas").get_attribute("aria-label")
    page.get_by_test_id("pg-network-table-box").locator("summary").click()
    cell = page.get_by_test_id("pg-table-w-1-2-3")
    cell.wait_for()
    assert float(cell.get_attribute("data-value")) == state(page)["network"]["layers"][1]["W"][2][3]
    assert page.get_by_test_id("pg-network-table").locator("table").count() == 3


def test_space_plays_and_pauses(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    page.locator("h1").click()  # the page, not a control, has the focus
    page.keyboard.press(" ")
    wait_state(page, "s.playing && s.step > 0")
    page.keyboard.press(" ")
    wait_state(page, "!s.playing")
    page.get_by_test_id("pg-lr").focus()  # in a text field, Space is a character
    page.keyboard.press(" ")
    send(page, "ping")
    wait_state(page, "!s.playing")


def test_explain_writes_delta_j_and_the_optimizers_rule(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    steps(page, 4)
    next_frame(page)
    box = page.get_by_test_id("pg-network-canvas").bounding_box()
    edge = next(e for e in page.evaluate("() => window.backpropLab.targets()")["edges"]
                if (e["layer"], e["row"], e["col"]) == (1, 2, 3))
    page.mouse.click(box["x"] + edge["x0"] + (edge["x1"] - edge["x0"]) / 3,
                     box["y"] + edge["y0"] + (edge["y1"] - edge["y0"]) / 3)
    page.get_by_test_id("pg-explain").click()
    wait_state(page, "s.explanation && s.explanation.layer === 1")
    e = state(page)["explanation"]
    delta = page.get_by_test_id("pg-explain-delta").inner_text()
    assert "(Σ_k w_k3 δ_k) · σ′(z_3)" in delta and "σ′(z) = 1 − a²" in delta
    assert float(page.get_by_test_id("pg-explain-delta").get_attribute("data-value")) == \
        e["delta_terms"][0]["delta"]
    rule = page.get_by_test_id("pg-explain-rule").locator("li")
    assert rule.count() == len(e["update_lines"]) == 2  # momentum: v ← μ·v + g, Δw = η·v
    assert "v ← μ·v + g" in rule.nth(0).inner_text()
    last = float(page.get_by_test_id("pg-explain-line-1").get_attribute("data-value"))
    assert last == pytest.approx(e["optimizer_delta"], rel=1e-9)
    assert float(page.get_by_test_id("pg-explain-update").get_attribute("data-value")) == \
        e["optimizer_update"]


def test_per_layer_activations_l1_and_the_discretized_output(
        lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    page.get_by_test_id("pg-layer-activation-1").select_option("relu")
    wait_state(page, "s.network.layers[1].activation === 'relu'")
    assert [layer["activation"] for layer in state(page)["network"]["layers"]] == [
        "tanh", "relu", "sigmoid"]
    page.get_by_test_id("pg-l1").fill("0.001")
    page.get_by_test_id("pg-l1").dispatch_event("change")
    wait_state(page, "s.setup.l1 === 0.001")
    page.get_by_test_id("pg-discretize").check()
    wait_state(page, "s.boundary.discretized")
    assert "predicted 0" in page.get_by_test_id("pg-boundary-key").inner_text()
    page.get_by_test_id("pg-dataset").select_option("regression-plane")
    wait_state(page, "s.task === 'regression' && s.setup.dataset === 'regression-plane'")
    assert "output > 0" in page.get_by_test_id("pg-boundary-key").inner_text()
    share = page.get_by_test_id("pg-share-url").get_attribute("href")
    assert share is not None and "activations=tanh%2Crelu" in share and "l1=0.001" in share
    other = lab_page(share.split("/", 3)[3])
    wait_state(other, "s.setup.dataset === 'regression-plane' && s.setup.discretize")
    assert state(other)["setup"] == state(page)["setup"]
