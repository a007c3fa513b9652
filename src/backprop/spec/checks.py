"""The checks every spec field goes through: one-line errors that name the field and value."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from backprop.errors import OptionError, OptionTypeError


@contextmanager
def naming(field: str) -> Iterator[None]:
    """Tag an OptionError raised inside with the field it is about (``error.field``)."""
    try:
        yield
    except OptionError as error:
        if error.field is None:
            error.field = field
        raise


def set_field(spec: object, name: str, value: object) -> None:
    """Store a normalized field of a frozen spec (only its own __post_init__ does)."""
    object.__setattr__(spec, name, value)


def flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise OptionTypeError(f"{field} must be True or False, got {value!r}")
    return value


def number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        # NumPy scalars are numbers too
        if not (hasattr(value, "dtype") and hasattr(value, "item")):
            raise OptionTypeError(f"{field} must be a number, got {value!r}")
        value = cast(Any, value).item()
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionTypeError(f"{field} must be a number, got {value!r}")
    return float(value)


def unit_interval(value: object, field: str) -> float:
    """A number in [0, 1) (a dropout rate, a β of Adam, RMSProp's α)."""
    rate = number(value, field)
    if not (math.isfinite(rate) and 0.0 <= rate < 1.0):
        raise OptionError(f"{field} must be in [0, 1), got {value!r}")
    return rate


