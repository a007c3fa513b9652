"""Numbers as the report's table cells show them: an en dash where there is none."""

from __future__ import annotations


def significant(x: float | None, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, or an en dash."""
    if x is None:
        return "–"
    if abs(x) >= 10**digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def seconds(x: float | None) -> str:
    """Seconds with three decimals below 10 s, fewer above."""
    if x is None:
        return "–"
    return f"{x:.3f}" if x < 10 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def ratio(x: float | None) -> str:
    """A ratio to two decimals."""
    return "–" if x is None else f"{x:.2f}"
