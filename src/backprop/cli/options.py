"""Options declared once: an :class:`Option` names its kind, default, check and help,
and the same declaration drives argparse, the TOML config, the defaults and the checks.

A command lists the options it takes; :func:`add_options` puts them on its parser
(with ``--config`` and ``--debug``) and :func:`resolve` gives their values:
the defaults (per dataset where they differ), then the config file, then the
command line, each value converted to its kind and checked with a one-line
:class:`~backprop.errors.OptionError` naming the option or config key.
The help of every option ends with its real default, read from the same table.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backprop.cli.common import parse_list
from backprop.errors import OptionError
from backprop.files.io import read_toml
from backprop.limits import limit

#: A kind: turns a command-line string or a TOML value into the option's value,
#: or raises OptionError naming ``label`` (the flag or the config file and key).
Kind = Callable[[Any, str], Any]
#: A check: None when the value is fine, else what is wrong ("must be positive").
Check = Callable[[Any], str | None]


# -- kinds -------------------------------------------------------------------------
def text(value: Any, label: str) -> str:
    if not isinstance(value, str):
        raise OptionError(f"{label} must be a string, got {value!r}")
    return value


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


def wholes(minimum: int, fewest: int = 0, fewest_text: str = "", none: str = "") -> Kind:
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


def choice(*names: str) -> Kind:
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


# -- the declaration ---------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """One option: ``--name-with-dashes`` on the command line, ``name`` in a config file.

    ``default`` may be a function of the dataset's name (the output folder);
    ``per_dataset`` gives the datasets whose default differs; ``shown`` is how
    the help writes a default that is a function. A flag (kind :func:`flag`)
    switches on with ``--name``, or off with ``--no-name`` when its default is true.
    """

    name: str
    kind: Kind
    default: Any
    help: str
    check: Check | None = None
    per_dataset: Mapping[str, Any] = field(default_factory=dict)
    shown: str | None = None
    metavar: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        dashed = self.name.replace("_", "-")
        return f"--no-{dashed}" if self.kind is flag and self.default is True else f"--{dashed}"

    def default_for(self, dataset: str) -> Any:
        """The default for a dataset given by name or path."""
        key = dataset.strip().lower()
        value = self.per_dataset.get(key, self.default)
        return value(dataset) if callable(value) else value

    def help_text(self) -> str:
        """The help, ending with the default (and the per-dataset defaults)."""
        default = self.shown if self.shown is not None else show(self.default)
        if self.kind is flag:
            default = f"{self.name} = {default}"
        extra = "".join(f"; {key}: {show(value)}" for key, value in self.per_dataset.items())
        return f"{self.help} (default: {default}{extra})".replace("%", "%%")

    def convert(self, value: Any, label: str) -> Any:
        """``value`` (a command-line string or a TOML value) of this option's kind, checked."""
        converted = self.kind(value, label)
        problem = self.check(converted) if self.check is not None else None
        if problem is not None:
            raise OptionError(f"{label} {problem}, got {show(converted)}")
        return converted

    def replace(self, **changes: Any) -> Option:
        """This option with other fields, e.g. another default for another command."""
        return dataclasses.replace(self, **changes)


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


# -- argparse and the config file ------------------------------------------------------------
def add_options(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """--config, each option of ``options`` (value None when not given), and --debug."""
    parser.add_argument("--config", metavar="FILE.toml",
                        help="TOML file of option values, keyed by the long option names")
    for option in options:
        if option.kind is flag:
            parser.add_argument(option.flag, *option.aliases, dest=option.name,
                                action="store_const", const=not option.default, default=None,
                                help=option.help_text())
        else:
            parser.add_argument(option.flag, *option.aliases, dest=option.name, default=None,
                                metavar=option.metavar, help=option.help_text())
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of errors")


def read_config(path: str, options: Sequence[Option]) -> dict[str, Any]:
    """The values a TOML file sets; keys are option names, with dashes or underscores."""
    if not Path(path).exists() and not Path(path).is_symlink():
        raise OptionError(f"{path}: no such config file")
    raw = read_toml(path, "config file", OptionError)
    by_name = {option.name: option for option in options}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        option = by_name.get(key.replace("-", "_"))
        if option is None:
            valid = ", ".join(name.replace("_", "-") for name in by_name)
            raise OptionError(f"{path}: unknown key {key!r}; valid keys: {valid}")
        values[option.name] = option.convert(value, f"{path}: {key}")
    return values


def resolve(
    args: argparse.Namespace,
    options: Sequence[Option],
    dataset: str = "",
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Each option's value: its default for ``dataset`` (or ``overrides``), then the
    config file's, then the command line's; converted and checked."""
    values = {option.name: option.default_for(dataset) for option in options}
    values.update(overrides or {})
    config = getattr(args, "config", None)
    if config:
        values.update(read_config(config, options))
    for option in options:
        given = getattr(args, option.name, None)
        if given is not None:
            values[option.name] = (given if option.kind is flag
                                   else option.convert(given, option.flag))
    return values
