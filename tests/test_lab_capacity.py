"""Sessions capped: per client address and in all, refused with a reason the page shows."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
from starlette.websockets import WebSocketDisconnect

from backprop.lab.access import Access
from backprop.lab.app import create_app
from backprop.lab.capacity import (
    DEFAULT_MAX_SESSIONS,
    DEFAULT_MAX_SESSIONS_PER_CLIENT,
    FULL_CLOSE_CODE,
    Capacity,
)
from lab_client import HOST, ORIGIN, TestClient

#: The most bytes a WebSocket close reason may have.
MAX_REASON_BYTES = 123


def clients(app: Any, *addresses: str) -> list[TestClient]:
    """TestClients of one app, each connecting from its own address."""
    return [TestClient(app, headers={"origin": ORIGIN}, client=(address, 50000))
            for address in addresses]


def capped_app(total: int, per_client: int) -> Any:
    return create_app(access=Access(hosts=frozenset({HOST})), max_sessions=total,
                      max_sessions_per_client=per_client)


def open_session(stack: ExitStack, client: TestClient, page: str = "regression") -> Any:
    ws = stack.enter_context(client.websocket_connect(f"/ws/{page}"))
    assert ws.receive_json()["type"] == "state"
    return ws


def refusal(client: TestClient, page: str = "regression") -> tuple[int, str]:
    """The close code and reason of a socket refused for lack of room."""
    with (client.websocket_connect(f"/ws/{page}") as ws,
          pytest.raises(WebSocketDisconnect) as closed):
        ws.receive_json()
    return closed.value.code, closed.value.reason


def test_the_defaults_let_a_classroom_of_40_work_with_a_few_tabs_each() -> None:
    assert DEFAULT_MAX_SESSIONS >= 40 * 3
    assert 3 <= DEFAULT_MAX_SESSIONS_PER_CLIENT <= 10


def test_one_address_gets_at_most_its_cap_and_the_page_is_told_why() -> None:
    app = capped_app(total=10, per_client=2)
    student, other = clients(app, "10.0.0.5", "10.0.0.6")
    with ExitStack() as stack:
        with student.websocket_connect("/ws/regression") as first:
            assert first.receive_json()["type"] == "state"
            open_session(stack, student, "playground")
            code, reason = refusal(student, "sandbox")
            assert code == FULL_CLOSE_CODE
            assert reason.startswith("this address has 2 sessions open, the most allowed")
            assert "close a lab tab" in reason
            assert app.state.capacity.open_sessions() == 2
            open_session(stack, other)  # another address is not held back
        # the closed tab's session has ended (the block waits for it): its place is free
        assert app.state.capacity.live["10.0.0.5"] == 1
        open_session(stack, student, "sandbox")


def test_the_lab_holds_at_most_its_total() -> None:
    app = capped_app(total=3, per_client=5)
    a, b, c = clients(app, "10.0.0.1", "10.0.0.2", "10.0.0.3")
    with ExitStack() as stack:
        open_session(stack, a)
        open_session(stack, a)
        open_session(stack, b)
        code, reason = refusal(c)
        assert code == FULL_CLOSE_CODE
        assert reason == "the lab has 3 sessions open, its most: try again when one closes"


def test_the_reasons_fit_a_websocket_close() -> None:
    capacity = Capacity(total=DEFAULT_MAX_SESSIONS * 1000, per_client=1)
    capacity.admit("a")
    reason = capacity.admit("a")
    assert reason is not None and len(reason.encode()) <= MAX_REASON_BYTES
    full = Capacity(total=1, per_client=1)
    full.admit("a")
    reason = full.admit("b")
    assert reason is not None and len(reason.encode()) <= MAX_REASON_BYTES


def test_a_refused_socket_starts_no_page() -> None:
    app = capped_app(total=1, per_client=1)
    (client,) = clients(app, "10.0.0.9")
    with ExitStack() as stack:
        open_session(stack, client)
        for _ in range(5):
            assert refusal(client)[0] == FULL_CLOSE_CODE
        assert app.state.capacity.open_sessions() == 1


@pytest.mark.parametrize(("total", "per_client"), [(0, 1), (1, 0), (-1, 5)])
def test_the_caps_must_be_positive(total: int, per_client: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Capacity(total, per_client)
