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
    """The error reply: which field (a dotted path) and what is wrong with it."""
    return {"type": "error", "field": field, "message": message}


def _field_path(error: Any, tag: str | None) -> str:
    """The dotted path of one pydantic error, without the union's tag in front."""
    loc = list(error["loc"])
    if tag is not None and loc and loc[0] == tag:
        loc = loc[1:]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return "type"
    return ".".join(str(part) for part in loc) or FRAME_FIELD


def parse_message(raw: str | bytes, adapter: TypeAdapter[Any]) -> Message | Reply:
    """A client frame as one of the page's messages, or the error reply to send back.

    A frame over :data:`MAX_MESSAGE_BYTES`, or one that is not a JSON object,
    gets an error naming ``frame``; a message that breaks the schema gets one
    naming the first offending field.
    """
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > MAX_MESSAGE_BYTES:
        return error_reply(
            FRAME_FIELD, f"message of {size} bytes is over the limit of {MAX_MESSAGE_BYTES}"
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        return error_reply(FRAME_FIELD, f"not JSON: {error}")
    if not isinstance(data, dict):
        return error_reply(FRAME_FIELD, f"expected a JSON object, got {type(data).__name__}")
    tag = data.get("type") if isinstance(data.get("type"), str) else None
    try:
        message: Message = adapter.validate_json(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return error_reply(_field_path(first, tag), first["msg"])
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
            text = f"unknown {self.what} {value!r}; valid: {', '.join(valid)}"
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
