"""Numbers and layer lists in words, as the reading writes them."""

from __future__ import annotations

import math
from collections.abc import Iterable


def number(value: float, digits: int = 2) -> str:
    """1.2e16, 3.4e-6, 0.063, 25: short, and without the exponent's + and leading 0."""
    if not math.isfinite(value):
        return "inf" if value > 0 else "-inf" if value < 0 else "NaN"
    if value != 0 and 1e-3 <= abs(value) < 1e4:
        rounded = round(value, digits - 1 - math.floor(math.log10(abs(value))))
        return f"{rounded:.{max(digits, 5)}g}"  # 100, not 1e+02
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def percent(fraction: float) -> str:
    return f"{100 * fraction:.0f}%"


def layer_list(layers: Iterable[int]) -> str:
    """[1, 2, 3, 5] → "layers 1–3 and 5"; [4] → "layer 4"."""
    values = sorted(set(layers))
    runs: list[str] = []
    start = previous = values[0]
    for value in [*values[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        runs.append(str(start) if start == previous else f"{start}–{previous}")
        if value is not None:
            start = previous = value
    if len(values) == 1:
        return f"layer {runs[0]}"
    joined = runs[0] if len(runs) == 1 else ", ".join(runs[:-1]) + " and " + runs[-1]
    return f"layers {joined}"


def finite_or_none(value: float) -> float | None:
    """JSON-ready: NaN and inf as None."""
    return value if math.isfinite(value) else None
