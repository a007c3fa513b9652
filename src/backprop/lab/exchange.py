"""What a page answers, whatever carries the frames: the lab's WebSocket or a notebook widget.

A frame in → :func:`replies` (validated by :func:`~backprop.lab.protocol.parse_message`,
handed to the page, a refusal turned into an error reply); a play interval →
:func:`tick`; every reply out as :func:`encode`'s JSON text. The lab's
:class:`~backprop.lab.session.Session` and the notebook widgets
(:mod:`backprop.lab.notebook`) both call these, so a page behaves the same behind either.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from backprop.lab.protocol import Message, Reply, error_reply, parse_message

if TYPE_CHECKING:
    from backprop.lab.session import Page


def encode(reply: Reply) -> str:
    """A reply as the JSON text sent; a NaN or infinity here is a bug, not data."""
    return json.dumps(reply, allow_nan=False)


def replies(page: Page, raw: str | bytes) -> list[Reply]:
    """The page's replies to one frame: an error reply for a frame that breaks the page's
    schema, or for a message valid in form that cannot be done now."""
    parsed = parse_message(raw, page.messages)
    if not isinstance(parsed, Message):
        return [parsed]
    try:
        return page.reply(parsed)
    except ValueError as error:  # valid in form, impossible now
        return [error_reply(getattr(error, "field", "type"), str(error))]


def tick(page: Page) -> list[Reply]:
    """One play interval of a playing page: its update, or none once it stopped; a step that
    cannot be taken (e.g. the data went away) stops the play and says why."""
    if not page.playing:  # paused while this call waited for its turn
        return []
    try:
        update = page.tick()
    except ValueError as error:
        page.playing = False
        update = error_reply(getattr(error, "field", "type"), str(error))
    return [] if update is None else [update]


def merge(state: Reply, reply: Reply) -> None:
    """Fold a state reply into the page's state as the page's script does (common.js's
    ``lab.last``): its fields replace the old ones, and a field ``NAME_append`` extends the
    list ``NAME`` instead of being kept."""
    for key, value in reply.items():
        if key.endswith("_append") and isinstance(value, list):
            whole = key.removesuffix("_append")
            state[whole] = [*state.get(whole, []), *value]
        else:
            state[key] = value
