"""A tab's session ends quietly when the tab goes mid-play, however the transport says so."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")

from starlette.websockets import WebSocketDisconnected, WebSocketState

from backprop.lab.playground.page import PlaygroundPage
from backprop.lab.session import Session


def run_alone(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to the end in a thread of its own (Playwright's sync API may hold this
    thread's event loop when browser tests ran first)."""
    with ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, asyncio.wait_for(main(), timeout=60)).result()


class ClosingTab:
    """A WebSocket whose tab closes after ``frames`` frames: the next send fails with
    ``error``, as the server's transport fails it, and only then does the disconnect arrive."""

    def __init__(self, frames: int, error: BaseException) -> None:
        self.frames, self.error = frames, error
        self.sent: list[str] = []
        self.gone = asyncio.Event()
        self.client_state = WebSocketState.CONNECTED

    async def accept(self) -> None:
        pass

    async def send_text(self, text: str) -> None:
        if len(self.sent) >= self.frames:
            self.gone.set()
            raise self.error
        self.sent.append(text)

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        await asyncio.sleep(0)  # the failed send is seen first
        return {"type": "websocket.disconnect", "code": 1001}

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        raise AssertionError("a session whose tab went does not close it")


@pytest.mark.parametrize("error", [
    RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."),
    WebSocketDisconnected('Cannot call "send" once a close message has been sent.'),
    ConnectionResetError("the peer went"),
], ids=["uvicorn-after-close", "starlette-after-close", "reset"])
def test_a_tab_closed_mid_play_ends_its_session_without_an_error(error: BaseException) -> None:
    page = PlaygroundPage()
    page.playing = True
    tab = ClosingTab(frames=4, error=error)
    session = Session(tab, page, idle_timeout=60)  # type: ignore[arg-type]
    run_alone(session.run)
    assert len(tab.sent) == 4 and page.run.steps > 0  # it played until the tab went


def test_a_bug_while_sending_keeps_its_traceback() -> None:
    page = PlaygroundPage()
    page.playing = True
    page.tick = lambda: {"type": "state", "loss": float("nan")}  # type: ignore[method-assign]
    tab = ClosingTab(frames=100, error=RuntimeError("unused"))
    with pytest.raises(ValueError, match="Out of range float values"):
        run_alone(Session(tab, page, 60).run)  # type: ignore[arg-type]
