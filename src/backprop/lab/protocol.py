"""The lab's message schemas and the one parser every page's frames go through.

Client → server: ``{"type": "<verb>", ...fields}``, one pydantic model per verb,
a union per page discriminated on ``type`` (each page's models are in its own
``protocol`` module; the verbs every page shares are here). Server → client:
``{"type": "state", ...}`` and ``{"type": "error", "field": ..., "message": ...}``.
Every model forbids unknown fields, rejects NaN and infinity, and checks ranges
and sizes against the named caps below. Names of activations, losses,
initializations and optimizers are the library's registries as they are when a
message arrives (:class:`Registered`), so a kind a user registered before starting
the lab is offered and accepted like a built-in one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from backprop.nn.activations import activation_names, hidden_activation_names
from backprop.nn.initializers import INIT_NAMES
from backprop.nn.losses import loss_names
from backprop.optim.rules import OPTIMIZERS

#: Largest client frame accepted, in bytes (UTF-8).
MAX_MESSAGE_BYTES = 64 * 1024
#: Most data points a page holds.
MAX_POINTS = 2000

#: Error replies use this field name for a frame that is not one JSON object.
FRAME_FIELD = "frame"

Reply = dict[str, Any]


class Message(BaseModel):
    """Base of every client message: no unknown fields, no NaN or infinity, no coercion."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True, frozen=True)


class FieldError(ValueError):
    """A message valid in form that cannot be done now, blamed on one field (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def error_reply(field: str, message: str) -> Reply:
    """The error reply: which field (a dotted path) and what is wrong with it, as a sentence."""
    return {"type": "error", "field": field, "message": sentence(message)}


def sentence(text: str) -> str:
    """``text`` ending as a sentence does (a full stop added where it has none), its
    numbers' minus signs real ones (U+2212)."""
    text = real_minus(text.strip())
    return text if not text or text[-1] in ".!?" else text + "."


#: A hyphen that is a number's minus sign: before a digit, and after no word character
#: (so "d-1-1" keeps its hyphens), or in an exponent ("1e-05").
_MINUS = re.compile(r"(?<![\w.\-])-(?=\.?\d)|(?<=\d[eE])-(?=\d)")


def real_minus(text: str) -> str:
    """``text`` with each number's hyphen-minus written as a minus sign, −."""
    return _MINUS.sub("−", text)


def _field_path(error: Any, tag: str | None) -> str:
    """The dotted path of one pydantic error, without the union's tag in front."""
    loc = _location(error, tag)
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return "type"
    return ".".join(str(part) for part in loc) or FRAME_FIELD


def _location(error: Any, tag: str | None) -> list[str | int]:
    """Where in the message the error is: field names and list positions (from 0)."""
    loc = [part for part in error["loc"] if part != "[key]"]
    if tag is not None and loc and loc[0] == tag:
        loc = loc[1:]
    return loc


def _shown(value: Any) -> str | None:
    """A value as a message quotes it, or None when it is too long to quote."""
    if isinstance(value, float):
        return f"{value:g}"
    text = repr(value) if isinstance(value, str | int) else json.dumps(value)
    return text if len(text) <= 40 else None


#: A pydantic error type → what is wrong, said of "{where}" (the field), with the
#: error's context ({le}, {expected}, ...) put in.
_PLAIN: dict[str, str] = {
    "missing": "{where} is missing",
    "extra_forbidden": "{where} is not a field of this message",
    "literal_error": "{where} must be {expected}",
    "less_than_equal": "{where} must be at most {le}",
    "less_than": "{where} must be less than {lt}",
    "greater_than_equal": "{where} must be at least {ge}",
    "greater_than": "{where} must be greater than {gt}",
    "too_short": "{where} needs at least {min_length} item{s}",
    "too_long": "{where} takes at most {max_length} item{s}",
    "string_too_long": "{where} must be at most {max_length} characters long",
    "string_too_short": "{where} must be at least {min_length} characters long",
    "string_pattern_mismatch": "{where} is not one of the names this message takes",
    "int_type": "{where} must be a whole number",
    "int_from_float": "{where} must be a whole number",
    "int_parsing": "{where} must be a whole number",
    "float_type": "{where} must be a number",
    "float_parsing": "{where} must be a number",
    "finite_number": "{where} must be a finite number",
    "bool_type": "{where} must be true or false",
    "bool_parsing": "{where} must be true or false",
    "string_type": "{where} must be text",
    "list_type": "{where} must be a list",
    "tuple_type": "{where} must be a list",
    "dict_type": "{where} must be an object",
    "model_type": "{where} must be an object",
    "model_attributes_type": "{where} must be an object",
}
#: Error types whose message is not followed by ", not <the value given>".
_NO_INPUT = {"missing", "extra_forbidden", "too_short", "too_long", "string_too_long",
             "string_too_short", "finite_number", "string_pattern_mismatch"}


def plain_message(error: Any, tag: str | None = None) -> str:
    """One pydantic error as a plain sentence naming the field: "Item 2 of “widths” must be
    at most 8, not 9." — the one place the lab turns schema errors into words."""
    kind = error["type"]
    context = {name: f"{value:g}" if isinstance(value, float) else value
               for name, value in (error.get("ctx") or {}).items()}
    if kind == "union_tag_invalid":
        return sentence(f"There is no message of type {context.get('tag')!r}; the types are "
                        f"{context.get('expected_tags')}")
    if kind == "union_tag_not_found":
        return "A message needs a “type”, the verb it asks for."
    if kind == "unknown_name":  # a registry's name (Registered): its own sentence
        return sentence(str(context.get("text", error["msg"])))
    where = _where(_location(error, tag))
    template = _PLAIN.get(kind)
    if template is None:
        return sentence(f"{where}: {error['msg']}")
    count = context.get("min_length", context.get("max_length", 2))
    text = template.format(where=where, s="" if count == 1 else "s", **context)
    if kind in ("too_short", "too_long") and "actual_length" in context:
        text += f", not {context['actual_length']}"
    elif kind not in _NO_INPUT and (shown := _shown(error.get("input"))) is not None:
        text += f", not {shown}"
    return sentence(text[:1].upper() + text[1:])


def _where(loc: list[str | int]) -> str:
    """A field's place in words: “lr”, item 2 of “widths”, item 1 of “W” in item 1 of
    “layers” (positions counted from 1)."""
    phrases: list[str] = []
    for part in loc:
        if isinstance(part, int) and phrases:
            phrases[-1] = f"item {part + 1} of {phrases[-1]}"
        else:
            phrases.append(f"“{part}”")
    return " in ".join(reversed(phrases)) or "the message"


def parse_message(raw: str | bytes, adapter: TypeAdapter[Any]) -> Message | Reply:
    """A client frame as one of the page's messages, or the error reply to send back.

    A frame over :data:`MAX_MESSAGE_BYTES`, or one that is not a JSON object,
    gets an error naming ``frame``; a message that breaks the schema gets one
    naming the first offending field.
    """
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > MAX_MESSAGE_BYTES:
        return error_reply(
            FRAME_FIELD, f"The message of {size} bytes is over the limit of {MAX_MESSAGE_BYTES}."
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        return error_reply(FRAME_FIELD, f"The message is not JSON: {error}.")
    if not isinstance(data, dict):
        return error_reply(FRAME_FIELD,
                           f"A message must be a JSON object, not {type(data).__name__}.")
    tag = data.get("type") if isinstance(data.get("type"), str) else None
    try:
        message: Message = adapter.validate_json(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return error_reply(_field_path(first, tag), plain_message(first, tag))
    return message


class Ping(Message):
    """Asks for the full state again (any page)."""

    type: Literal["ping"]


def message_union(*models: type[Message]) -> TypeAdapter[Any]:
    """The adapter that parses one page's messages: a union discriminated on ``type``."""
    if len(models) == 1:
        return TypeAdapter(models[0])
    union: Any = Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007
    return TypeAdapter(union)


class Play(Message):
    """Start the page's play loop (a page that plays)."""

    type: Literal["play"]


class Pause(Message):
    """Stop the play loop."""

    type: Literal["pause"]


# -- names from the library's registries ------------------------------------------------

@dataclass(frozen=True)
class Registered:
    """Marks a string field that must be one of ``names()``, read when a message is checked:
    ``Annotated[str, Registered("activation", activation_names)]``.

    Its JSON schema lists ``names()`` as they are when the schema is asked for, so the
    schema and the menus built from the same function always agree.
    """

    what: str
    names: Callable[[], Sequence[str]]

    def check(self, value: str) -> str:
        valid = list(self.names())
        if value not in valid:
            text = f"Unknown {self.what} {value!r}; choose one of {', '.join(valid)}."
            raise PydanticCustomError("unknown_name", "{text}", {"text": text})
        return value

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        field = handler(schema)
        field["enum"] = list(self.names())
        return field


#: SGD's forms the lab offers beside the registry's names: momentum μ = 0.9, and Nesterov's.
SGD_FORMS = ("momentum", "nesterov")


def optimizer_names() -> list[str]:
    """The optimizers a lab page offers: the registry's, with SGD's forms right after sgd."""
    names = list(OPTIMIZERS)
    after = names.index("sgd") + 1 if "sgd" in names else len(names)
    return [*names[:after], *SGD_FORMS, *names[after:]]


def init_names() -> list[str]:
    """The initializations, "auto" (the activation's usual one) first."""
    return list(INIT_NAMES)


ActivationName = Annotated[str, Registered("activation", activation_names)]
#: An activation a hidden layer may have: the elementwise ones (softmax only at the output).
HiddenActivationName = Annotated[str, Registered("activation", hidden_activation_names)]
LossName = Annotated[str, Registered("loss", loss_names)]
InitName = Annotated[str, Registered("init", init_names)]
OptimizerName = Annotated[str, Registered("optimizer", optimizer_names)]
