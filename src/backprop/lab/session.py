"""One tab's WebSocket session, the same loop for every page.

receive a frame → validate it and hand it to the page (:func:`~backprop.lab.exchange.replies`,
the same for the notebook widgets) → send the page's replies; meanwhile a play loop calls
the page's :meth:`Page.tick` at a fixed rate while it plays and sends what it
returns. Every call into the page, and the JSON of what it returns, is
computed in the session's turn (:class:`~backprop.lab.turns.Turns`), in a
worker thread, so the event loop stays free for the sockets and no session
takes more than its share. The session ends when the tab goes, or after
``idle_timeout`` seconds without a message from it (closed with code 4000,
reason "idle").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import TypeAdapter
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from backprop.lab import exchange
from backprop.lab.exchange import encode
from backprop.lab.protocol import Message, Ping, Reply
from backprop.lab.turns import Turns

#: Close code and reason of a session closed for lack of input.
IDLE_CLOSE_CODE = 4000
IDLE_CLOSE_REASON = "idle"
#: Default seconds without a message before a session closes.
DEFAULT_IDLE_TIMEOUT = 15 * 60.0


class Page:
    """A page's logic for one tab: its state, its messages, its play step.

    A subclass sets ``name``, ``title``, ``summary`` (for the index), ``static``
    (its folder: ``NAME.html`` and its scripts and styles), ``messages`` (the
    TypeAdapter of its message union, from
    :func:`~backprop.lab.protocol.message_union`) and implements
    :meth:`state` and :meth:`handle`; a page that plays sets ``playing`` and
    implements :meth:`tick`. Everything here is plain synchronous Python,
    testable without a server.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: The page's own static files, served under /static/NAME/.
    static: ClassVar[Path]
    messages: ClassVar[TypeAdapter[Any]]
    #: Seconds between two calls of :meth:`tick` while playing.
    tick_interval: ClassVar[float] = 1 / 30

    def __init__(self) -> None:
        #: True while the play loop should call :meth:`tick`.
        self.playing = False

    def state(self) -> Reply:
        """The page's full state, ``{"type": "state", ...}``."""
        raise NotImplementedError

    def handle(self, message: Message) -> list[Reply]:
        """Act on one valid message; the replies to send (usually ``[self.state()]``).

        Raise :class:`~backprop.lab.protocol.FieldError` (or ``ValueError``, blamed
        on ``type``) for a message valid in form that cannot be done now; the
        session sends it as an error reply and the session goes on.
        """
        raise NotImplementedError

    def tick(self) -> Reply | None:
        """Advance one play interval; the state update to send, or None."""
        return None

    def reply(self, message: Message) -> list[Reply]:
        """The replies to a message: ``ping`` is answered here with the full state."""
        if isinstance(message, Ping):
            return [self.state()]
        return self.handle(message)


class Session:
    """Runs one page for one WebSocket until the tab goes or it is idle too long.

    ``turns`` is shared by every session of the lab; ``client`` (the tab's address)
    is whose turn a call takes.
    """

    def __init__(self, websocket: WebSocket, page: Page, idle_timeout: float,
                 turns: Turns | None = None, client: str = "") -> None:
        self.websocket = websocket
        self.page = page
        self.idle_timeout = idle_timeout
        self.turns = turns if turns is not None else Turns()
        self.client = client
        self._lock = asyncio.Lock()

    async def serve(self, work: Callable[[], list[Reply]]) -> None:
        """Compute ``work`` (the page's replies) in this session's turn and send them, before
        another call of this session begins: the tab gets its answers in the order made."""
        async with self._lock:
            texts = await self.turns.run(self.client,
                                         lambda: [encode(reply) for reply in work()])
            for text in texts:
                try:
                    await self.websocket.send_text(text)
                except (OSError, RuntimeError) as error:
                    # the tab went (or the socket was closed) while this reply was on its
                    # way: Starlette and uvicorn then refuse the frame with one of these
                    raise WebSocketDisconnect(1006) from error

    async def run(self) -> None:
        """Serve the tab: the full state first, then messages and play updates until it ends."""
        await self.websocket.accept()
        try:
            await self.serve(lambda: [self.page.state()])
        except WebSocketDisconnect:
            return
        receiver = asyncio.create_task(self._receive())
        player = asyncio.create_task(self._play())
        done, pending = await asyncio.wait({receiver, player}, return_when=FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await task
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect):
                raise error

    async def _receive(self) -> None:
        while True:
            try:
                frame = await asyncio.wait_for(self.websocket.receive(), self.idle_timeout)
            except TimeoutError:
                if self.websocket.client_state == WebSocketState.CONNECTED:
                    async with self._lock:  # not in the middle of a reply
                        with contextlib.suppress(OSError, RuntimeError):  # the tab just went
                            await self.websocket.close(IDLE_CLOSE_CODE, IDLE_CLOSE_REASON)
                return
            if frame["type"] == "websocket.disconnect":
                return
            raw = frame.get("text")
            if raw is None:
                raw = frame.get("bytes") or b""
            await self.serve(functools.partial(self._replies, raw))

    def _replies(self, raw: str | bytes) -> list[Reply]:
        return exchange.replies(self.page, raw)

    def _tick(self) -> list[Reply]:
        return exchange.tick(self.page)

    async def _play(self) -> None:
        """Call the page's tick at its rate while it plays; send what it returns."""
        interval = self.page.tick_interval
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            if self.page.playing:
                await self.serve(self._tick)
                deadline = max(deadline + interval, loop.time())
                await asyncio.sleep(deadline - loop.time())
            else:
                deadline = loop.time()
                await asyncio.sleep(interval)
