"""What an option's value may be: its kind (a converter) and its checks.

A kind turns a command-line string or a TOML value into the option's value, or raises a
one-line :class:`~backprop.errors.OptionError` naming ``label`` (the flag, or the config
file and key); a check says what is wrong with a converted value ("must be positive"),
or None. :func:`show` writes a value as the help and the error messages write it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

from backprop.cli.common import parse_list
from backprop.errors import OptionError
from backprop.limits import limit

T = TypeVar("T")
#: A kind: (value, label) → the option's value, or OptionError naming ``label``.
Kind: TypeAlias = Callable[[Any, str], T]
#: A check: None when the value is fine, else what is wrong ("must be positive").
Check: TypeAlias = Callable[[Any], str | None]


class Required:
    """The default of an option or argument that the user must give."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = Required()


# -- kinds -------------------------------------------------------------------------
def text(value: Any, label: str) -> str:
    if not isinstance(value, str):
        raise OptionError(f"{label} must be a string, got {value!r}")
    return value


def texts(value: Any, label: str) -> list[str]:
    """Strings: an option given more than once, or a TOML list (one string is a list of one)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OptionError(f"{label} must be a string or a list of strings, got {value!r}")
    return list(value)


def flag(value: Any, label: str) -> bool:
    if not isinstance(value, bool):
        raise OptionError(f"{label} must be true or false, got {value!r}")
    return value


def whole(value: Any, label: str) -> int:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise OptionError(f"{label} {value!r} is not a whole number") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{label} must be a whole number, got {value!r}")
    return value


def real(value: Any, label: str) -> float:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise OptionError(f"{label} {value!r} is not a number") from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise OptionError(f"{label} must be a number, got {value!r}")
    else:
        number = float(value)
    if not math.isfinite(number):
        raise OptionError(f"{label} must be a finite number, got {value!r}")
    return number


def wholes(minimum: int, fewest: int = 0, fewest_text: str = "",
           none: str = "") -> Kind[list[int]]:
    """A list of whole numbers ≥ minimum: "128,64" on the command line, [128, 64] in TOML.

    With ``none`` (what an empty list means, e.g. "no hidden layers"), the word "none"
    gives the empty list and an empty string is refused: an empty list must be asked for."""

    def kind(value: Any, label: str) -> list[int]:
        if none and isinstance(value, str) and value.strip().lower() == "none":
            return []
        if none and isinstance(value, str) and not value.replace(",", "").strip():
            raise OptionError(f"{label} is empty; give {label} none for {none}")
        if isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise OptionError(f"{label} must be whole numbers, got {value!r}")
        return [int(v) for v in parse_list(value, label, int, minimum=minimum, fewest=fewest,
                                           fewest_text=fewest_text)]

    return kind


def choice(*names: str) -> Kind[str]:
    """One of ``names``."""

    def kind(value: Any, label: str) -> str:
        name = text(value, label)
        if name not in names:
            raise OptionError(f"{label}: unknown value {name!r}; valid: {', '.join(names)}")
        return name

    return kind


# -- checks ----------------------------------------------------------------------------
def positive(value: Any) -> str | None:
    return None if value is None or value > 0 else "must be positive"


def non_negative(value: Any) -> str | None:
    return None if value is None or value >= 0 else "must not be negative"


def at_least(minimum: int) -> Check:
    def check(value: Any) -> str | None:
        return None if value is None or value >= minimum else f"must be at least {minimum}"

    return check


def between(low: int, high: int) -> Check:
    """low ≤ value ≤ high, whole numbers (a port, say)."""

    def check(value: Any) -> str | None:
        return (None if value is None or low <= value <= high
                else f"must be between {low} and {high}")

    return check


def at_most_limit(name: str) -> Check:
    """value ≤ the limit ``name`` of :mod:`backprop.limits` (overridable by its variable)."""

    def check(value: Any) -> str | None:
        most = limit(name)
        return None if value is None or value <= most else f"must be at most {most:,} ({name})"

    return check


def all_of(*checks: Check) -> Check:
    """The first problem any of ``checks`` finds."""

    def check(value: Any) -> str | None:
        return next((problem for c in checks if (problem := c(value)) is not None), None)

    return check


def within(low: float, high: float, *, low_open: bool, high_open: bool = True) -> Check:
    """low < value (or ≤) and value < high (or ≤); the message writes the interval."""
    shown = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def check(value: Any) -> str | None:
        if value is None:
            return None
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        return None if above and below else f"must be in {shown}"

    return check


def show(value: Any) -> str:
    """A value as the help and the error messages write it: 32,32; none; true; 0.001."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(show(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
