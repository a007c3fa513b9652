"""/playground in headless Chromium: it trains, draws, shares, diverges safely and exports."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lab_fixtures import ROOT

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")

HOOKS = ["pg-play", "pg-pause", "pg-step", "pg-reset", "pg-dataset", "pg-lr", "pg-batch-size",
         "pg-activation", "pg-init", "pg-optimizer", "pg-add-layer", "pg-remove-layer",
         "pg-epoch", "pg-loss-train", "pg-loss-test", "pg-accuracy-test", "pg-boundary-canvas",
         "pg-network-canvas", "pg-view", "pg-status", "pg-export-python", "pg-share-url"]
READOUTS = ["pg-epoch", "pg-loss-train", "pg-loss-test", "pg-accuracy-test"]


def value(page: Any, testid: str) -> float:
    """A readout's full-precision number, from its data-value."""
    return float(page.get_by_test_id(testid).get_attribute("data-value"))


def value_js(testid: str) -> str:
    return f"Number(document.querySelector('[data-testid=\"{testid}\"]').dataset.value)"


def state(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("() => window.backpropLab.state()")
    return result


def pixels(page: Any, testid: str) -> str:
    """The canvas's pixels, as a PNG data URL."""
    return str(page.evaluate(
        f"() => document.querySelector('[data-testid=\"{testid}\"]').toDataURL()"))


def next_frame(page: Any) -> None:
    """Wait until the page has drawn what it has received (two animation frames)."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame("
                  "() => requestAnimationFrame(done)))")


def wait_setup(page: Any, field: str, expected: object) -> None:
    page.wait_for_function(
        f"(v) => JSON.stringify(window.backpropLab.state().setup.{field}) === JSON.stringify(v)",
        arg=expected, timeout=10_000)


def set_number(page: Any, testid: str, number: float) -> None:
    field = page.get_by_test_id(testid)
    field.fill(repr(number))
    field.dispatch_event("change")


def steps(page: Any, count: int) -> None:
    """Press step ``count`` times and wait until the server has taken them all."""
    start = int(state(page)["step"])
    for _ in range(count):
        page.get_by_test_id("pg-step").click()
    page.wait_for_function(f"() => window.backpropLab.state().step === {start + count}",
                           timeout=10_000)


def test_hooks_then_play_on_circles_learns_and_redraws(lab_page: Callable[..., Any],
                                                      artifacts: Path) -> None:
    page = lab_page("playground")
    for testid in HOOKS:
        assert page.get_by_test_id(testid).count() == 1, testid
    options = page.get_by_test_id("pg-dataset").evaluate(
        "(s) => [...s.options].map((o) => o.value)")
    assert {"circles", "xor", "gaussians", "spirals", "moons", "three-class",
            "regression"} <= set(options)
    views = page.get_by_test_id("pg-view").evaluate("(s) => [...s.options].map((o) => o.value)")
    assert views == ["forward", "backward"]
    assert state(page)["setup"]["dataset"] == "circles"
    page.wait_for_function(f"() => {value_js('pg-loss-test')} > 0.3")  # untrained
    before = pixels(page, "pg-boundary-canvas")
    page.get_by_test_id("pg-play").click()
    page.wait_for_function(f"() => {value_js('pg-epoch')} >= 1", timeout=20_000)
    page.wait_for_function(f"() => {value_js('pg-loss-test')} < 0.1", timeout=20_000)
    page.get_by_test_id("pg-pause").click()
    page.wait_for_function("() => !window.backpropLab.state().playing")
    assert pixels(page, "pg-boundary-canvas") != before
    for testid in READOUTS:
        assert math.isfinite(value(page, testid)), testid
    assert value(page, "pg-accuracy-test") > 0.9
    confusion = state(page)["confusion"]
    assert sum(map(sum, confusion)) == len(state(page)["points"]["test"])
    page.screenshot(path=str(artifacts / "playground.png"))  # docs/img/playground.png is one


def test_dataset_lr_activation_and_layers_take_effect(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    first_points = state(page)["points"]["train"]
    page.get_by_test_id("pg-dataset").select_option("xor")
    wait_setup(page, "dataset", "xor")
    assert state(page)["points"]["train"] != first_points
    set_number(page, "pg-lr", 0.03)
    wait_setup(page, "lr", 0.03)
    page.get_by_test_id("pg-activation").select_option("relu")
    wait_setup(page, "activation", "relu")
    assert [layer["activation"] for layer in state(page)["network"]["layers"]] == [
        "relu", "relu", "sigmoid"]
    network_before = pixels(page, "pg-network-canvas")
    page.get_by_test_id("pg-add-layer").click()
    wait_setup(page, "layers", [4, 4, 4])
    assert len(state(page)["network"]["layers"]) == 4
    next_frame(page)
    assert pixels(page, "pg-network-canvas") != network_before
    page.get_by_test_id("pg-remove-layer").click()
    page.get_by_test_id("pg-remove-layer").click()
    wait_setup(page, "layers", [4])
    # the new settings train: one step moves the loss
    loss = value(page, "pg-loss-train")
    steps(page, 5)
    assert value(page, "pg-loss-train") != loss
    page.get_by_test_id("pg-dataset").select_option("regression")
    wait_setup(page, "dataset", "regression")
    assert state(page)["task"] == "regression"
    assert state(page)["network"]["layers"][-1]["activation"] == "linear"


def test_shared_url_reproduces_the_same_test_loss(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    page.get_by_test_id("pg-dataset").select_option("moons")
    wait_setup(page, "dataset", "moons")
    page.get_by_test_id("pg-optimizer").select_option("adam")
    wait_setup(page, "optimizer", "adam")
    set_number(page, "pg-lr", 0.02)
    wait_setup(page, "lr", 0.02)
    set_number(page, "pg-batch-size", 7)
    wait_setup(page, "batch_size", 7)
    page.get_by_test_id("pg-reset").click()
    steps(page, 12)
    loss = value(page, "pg-loss-test")
    url = page.get_by_test_id("pg-share-url").get_attribute("href")
    assert url is not None and "dataset=moons" in url and "optimizer=adam" in url
    other = lab_page(url.split("/", 3)[3])
    wait_setup(other, "dataset", "moons")
    wait_setup(other, "batch_size", 7)
    assert state(other)["setup"] == state(page)["setup"]
    steps(other, 12)
    assert value(other, "pg-loss-test") == loss


def test_backward_view_paints_gradients_that_change_with_training(
        lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    forward = pixels(page, "pg-network-canvas")
    page.get_by_test_id("pg-view").select_option("backward")
    next_frame(page)
    backward = pixels(page, "pg-network-canvas")
    assert backward != forward
    gradients = state(page)["network"]["layers"][0]["dW"]
    steps(page, 30)
    next_frame(page)
    assert state(page)["network"]["layers"][0]["dW"] != gradients
    assert pixels(page, "pg-network-canvas") != backward
    assert "∂L/∂w" in page.locator("#network-legend").inner_text()


def test_lr_10_on_spirals_diverges_is_rewound_and_marks_a_suggested_lr(
        lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    page.get_by_test_id("pg-dataset").select_option("spirals")
    wait_setup(page, "dataset", "spirals")
    page.get_by_test_id("pg-optimizer").select_option("sgd")
    wait_setup(page, "optimizer", "sgd")
    set_number(page, "pg-lr", 10)
    wait_setup(page, "lr", 10)
    page.get_by_test_id("pg-play").click()
    page.wait_for_function(
        "() => /diverg/.test(document.querySelector('[data-testid=\"pg-status\"]').textContent)",
        timeout=20_000)
    shown = state(page)
    assert not shown["playing"]
    assert shown["step"] == shown["diverged_at"] - 1  # rewound to the last good step
    for testid in READOUTS:
        assert math.isfinite(value(page, testid)), testid
    suggested = float(page.get_by_test_id("pg-suggested-lr").get_attribute("data-value"))
    assert 0 < suggested < 10 and suggested == shown["suggested_lr"]
    assert page.get_by_test_id("pg-suggested-lr").is_visible()
    status = page.get_by_test_id("pg-status").inner_text()
    assert re.search(r"diverged at step \d+", status) and "lowers the training loss" in status
    assert not re.search(r"×1(?![\d.])", status)
    # play again as it is: the page says what to do instead of doing nothing
    page.get_by_test_id("pg-play").click()
    page.wait_for_function("() => window.backpropLab.lastError && "
                           "window.backpropLab.lastError.field === 'lr'")
    assert "lower lr (to" in page.get_by_test_id("pg-error").inner_text()
    assert not state(page)["playing"]


def test_exported_script_prints_the_same_test_loss(lab_page: Callable[..., Any],
                                                   tmp_path: Path) -> None:
    page = lab_page("playground")
    page.get_by_test_id("pg-optimizer").select_option("rmsprop")
    wait_setup(page, "optimizer", "rmsprop")
    set_number(page, "pg-lr", 0.01)
    wait_setup(page, "lr", 0.01)
    steps(page, 17)
    loss = value(page, "pg-loss-test")
    with page.expect_download() as download:
        page.get_by_test_id("pg-export-python").click()
    script = tmp_path / "run.py"
    download.value.save_as(script)
    assert page.get_by_test_id("pg-export-text").input_value() == script.read_text()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, timeout=120, check=True)
    printed = re.fullmatch(r"step 17 test loss (\S+)", result.stdout.strip())
    assert printed is not None, result.stdout
    assert float(printed.group(1)) == loss


def test_click_an_edge_to_explain_and_edit_it_and_paint_the_check(
        lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    steps(page, 3)
    canvas = page.get_by_test_id("pg-network-canvas").bounding_box()
    edge = next(e for e in page.evaluate("() => window.backpropLab.targets()")["edges"]
                if e["layer"] == 1 and e["row"] == 2 and e["col"] == 3)
    # a third of the way along (in the middle, edges between equal layers cross)
    page.mouse.click(canvas["x"] + edge["x0"] + (edge["x1"] - edge["x0"]) / 3,
                     canvas["y"] + edge["y0"] + (edge["y1"] - edge["y0"]) / 3)
    assert page.get_by_test_id("pg-weight-value").is_visible()
    assert float(page.get_by_test_id("pg-weight-value").input_value()) == \
        state(page)["network"]["layers"][1]["W"][2][3]
    page.get_by_test_id("pg-explain").click()
    page.wait_for_function("() => window.backpropLab.state().explanation")
    explanation = state(page)["explanation"]
    assert (explanation["layer"], explanation["row"], explanation["col"]) == (1, 2, 3)
    assert value(page, "pg-explain-mean") == explanation["mean"]
    assert value(page, "pg-explain-update") == explanation["optimizer_update"]
    rows = page.get_by_test_id("pg-explanation").locator("tr")
    assert rows.count() == 1 + len(explanation["rows"])
    steps(page, 1)  # the step explained is the step taken
    assert state(page)["network"]["layers"][1]["W"][2][3] == explanation["optimizer_update"]
    # edit that weight
    page.get_by_test_id("pg-weight-value").fill("1.5")
    page.get_by_test_id("pg-weight-set").click()
    page.wait_for_function(
        "() => window.backpropLab.state().network.layers[1].W[2][3] === 1.5")
    # the gradient check, painted on the edges
    before = pixels(page, "pg-network-canvas")
    page.get_by_test_id("pg-gradient-check").click()
    page.wait_for_function("() => window.backpropLab.state().gradient_check")
    assert page.get_by_test_id("pg-check-verdict").inner_text() == "PASS"
    page.get_by_test_id("pg-paint-check").check()
    next_frame(page)
    assert pixels(page, "pg-network-canvas") != before


def test_classroom_link_hides_and_locks_controls(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground?dataset=xor&layers=3&hide=lr,optimizer&lock=1")
    wait_setup(page, "dataset", "xor")
    wait_setup(page, "layers", [3])
    page.wait_for_function("() => (window.backpropLab.state().locked || []).includes('layers')")
    assert not page.get_by_test_id("pg-lr").is_visible()
    assert not page.get_by_test_id("pg-optimizer").is_visible()
    assert page.get_by_test_id("pg-dataset").is_disabled()
    assert page.get_by_test_id("pg-add-layer").is_disabled()
    assert page.get_by_test_id("pg-play").is_enabled()
    share = page.get_by_test_id("pg-share-url").get_attribute("href")
    assert share is not None and "hide=lr%2Coptimizer" in share and "lock=1" in share
    steps(page, 2)  # a locked setup still trains


def test_the_replay_slider_goes_back_to_an_earlier_step(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    steps(page, 20)
    loss_at_20 = value(page, "pg-loss-test")
    steps(page, 25)
    assert value(page, "pg-loss-test") != loss_at_20
    slider = page.get_by_test_id("pg-replay")
    assert slider.get_attribute("max") == "45" and slider.get_attribute("min") == "0"
    slider.evaluate("(s) => { s.value = '20'; s.dispatchEvent(new Event('change')); }")
    page.wait_for_function("() => window.backpropLab.state().step === 20")
    assert value(page, "pg-loss-test") == loss_at_20
    assert value(page, "pg-step-count") == 20


def test_the_loss_surface_is_drawn_with_its_path(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    page.get_by_test_id("pg-play").click()
    page.wait_for_function(f"() => {value_js('pg-epoch')} >= 3", timeout=20_000)
    page.get_by_test_id("pg-pause").click()
    page.wait_for_function("() => !window.backpropLab.state().playing")
    blank = pixels(page, "pg-surface-canvas")
    page.get_by_test_id("pg-surface").click()
    page.wait_for_function("() => window.backpropLab.state().surface")
    surface = state(page)["surface"]
    assert len(surface["path"]) >= 2 and surface["path"][-1] == pytest.approx([0, 0], abs=1e-9)
    next_frame(page)
    assert pixels(page, "pg-surface-canvas") != blank
    # the middle of the grid is the current weights: the training loss on show
    centre = surface["losses"][len(surface["losses"]) // 2]
    assert centre == pytest.approx(value(page, "pg-loss-train"), rel=1e-9)


def test_batch_modes_and_ab_compare_are_drawn(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    blank = pixels(page, "pg-batch-canvas")
    page.get_by_test_id("pg-batch-epochs").fill("4")
    page.get_by_test_id("pg-batch-modes").click()
    page.wait_for_function("() => window.backpropLab.state().batch_modes")
    modes = state(page)["batch_modes"]["modes"]
    assert [mode["updates_per_epoch"] for mode in modes] == [100, 10, 1]
    next_frame(page)
    by_epochs = pixels(page, "pg-batch-canvas")
    assert by_epochs != blank
    page.get_by_test_id("pg-batch-axis").select_option("updates")
    next_frame(page)
    assert pixels(page, "pg-batch-canvas") != by_epochs
    # A/B: B with lr 0.5 keeps step with A
    page.get_by_test_id("pg-compare-field").select_option("lr")
    page.get_by_test_id("pg-compare-value").fill("0.5")
    page.get_by_test_id("pg-compare").click()
    page.wait_for_function("() => window.backpropLab.state().compare")
    before = pixels(page, "pg-boundary-canvas")
    steps(page, 30)
    page.wait_for_function("() => window.backpropLab.state().compare.step === 30")
    assert value(page, "pg-compare-step") == 30
    assert value(page, "pg-compare-loss-test") != value(page, "pg-loss-test")
    assert "lr = 0.5" in page.get_by_test_id("pg-compare-label").inner_text()
    next_frame(page)
    assert pixels(page, "pg-boundary-canvas") != before
    page.get_by_test_id("pg-compare-stop").click()
    page.wait_for_function("() => window.backpropLab.state().compare === null")


def test_points_by_mouse_and_files_both_ways(lab_page: Callable[..., Any],
                                             tmp_path: Path) -> None:
    import backprop as bp

    page = lab_page("playground")
    canvas = page.get_by_test_id("pg-boundary-canvas")
    box = canvas.bounding_box()
    n = len(state(page)["points"]["train"])
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(*centre)
    page.wait_for_function(f"() => window.backpropLab.state().points.train.length === {n + 1}")
    page.keyboard.down("Shift")
    page.mouse.click(centre[0] + 30, centre[1])
    page.keyboard.up("Shift")
    page.wait_for_function(f"() => window.backpropLab.state().points.train.length === {n + 2}")
    added = state(page)["points"]["train"][-2:]
    assert [point[2] for point in added] == [0, 1]
    view = state(page)["box"]
    assert abs(added[0][0] - (view[0] + view[1]) / 2) < 0.05 * (view[1] - view[0])
    page.keyboard.down("Alt")
    page.mouse.click(*centre)
    page.keyboard.up("Alt")
    page.wait_for_function(f"() => window.backpropLab.state().points.train.length === {n + 1}")
    # the data as CSV, and back in
    with page.expect_download() as download:
        page.get_by_test_id("pg-csv-download").click()
    csv_path = tmp_path / "data.csv"
    download.value.save_as(csv_path)
    assert csv_path.read_text().splitlines()[0] == "x1,x2,label"
    page.get_by_test_id("pg-dataset").select_option("moons")
    wait_setup(page, "dataset", "moons")
    page.locator("#csv-upload").set_input_files(str(csv_path))
    page.wait_for_function(
        f"() => window.backpropLab.state().points.train.length"
        f" + window.backpropLab.state().points.test.length === {n + 1 + 100}")
    # the model as a file the library reads, and back in
    steps(page, 10)
    with page.expect_download() as download:
        page.get_by_test_id("pg-model-download").click()
    model_path = tmp_path / "model.npz"
    download.value.save_as(model_path)
    net = bp.load(model_path)
    assert net.n_params == sum(len(layer["W"]) * (len(layer["W"][0]) + 1)
                               for layer in state(page)["network"]["layers"])
    page.get_by_test_id("pg-add-layer").click()
    wait_setup(page, "layers", [4, 4, 4])
    page.locator("#model-upload").set_input_files(str(model_path))
    wait_setup(page, "layers", [4, 4])
    assert state(page)["loaded"]


def test_play_draws_at_least_ten_updates_a_second(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground")
    page.evaluate("() => { window.updates = []; window.backpropLab.onState.push("
                  "(s, m) => { if (m.playing) window.updates.push(performance.now()); }); }")
    page.get_by_test_id("pg-play").click()
    page.wait_for_timeout(4000)
    page.get_by_test_id("pg-pause").click()
    times = page.evaluate("() => window.updates")
    assert len(times) > 10
    rate = (len(times) - 1) / ((times[-1] - times[0]) / 1000)
    assert rate >= 10, f"{rate:.1f} updates a second"
