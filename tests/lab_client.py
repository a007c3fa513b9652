"""The lab's app in-process for protocol tests: Starlette's TestClient and a socket that asks.

Importing this module skips the importing test module when the lab extra (or
httpx, which Starlette's TestClient needs) is missing, saying which.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from backprop.lab.access import Access
from backprop.lab.app import create_app

#: The TestClient's host, and the origin of the lab's own pages there.
HOST = "testserver"
ORIGIN = f"http://{HOST}"


def new_client(idle_timeout: float = 60, access: Access | None = None,
               origin: str | None = ORIGIN, **options: Any) -> TestClient:
    """A TestClient of a fresh app whose sessions close after ``idle_timeout`` seconds idle.

    The app answers at the TestClient's host (``access`` may say otherwise), and the client
    sends ``origin`` with every request, as the lab's own pages do; ``options`` go to
    :func:`create_app` (the session caps).
    """
    if access is None:
        access = Access(hosts=frozenset({HOST}))
    app = create_app(idle_timeout=idle_timeout, access=access, **options)
    return TestClient(app, headers={} if origin is None else {"origin": origin})


def send(ws: Any, message: dict[str, Any] | str) -> dict[str, Any]:
    """Send one message (a dict as JSON, or raw text) and return the one reply."""
    ws.send_text(message if isinstance(message, str) else json.dumps(message))
    reply: dict[str, Any] = ws.receive_json()
    return reply


class Socket:
    """A page's WebSocket: ``first`` is the state sent on connect, ``ask`` one round trip."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.first = ws.receive_json()

    def ask(self, message: dict[str, Any] | str) -> dict[str, Any]:
        return send(self.ws, message)
