"""The lab's message schemas and the one parser every page's frames go through.

Client → server: ``{"type": "<verb>", ...fields}``, one pydantic model per verb,
a union per page discriminated on ``type`` (each page's models are in its own
``protocol`` module; the verbs every page shares are here). Server → client:
``{"type": "state", ...}`` and ``{"type": "error", "field": ..., "message": ...}``.
Every model forbids unknown fields, rejects NaN and infinity, and checks ranges
and sizes against the named caps below.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

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
