"""A PNG of each page's last frame, drawn from the page's state, for static notebooks.

A notebook rendered without a kernel (a documentation site, a file viewer) cannot run
a widget, so each widget's display also carries a still image of what the page showed
when it was displayed: the playground's output map and points with its loss curve,
the regression's points and line, the sandbox's network with each unit's a. Drawn
with Pillow from the numbers the page received (the same colours as the page's
scripts); without Pillow there is no image, only the note.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: The page's colours (draw.js): one per class, and the diverging ends.
CLASS_RGB = np.array([[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40],
                      [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
                      [188, 189, 34], [23, 190, 207]], dtype=np.float64)
INK = (29, 35, 48)
MUTED = (91, 100, 117)
LINE = (213, 218, 227)
SIZE = 320
STRIP = 90


def _pillow() -> Any:
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        return None
    return Image, ImageDraw


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def diverging(t: np.ndarray) -> np.ndarray:
    """draw.js's diverging colour: orange (0), white (½), blue (1); (..., 3)."""
    s = np.abs(t - 0.5)[..., None] * 2
    end = np.where((t < 0.5)[..., None], CLASS_RGB[0], CLASS_RGB[1])
    return np.asarray(255 + (end - 255) * s)


def output_image(boundary: dict[str, Any]) -> np.ndarray:
    """The output map as RGB cells (size, size, 3), as draw.js's outputImage paints it."""
    size = int(boundary["size"])
    maps = [np.frombuffer(base64.b64decode(m), dtype=np.uint8).astype(np.float64) / 255
            for m in boundary["maps"]]
    if len(maps) >= 3:
        rgb = np.zeros((size * size, 3))
        for k, p in enumerate(maps):
            rgb += p[:, None] * (255 + (CLASS_RGB[k % len(CLASS_RGB)] - 255) * 0.6)
    else:
        rgb = diverging(0.5 + (maps[-1] - 0.5) * 0.7)
    return np.clip(rgb, 0, 255).reshape(size, size, 3).astype(np.uint8)


def _point_colour(state: dict[str, Any], target: float) -> tuple[int, int, int]:
    if state.get("task") == "classification":
        c = CLASS_RGB[int(target) % len(CLASS_RGB)]
    else:
        boundary = state.get("boundary") or {}
        low, high = boundary.get("range", [0.0, 1.0])
        c = diverging(np.array(min(1.0, max(0.0, (target - low) / ((high - low) or 1.0)))))
    return int(c[0]), int(c[1]), int(c[2])


def _curve(draw: Any, box: tuple[int, int, int, int], series: Sequence[Sequence[float | None]],
           colours: Sequence[tuple[int, int, int]]) -> None:
    """Lines of values against their index in ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    values = [v for line in series for v in line if v is not None and math.isfinite(v)]
    draw.rectangle(box, outline=LINE)
    if not values:
        return
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    for line, colour in zip(series, colours, strict=True):
        n = max(len(line) - 1, 1)
        points = [(x0 + 4 + (x1 - x0 - 8) * i / n, y1 - 4 - (y1 - y0 - 8) * (v - low) / span)
                  for i, v in enumerate(line) if v is not None and math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)


def playground_frame(state: dict[str, Any]) -> bytes | None:
    """The output map (or just the points where no boundary is drawn) and the loss curve."""
    pillow = _pillow()
    if pillow is None:
        return None
    Image, ImageDraw = pillow
    image = Image.new("RGB", (SIZE, SIZE + STRIP), "white")
    if state.get("boundary"):
        cells = Image.fromarray(output_image(state["boundary"]), "RGB")
        image.paste(cells.resize((SIZE, SIZE), Image.Resampling.BILINEAR), (0, 0))
    draw = ImageDraw.Draw(image)
    box = state.get("box")
    points = state.get("points") or {}
    if box:
        for split in ("train", "test"):
            for x1, x2, target in points.get(split, []):
                px = (x1 - box[0]) / (box[1] - box[0]) * SIZE
                py = (box[3] - x2) / (box[3] - box[2]) * SIZE
                colour = _point_colour(state, target)
                fill, outline = (colour, "white") if split == "train" else ("white", colour)
                draw.ellipse((px - 3, py - 3, px + 3, py + 3), fill=fill, outline=outline)
    history = state.get("history") or []
    _curve(draw, (4, SIZE + 22, SIZE - 4, SIZE + STRIP - 4),
           [[row[2] for row in history], [row[3] for row in history]],
           [INK, MUTED])
    text = f"step {state.get('step', 0)}  ·  train loss {_number(state.get('loss_train'))}"
    if state.get("accuracy_test") is not None:
        text += f"  ·  test accuracy {_number(state['accuracy_test'])}"
    draw.text((6, SIZE + 5), text, fill=INK)
    return _png(image)


def regression_frame(state: dict[str, Any]) -> bytes | None:
    """The points, the line a = w·x + b now, and the loss curve."""
    pillow = _pillow()
    if pillow is None:
        return None
    Image, ImageDraw = pillow
    image = Image.new("RGB", (SIZE, SIZE + STRIP), "white")
    draw = ImageDraw.Draw(image)
    x0, x1, y0, y1 = state.get("data_view") or [-1.0, 1.0, -1.0, 1.0]

    def pixel(x: float, y: float) -> tuple[float, float]:
        return (x - x0) / (x1 - x0) * SIZE, (y1 - y) / (y1 - y0) * SIZE

    draw.rectangle((0, 0, SIZE - 1, SIZE - 1), outline=LINE)
    model = state.get("model") or {}
    if "w" in model and "b" in model:
        w, b = model["w"], model["b"]
        draw.line([pixel(x0, w * x0 + b), pixel(x1, w * x1 + b)],
                  fill=tuple(int(c) for c in CLASS_RGB[1]), width=2)
    for x, y in state.get("points") or []:
        px, py = pixel(x, y)
        draw.ellipse((px - 3, py - 3, px + 3, py + 3), fill=tuple(int(c) for c in CLASS_RGB[0]))
    trace = state.get("trace") or []
    _curve(draw, (4, SIZE + 22, SIZE - 4, SIZE + STRIP - 4), [[row[3] for row in trace]], [INK])
    draw.text((6, SIZE + 5), f"step {state.get('step', 0)}  ·  loss {_number(model.get('loss'))}",
              fill=INK)
    return _png(image)


def sandbox_frame(state: dict[str, Any]) -> bytes | None:
    """The network: every unit with its a for the sample shown, every weight as a line."""
    pillow = _pillow()
    if pillow is None:
        return None
    Image, ImageDraw = pillow
    layers = state.get("layers") or []
    sample = int(state.get("sample", 1)) - 1
    X = state.get("X") or [[]]
    columns = [list(X[sample])] + [list(layer.get("a") or []) for layer in layers]
    width = 120 * len(columns)
    height = 60 + 56 * max((len(c) for c in columns), default=1)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def centre(column: int, unit: int) -> tuple[float, float]:
        n = len(columns[column])
        return 60 + 120 * column, height / 2 + (unit - (n - 1) / 2) * 56

    for number, layer in enumerate(layers, start=1):
        weights = layer.get("W") or []
        largest = max((abs(w) for row in weights for w in row), default=1.0) or 1.0
        for j, row in enumerate(weights):
            for k, w in enumerate(row):
                colour = tuple(int(c) for c in CLASS_RGB[1 if w >= 0 else 0])
                draw.line([centre(number - 1, k), centre(number, j)], fill=colour,
                          width=max(1, round(4 * abs(w) / largest)))
    for column, values in enumerate(columns):
        for unit, value in enumerate(values):
            cx, cy = centre(column, unit)
            draw.ellipse((cx - 22, cy - 22, cx + 22, cy + 22), fill="white", outline=INK)
            draw.text((cx - 18, cy - 6), _number(value, 4), fill=INK)
    draw.text((6, 6), f"loss {_number(state.get('loss'))}  ·  η {_number(state.get('lr'))}",
              fill=INK)
    return _png(image)


def _number(value: Any, digits: int = 6) -> str:
    """A number as the page's readouts show it (6 significant digits), or "—"."""
    if value is None:
        return "—"
    if not isinstance(value, int | float):
        return str(value)
    return f"{value:.{digits}g}".replace("-", "−")
