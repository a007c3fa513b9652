"""A command's options, declared once: a frozen dataclass whose fields say everything.

Each subcommand declares one class, a subclass of :class:`Options`; each field is a
positional argument (:func:`argument`) or an option (:func:`option`) with its kind,
default, help and check, or an option several commands share (``option(SEED)``, or
``option(SEED, default=None)`` for another default)::

    @dataclass(frozen=True, kw_only=True)
    class GradcheckOptions(Options):
        batch: int = option(whole, 8, "samples in the batch", check=at_least(1))
        json: bool = option(flag, False, "print the report as JSON")

    def add_parser(subparsers: Any) -> argparse.ArgumentParser:
        return add_command(subparsers, "gradcheck", GradcheckOptions, run, help="...")

    def run(o: GradcheckOptions) -> int:
        ... o.batch ...

That declaration alone makes the parser (``--batch``, its help ending with the real
default, ``--no-json`` for a flag whose default is true, ``--config FILE.toml`` and
``--debug``), the config file's keys (the field names, dashes or underscores) and the
values the handler gets: each option's default (per dataset where it differs), then the
config file's value, then the command line's, converted by its kind and checked, with
a one-line :class:`~backprop.errors.OptionError` naming the option or the config key.
A field without :func:`option` (``batch_norm: bool = False``) is a fixed value of that
command, not an option: the shared helpers read it, the user cannot set it.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Self, TypeVar, cast, overload

from backprop.cli.option_kinds import REQUIRED, Check, flag, show, text
from backprop.errors import OptionError
from backprop.files.io import read_toml

T = TypeVar("T")
#: Where a field's metadata keeps its Option.
_DECLARED = "backprop.option"


@dataclass(frozen=True)
class Option(Generic[T]):
    """One option: ``--name-with-dashes`` on the command line, ``name`` in a config file.

    ``kind`` converts and ``check`` checks a value (:mod:`.option_kinds`); ``default``
    may be REQUIRED, or a function of the dataset's name (the command's first positional
    argument: the output folder); ``per_dataset`` gives the datasets whose default
    differs; ``shown`` is how the help writes a default that is a function or None with
    a meaning. A flag (kind ``flag``) switches on with ``--name``, or off with
    ``--no-name`` when its default is true. ``const`` is the value of the option given
    without one; ``repeat`` lets it be given more than once (its kind gets the list);
    options of one ``exclusive`` group are given one at a time. ``positional`` makes it
    an argument of the command (``rest``: all the words that follow). ``name`` is the
    field's, filled in by :meth:`Options.declaration`.
    """

    kind: Callable[[Any, str], T]
    default: Any
    help: str
    check: Check | None = None
    per_dataset: Mapping[str, Any] = field(default_factory=dict)
    shown: str | None = None
    metavar: str | None = None
    aliases: tuple[str, ...] = ()
    const: Any = None
    repeat: bool = False
    exclusive: str = ""
    positional: bool = False
    rest: bool = False
    name: str = ""

    @property
    def flag(self) -> str:
        """How the user writes it: --name, --no-name, or an argument's name."""
        if self.positional:
            return self.name
        dashed = self.name.replace("_", "-")
        return f"--no-{dashed}" if self.kind is flag and self.default is True else f"--{dashed}"

    def default_for(self, dataset: str) -> Any:
        """The default for a dataset given by name or path."""
        value = self.per_dataset.get(dataset.strip().lower(), self.default)
        return value(dataset) if callable(value) else value

    def help_text(self) -> str:
        """The help, ending with the default (and the per-dataset defaults)."""
        if self.default is REQUIRED:
            return (self.help if self.positional else f"{self.help} (required)").replace(
                "%", "%%")
        default = self.shown if self.shown is not None else show(self.default)
        if self.kind is flag:
            default = f"{self.name} = {default}"
        extra = "".join(f"; {key}: {show(value)}" for key, value in self.per_dataset.items())
        return f"{self.help} (default: {default}{extra})".replace("%", "%%")

    def convert(self, value: Any, label: str) -> T:
        """``value`` (a command-line string or a TOML value) of this option's kind, checked."""
        converted = self.kind(value, label)
        problem = self.check(converted) if self.check is not None else None
        if problem is not None:
            raise OptionError(f"{label} {problem}, got {show(converted)}")
        return converted


_UNSET: Any = object()


@overload
def option(shared: Option[T], /, **changes: Any) -> T: ...
@overload
def option(kind: Callable[[Any, str], T], /, default: Any, help: str, **details: Any) -> T: ...
def option(kind: Any, /, default: Any = _UNSET, help: str = "", **details: Any) -> Any:
    """A field that is an option: ``epochs: int = option(whole, 50, "passes", check=...)``,
    ``details`` being :class:`Option`'s other fields (check, per_dataset, shown, ...); or
    an option declared once for several commands, with ``changes`` (another default, say):
    ``activation: ActivationSpec = option(ACTIVATION, default="sigmoid")``."""
    if isinstance(kind, Option):
        changes = {**details, **({} if default is _UNSET else {"default": default}),
                   **({"help": help} if help else {})}
        return _field(dataclasses.replace(kind, **changes))
    return _field(Option(kind, default, help, **details))


def argument(help: str, kind: Callable[[Any, str], T] = text,  # type: ignore[assignment]
             default: Any = REQUIRED, **details: Any) -> T:
    """A field that is a positional argument: ``dataset: str = argument("a dataset ...")``;
    with a default it may be left out; ``rest=True`` takes every word that follows."""
    return cast(T, _field(Option(kind, default, help, positional=True, **details)))


def _field(declared: Option[Any]) -> Any:
    """A dataclass field that carries its option (and has no default of its own)."""
    return field(metadata={_DECLARED: declared})


@dataclass(frozen=True, kw_only=True)
class Options:
    """The values of a command's arguments and options; subclass it, one class a command.

    ``given`` holds the names of the options the user set (config file or command line):
    what a default must not override, and what clashes with another choice.
    """

    given: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def declaration(cls) -> tuple[Option[Any], ...]:
        """The command's arguments and options, in the order of their fields."""
        return tuple(dataclasses.replace(f.metadata[_DECLARED], name=f.name)
                     for f in dataclasses.fields(cls) if _DECLARED in f.metadata)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Self:
        """The values: each option's default for the dataset, then the config file's, then
        the command line's; converted and checked (OptionError, one line, when one is bad)."""
        declaration = cls.declaration()
        values: dict[str, Any] = {}
        for argument in (o for o in declaration if o.positional):
            word = getattr(args, argument.name, None)
            values[argument.name] = (argument.default if word is None
                                     else argument.convert(word, argument.flag))
        subject = next((v for v in values.values() if isinstance(v, str)), "")
        options = [o for o in declaration if not o.positional]
        values.update({o.name: o.default_for(subject) for o in options})
        given: set[str] = set()
        config = getattr(args, "config", None)
        if config:
            from_file = read_config(config, options)
            values.update(from_file)
            given.update(from_file)
        for o in options:
            word = getattr(args, o.name, None)
            if word is not None:
                values[o.name] = word if o.kind is flag else o.convert(word, o.flag)
                given.add(o.name)
        for o in options:
            if values[o.name] is REQUIRED:
                raise OptionError(f"{o.flag} is required")
        _check_exclusive(options, values, given)
        return cls(given=frozenset(given), **values)

    def values(self) -> dict[str, Any]:
        """{name: value} of the arguments and options, in their order (metrics' config)."""
        return {o.name: getattr(self, o.name) for o in self.declaration()}

    def with_defaults(self, defaults: Mapping[str, Any]) -> Self:
        """These values with other defaults: each of ``defaults`` where the user gave none."""
        return dataclasses.replace(
            self, **{name: value for name, value in defaults.items() if name not in self.given})


def _check_exclusive(options: Sequence[Option[Any]], values: Mapping[str, Any],
                     given: set[str]) -> None:
    """OptionError when two options of one exclusive group are both asked for."""
    for group in {o.exclusive for o in options if o.exclusive}:
        asked = [o.flag for o in options if o.exclusive == group and o.name in given
                 and values[o.name] != o.default]
        if len(asked) > 1:
            raise OptionError(f"{asked[1]} does not go with {asked[0]}")


OptionsT = TypeVar("OptionsT", bound=Options)


@dataclass(frozen=True)
class Handler(Generic[OptionsT]):
    """A subcommand's handler as argparse calls it: the parsed words in, the typed
    options to ``run``."""

    declared: type[OptionsT]
    run: Callable[[OptionsT], int]

    def __call__(self, args: argparse.Namespace) -> int:
        return self.run(self.declared.from_args(args))


def add_command(subparsers: Any, name: str, declared: type[OptionsT],
                run: Callable[[OptionsT], int], *, help: str,
                description: str | None = None) -> argparse.ArgumentParser:
    """The subcommand ``name``, its parser built from ``declared``; ``run`` gets the values."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help,
                                                            description=description)
    declaration = declared.declaration()
    for argument in (o for o in declaration if o.positional):
        nargs = (argparse.REMAINDER if argument.rest
                 else None if argument.default is REQUIRED else "?")
        parser.add_argument(argument.name, metavar=argument.metavar, nargs=nargs,
                            default=None, help=argument.help_text())
    options = [o for o in declaration if not o.positional]
    if options:
        parser.add_argument("--config", metavar="FILE.toml",
                            help="TOML file of option values, keyed by the long option names")
    for o in options:
        if o.kind is flag:
            parser.add_argument(o.flag, *o.aliases, dest=o.name, action="store_const",
                                const=not o.default, default=None, help=o.help_text())
        elif o.repeat:
            parser.add_argument(o.flag, *o.aliases, dest=o.name, action="append",
                                default=None, metavar=o.metavar, help=o.help_text())
        else:
            parser.add_argument(o.flag, *o.aliases, dest=o.name, default=None,
                                metavar=o.metavar, help=o.help_text(),
                                **({"nargs": "?", "const": o.const} if o.const is not None
                                   else {}))
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of errors")
    parser.set_defaults(run=Handler(declared, run))
    return parser


def read_config(path: str, declaration: Sequence[Option[Any]]) -> dict[str, Any]:
    """The values a TOML file sets; keys are option names, with dashes or underscores."""
    if not Path(path).exists() and not Path(path).is_symlink():
        raise OptionError(f"{path}: no such config file")
    raw = read_toml(path, "config file", OptionError)
    by_name = {o.name: o for o in declaration if not o.positional}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        o = by_name.get(key.replace("-", "_"))
        if o is None:
            valid = ", ".join(name.replace("_", "-") for name in by_name)
            raise OptionError(f"{path}: unknown key {key!r}; valid keys: {valid}")
        values[o.name] = o.convert(value, f"{path}: {key}")
    return values
