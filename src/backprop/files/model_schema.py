"""The model file's header, declared: what each field holds, checked before any is used.

A header is JSON that a file may have been given by anyone, so each field is
checked for its JSON type (a whole number is not a string, a list or a bool;
a number is finite) before a layer, loss or network is built from it. A
layer's fields are the parameters of its class's constructor, with the types
of their annotations: the constructor is the one declaration of what a layer
config holds, and it then checks the values' ranges itself.

Every violation is a :class:`~backprop.errors.ModelFileError` that names the
file and the field (``network.layers[1].n_out``) in one line.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from backprop.errors import BackpropError, ModelFileError
from backprop.limits import limit
from backprop.nn.layer_kinds import LAYER_KINDS
from backprop.nn.layers import Layer
from backprop.version import __version__

#: Check of one value: ``problem(value)`` is None when it fits, else what is wrong.
Rule = Callable[[Any], str | None]


def _describe(value: Any) -> str:
    """A value as a message quotes it: short, with its JSON type."""
    kind = {bool: "true/false", int: "a whole number", float: "a number", str: "the string",
            list: "a list", dict: "an object", type(None): "null"}.get(type(value), "a value")
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}" if isinstance(value, str | int | float) else kind


def whole(minimum: int | None = None) -> Rule:
    def rule(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, got {_describe(value)}"
        if minimum is not None and value < minimum:
            return f"must be at least {minimum}, got {value}"
        return None

    return rule


def number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, got {_describe(value)}"
    if not math.isfinite(value):
        return f"must be a finite number, got {value}"
    return None


def text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, got {_describe(value)}"


def flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {_describe(value)}"


def obj(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be an object, got {_describe(value)}"


def nullable(rule: Rule) -> Rule:
    return lambda value: None if value is None else rule(value)


def either(*rules: Rule) -> Rule:
    """The first rule's complaint when no rule accepts the value."""

    def rule(value: Any) -> str | None:
        problems = [r(value) for r in rules]
        return None if any(p is None for p in problems) else problems[0]

    return rule


#: The top level: field → (rule, required). Unknown fields are refused.
HEADER: dict[str, tuple[Rule, bool]] = {
    "format": (text, True),
    "version": (whole(minimum=1), False),
    "library_version": (text, False),
    "network": (obj, True),
    "metadata": (nullable(obj), False),
}

#: The network: field → (rule, required); ``layers`` is checked layer by layer.
NETWORK: dict[str, tuple[Rule, bool]] = {
    "layers": (lambda v: None if isinstance(v, list) else f"must be a list, got {_describe(v)}",
               True),
    "loss": (obj, True),  # {"name": ...}, as Loss.config() writes it
    "init": (text, False),
    "seed": (nullable(whole(minimum=0)), False),
    "dtype": (text, False),
}


def _fail(path: Path, field: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: field {field} {problem}")


def check_fields(
    record: dict[str, Any], fields: Mapping[str, tuple[Rule, bool]], where: str, path: Path,
    *, others: bool = False,
) -> None:
    """Each field of ``record`` against its rule; required ones present, no others (unless
    ``others``: a constructor that takes any keyword)."""
    for name, (rule, required) in fields.items():
        if name not in record:
            if required:
                raise _fail(path, f"{where}{name}", "is missing")
            continue
        problem = rule(record[name])
        if problem is not None:
            raise _fail(path, f"{where}{name}", problem)
    unknown = sorted(set(record) - set(fields), key=str)
    if unknown and not others:
        raise ModelFileError(
            f"{path}: {where.rstrip('.') or 'the header'} has an unknown field "
            f"{repr(unknown[0])[:40]} (known: {', '.join(fields)})"
        )


# -- a layer's fields, from its constructor ---------------------------------------------


def _json_rule(annotation: Any) -> Rule | None:
    """The rule for a constructor parameter annotated ``annotation``; None for anything."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [_json_rule(member) for member in typing.get_args(annotation)]
        rules = [member for member in members if member is not None]
        if len(rules) < len(members):  # a member that takes anything
            return None
        json_rules = [rule for rule in rules if rule is not _NOT_JSON]
        return either(*json_rules) if json_rules else _NOT_JSON
    plain = origin or annotation
    if plain is type(None):
        return lambda value: None if value is None else f"must be null, got {_describe(value)}"
    if plain is bool:
        return flag
    if plain is int:
        return whole()
    if plain is float:
        return number
    if plain is str:
        return text
    if isinstance(plain, type) and issubclass(plain, Mapping | dict):
        return obj
    if isinstance(plain, type) and issubclass(plain, list | tuple | Sequence):
        return lambda v: None if isinstance(v, list) else f"must be a list, got {_describe(v)}"
    return _NOT_JSON


def _not_json(value: Any) -> str | None:
    return f"cannot be given as JSON ({_describe(value)})"


_NOT_JSON: Rule = _not_json


def constructor_fields(kind: type[Layer]) -> dict[str, tuple[Rule, bool]]:
    """A layer class's config fields: its constructor's parameters, their annotations' JSON
    types, required when they have no default."""
    signature = inspect.signature(kind.__init__)
    try:
        hints = typing.get_type_hints(kind.__init__)
    except (NameError, TypeError):  # an annotation that does not resolve: types unchecked
        hints = {}
    fields: dict[str, tuple[Rule, bool]] = {}
    for name, parameter in signature.parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        rule = _json_rule(hints.get(name, Any)) or (lambda value: None)
        fields[name] = (rule, parameter.default is inspect.Parameter.empty)
    return fields


def _takes_any_keyword(kind: type[Layer]) -> bool:
    return any(parameter.kind is parameter.VAR_KEYWORD
               for parameter in inspect.signature(kind.__init__).parameters.values())


def build_layer(config: Any, index: int, path: Path) -> Layer:
    """The layer ``network.layers[index]`` describes, its fields checked first; any fault
    (a type, an unknown kind or field, a value its constructor refuses) names the field.

    A kind registered by the user (:func:`~backprop.nn.layer_kinds.register_layer_kind`)
    may refuse a value with a plain ValueError or TypeError: that is named too."""
    where = f"network.layers[{index}]"
    if not isinstance(config, dict):
        raise _fail(path, where, f"must be an object, got {_describe(config)}")
    options = dict(config)
    kind = options.pop("kind", None)
    if not isinstance(kind, str) or kind not in LAYER_KINDS:
        raise _fail(path, f"{where}.kind",
                    f"must be one of {', '.join(LAYER_KINDS)}, got {_describe(kind)}")
    cls = LAYER_KINDS[kind]
    check_fields(options, constructor_fields(cls), f"{where}.", path,
                 others=_takes_any_keyword(cls))
    refusals: tuple[type[Exception], ...] = (
        (BackpropError,) if cls.__module__.startswith("backprop.") else (ValueError, TypeError))
    try:
        return cls(**options)
    except refusals as error:
        raise ModelFileError(f"{path}: {where} ({kind}): {error}") from None


def check_header(header: Any, path: Path, newest: int, name: str) -> None:
    """Refuse a header that is not a backprop model's of format ≤ ``newest``, or whose
    fields do not hold what they must (the layers' own fields: :func:`build_layer`)."""
    if not isinstance(header, dict) or header.get("format") != name:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ModelFileError(f"{path} is not a backprop model (format {found!r})")
    version = header.get("version", 1)
    problem = whole(minimum=1)(version)
    if problem is not None:
        raise _fail(path, "version", problem)
    if version > newest:
        raise ModelFileError(
            f"{path} was written in model format {version} by backprop "
            f"{header.get('library_version')}; this is backprop "
            f"{__version__} (format {newest}): upgrade backprop"
        )
    check_fields(header, HEADER, "", path)
    network = header["network"]
    check_fields(network, NETWORK, "network.", path)
    most = limit("BACKPROP_MAX_LAYERS")
    if not 1 <= len(network["layers"]) <= most:
        raise _fail(path, "network.layers",
                    f"must hold 1 to {most:,} layers, got {len(network['layers']):,} "
                    "(BACKPROP_MAX_LAYERS)")
    check_fields(network["loss"], {"name": (text, True)}, "network.loss.", path)


# -- metadata the commands read back ----------------------------------------------------


def image_shape(metadata: Mapping[str, Any], model: object) -> tuple[int, int] | None:
    """The (rows, cols) of the images a model was trained on (metadata ``image_shape``, as
    ``backprop train`` writes it), or None when it has none; ModelFileError naming the
    model file ``model`` when the field holds anything but two whole numbers ≥ 1."""
    shape = metadata.get("image_shape")
    if shape is None:
        return None
    if (not isinstance(shape, list) or len(shape) != 2
            or any(whole(minimum=1)(side) is not None for side in shape)):
        raise ModelFileError(f"{model}: metadata field image_shape must be two whole numbers "
                             f"≥ 1 (rows, cols), got {repr(shape)[:40]}")
    return int(shape[0]), int(shape[1])
