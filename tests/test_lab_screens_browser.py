"""Every lab page on every screen a classroom has: a laptop (1280×800), a projector
(1024×768) and a phone (390×844). In Chromium, looking at what each page shows: a
viewport meta tag, no horizontal scrolling, columns stacked below 900 px, canvas text of
12 px or more and never under a unit, a legend and labelled axes on every chart. The
tests save a screenshot of each page at each size into docs/img/lab/ for the documentation.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lab_fixtures import ROOT

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")

SCREENS = {"laptop": (1280, 800), "projector": (1024, 768), "phone": (390, 844)}
PAGES = ["index", "regression", "sandbox", "playground"]
#: Where the screenshots go (committed: the documentation shows them).
SHOTS = ROOT / "docs" / "img" / "lab"
#: Each page's columns, which stack below 900 px.
COLUMNS = {"playground": "main.playground > section", "regression": "main.regression > section",
           "sandbox": ".sb-main > section"}

#: Records every text a canvas draws: its canvas, the text and the font.
RECORD_CANVAS_TEXT = """
(() => {
  const drawn = [];
  Object.defineProperty(window, "canvasTextDrawn", { value: drawn });
  for (const name of ["fillText", "strokeText"]) {
    const original = CanvasRenderingContext2D.prototype[name];
    CanvasRenderingContext2D.prototype[name] = function (text, ...rest) {
      if (this.canvas && this.canvas.isConnected) {
        drawn.push({ canvas: this.canvas.id, text: String(text), font: this.font });
      }
      return original.call(this, text, ...rest);
    };
  }
})();
"""

NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def open_screen(lab_page: Callable[..., Any], name: str, screen: str) -> Any:
    width, height = SCREENS[screen]
    page = lab_page("" if name == "index" else name, width, height, RECORD_CANVAS_TEXT)
    if name == "playground":  # a network part-way through learning, its loss curve drawn
        page.evaluate("() => window.backpropLab.send('configure', {speed: 20})")
        page.evaluate("() => window.backpropLab.send('play')")
        page.wait_for_function("() => window.backpropLab.state().step >= 300", timeout=30_000)
        page.evaluate("() => window.backpropLab.send('pause')")
        page.wait_for_function("() => !window.backpropLab.state().playing")
    elif name == "regression":
        page.evaluate("() => window.backpropLab.send('step', {count: 12})")
        page.wait_for_function("() => window.backpropLab.state().step === 12", timeout=10_000)
    page.evaluate(NEXT_FRAME)
    return page


def save_screenshot(page: Any, path: Path) -> None:
    """The visible screen as a PNG, in 256 colours when Pillow is there (a small file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = page.screenshot()
    try:
        from PIL import Image
    except ImportError:
        path.write_bytes(data)
        return
    image = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=256)
    image.save(path, optimize=True)


def canvas_texts(page: Any) -> list[dict[str, str]]:
    texts: list[dict[str, str]] = page.evaluate("() => window.canvasTextDrawn.slice()")
    return texts


def font_px(font: str) -> float:
    match = re.search(r"(\d+(?:\.\d+)?)px", font)
    assert match, font
    return float(match.group(1))


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("name", PAGES)
def test_each_page_fits_the_screen_and_is_saved(lab_page: Callable[..., Any], name: str,
                                                screen: str) -> None:
    page = open_screen(lab_page, name, screen)
    width = SCREENS[screen][0]
    assert page.locator('meta[name="viewport"]').get_attribute("content") == \
        "width=device-width, initial-scale=1"
    scroll = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll[0] <= scroll[1], f"{name} scrolls sideways at {width} px: {scroll}"
    if name in COLUMNS:
        boxes = page.evaluate(f"() => [...document.querySelectorAll('{COLUMNS[name]}')]"
                              ".map((e) => e.getBoundingClientRect().toJSON())")
        assert len(boxes) >= 2
        lefts = {round(box["left"]) for box in boxes}
        if width < 900:  # one column: each below the other, as wide as the screen allows
            assert len(lefts) == 1, boxes
            tops = sorted(boxes, key=lambda box: box["top"])
            assert all(a["bottom"] <= b["top"] + 1 for a, b in itertools.pairwise(tops))
        else:
            assert len(lefts) == len(boxes), boxes
    for text in canvas_texts(page):
        assert font_px(text["font"]) >= 12, text
    save_screenshot(page, SHOTS / f"{name}-{width}x{SCREENS[screen][1]}.png")


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_projector_and_phone_show_the_loss_chart_and_fit_the_network(
        lab_page: Callable[..., Any], screen: str) -> None:
    page = open_screen(lab_page, "playground", screen)
    width, height = SCREENS[screen]
    network = page.get_by_test_id("pg-network-canvas").bounding_box()
    targets = page.evaluate("() => window.backpropLab.targets()")
    assert all(unit["x"] >= 0 and unit["x"] + unit["size"] <= network["width"]
               for unit in targets["units"]), "a unit is drawn outside the canvas"
    assert network["width"] <= width
    if screen == "projector":  # the output and its loss chart above the fold, as on a laptop
        chart = page.get_by_test_id("pg-loss-canvas").bounding_box()
        assert chart["y"] + chart["height"] <= height, chart


@pytest.mark.parametrize("screen", list(SCREENS))
def test_delta_labels_sit_clear_of_every_unit(lab_page: Callable[..., Any], screen: str) -> None:
    page = open_screen(lab_page, "playground", screen)
    page.get_by_test_id("pg-view").select_option("backward")
    page.wait_for_function("() => window.backpropLab.targets().labels.some("
                           "(l) => l.text.startsWith('δ̄'))")
    targets = page.evaluate("() => window.backpropLab.targets()")
    labels = targets["labels"]
    assert sum(label["text"].startswith("δ̄") for label in labels) == 4 + 4 + 1
    assert {label["text"] for label in labels} >= {"x1", "x2"}
    width = page.get_by_test_id("pg-network-canvas").bounding_box()["width"]
    for label in labels:
        assert label["x"] >= 0 and label["x"] + label["width"] <= width, label
        for unit in targets["units"]:
            apart = (label["x"] + label["width"] <= unit["x"] or unit["x"] + unit["size"] <= label["x"]
                     or label["y"] + label["height"] <= unit["y"]
                     or unit["y"] + unit["size"] <= label["y"])
            assert apart, f"{label} is over the unit {unit}"
    for text in canvas_texts(page):
        assert font_px(text["font"]) >= 12, text


def test_every_chart_has_a_legend_and_labelled_axes(lab_page: Callable[..., Any]) -> None:
    page = lab_page("playground", 1280, 800, RECORD_CANVAS_TEXT)
    page.evaluate("() => window.backpropLab.send('step', {count: 40})")
    page.wait_for_function("() => window.backpropLab.state().step === 40")
    page.get_by_test_id("pg-batch-epochs").fill("2")
    page.get_by_test_id("pg-batch-modes").click()
    page.wait_for_function("() => window.backpropLab.state().batch_modes")
    page.get_by_test_id("pg-surface").click()
    page.wait_for_function("() => window.backpropLab.state().surface")
    page.evaluate(NEXT_FRAME)
    drawn: dict[str, set[str]] = {}
    for text in canvas_texts(page):
        drawn.setdefault(text["canvas"], set()).add(text["text"])
    expected = {
        "loss-canvas": {"step", "loss", "train", "test"},
        "norm-canvas": {"step", "‖∂L/∂θ‖", "layer 1", "layer 2", "output layer"},
        "batch-canvas": {"epoch", "training loss", "online", "full batch"},
        "surface-canvas": {"α: direction 1", "β: direction 2", "path so far", "now"},
        "histogram-canvas": {"a: activations", "δ: errors"},
        "boundary-canvas": {"x1 →", "x2 ↑"},
    }
    for canvas, words in expected.items():
        assert words <= drawn.get(canvas, set()), (canvas, drawn.get(canvas))
        numbers = [t for t in drawn[canvas] if re.fullmatch(r"[−-]?[\d.]+(e[−-]?\d+)?|10[⁻⁰-⁹]+", t)]
        assert len(numbers) >= 2, f"{canvas} has no tick labels: {drawn[canvas]}"
    # log ticks are whole powers of ten, written as numbers ("1e0.3" was a tick once)
    assert not [t for t in drawn["norm-canvas"] if t.startswith("1e")]
    # the batch modes against updates: a log axis, labelled so
    page.get_by_test_id("pg-batch-axis").select_option("updates")
    page.wait_for_function("() => window.canvasTextDrawn.some((t) => t.text === 'update (log scale)')")


def test_regression_charts_keep_their_axes_at_twelve_pixels(lab_page: Callable[..., Any]) -> None:
    page = open_screen(lab_page, "regression", "projector")
    drawn: dict[str, set[str]] = {}
    for text in canvas_texts(page):
        assert font_px(text["font"]) >= 12, text
        drawn.setdefault(text["canvas"], set()).add(text["text"])
    assert {"x", "y"} <= drawn["data-canvas"] and {"step", "L"} <= drawn["loss-canvas"]
    assert {"w", "b"} <= drawn["surface-canvas"]


def test_the_index_says_where_to_begin(lab_page: Callable[..., Any]) -> None:
    page = lab_page("", 390, 844)
    steps = page.get_by_test_id("index-path").locator("li")
    assert steps.count() == 3
    for i, name in enumerate(["regression", "sandbox", "playground"]):
        step = steps.nth(i)
        assert step.get_attribute("data-testid") == f"index-step-{name}"
        assert step.get_by_test_id(f"index-{name}").get_attribute("href") == f"/{name}"
        assert "notebook:" in step.get_by_test_id(f"index-notebook-{name}").inner_text()
    page.get_by_test_id("index-regression").click()
    page.wait_for_function("() => window.backpropLab && window.backpropLab.state().type"
                           " === 'state' && window.backpropLab.state().page === 'regression'")


@pytest.mark.parametrize("name", ["regression", "playground"])
def test_space_plays_and_pauses_every_page_that_plays(lab_page: Callable[..., Any],
                                                      name: str) -> None:
    page = lab_page(name)
    page.locator("h1").click()
    page.keyboard.press(" ")
    page.wait_for_function("() => window.backpropLab.state().playing")
    page.keyboard.press(" ")
    page.wait_for_function("() => !window.backpropLab.state().playing")
