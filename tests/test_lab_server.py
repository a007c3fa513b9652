"""The lab's server: routes, static files, the message envelope and the session loop."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
from starlette.websockets import WebSocketDisconnect

from backprop.lab.app import PAGES, create_app
from backprop.lab.protocol import MAX_MESSAGE_BYTES
from backprop.lab.session import IDLE_CLOSE_CODE
from lab_client import TestClient, new_client


def test_index_links_every_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    for name in PAGES:
        assert f'href="/{name}"' in response.text


def test_each_page_is_served_with_its_module_which_imports_the_shared_one(
    client: TestClient,
) -> None:
    for name in PAGES:
        response = client.get(f"/{name}")
        assert response.status_code == 200
        assert f'<script type="module" src="/static/{name}/{name}.js"></script>' in response.text
        assert f'data-page="{name}"' in response.text
        script = client.get(f"/static/{name}/{name}.js")
        assert script.status_code == 200 and 'from "../common.js";' in script.text
        # browsers run a module only when it is served as JavaScript
        assert "javascript" in script.headers["content-type"]
    assert client.get("/no-such-page").status_code == 404


@pytest.mark.parametrize("path", [
    "/static/../app.py",
    "/static/%2e%2e/app.py",
    "/static/..%2fapp.py",
    "/static/%2e%2e/%2e%2e/cli.py",
    "/static//etc/passwd",
    "/static/../../../../../../etc/passwd",
    "/static/playground/../page.py",
    "/static/playground/%2e%2e/page.py",
    "/static/sandbox/..%2fstate.py",
    "/static/regression/%2e%2e/%2e%2e/app.py",
])
def test_static_files_never_come_from_outside_the_static_folder(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text and "root:" not in response.text


def test_static_files_are_served(client: TestClient) -> None:
    response = client.get("/static/common.js")
    assert response.status_code == 200
    assert "backpropLab" in response.text


def test_a_session_starts_with_the_full_state_and_answers_ping(client: TestClient) -> None:
    with client.websocket_connect("/ws/regression") as ws:
        first = ws.receive_json()
        assert first["type"] == "state"
        ws.send_text(json.dumps({"type": "ping"}))
        assert ws.receive_json() == first


def test_malformed_and_oversize_frames_get_an_error_and_the_session_lives(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws/regression") as ws:
        ws.receive_json()
        ws.send_text("{not json")
        reply = ws.receive_json()
        assert reply["type"] == "error" and reply["field"] == "frame"
        ws.send_text(json.dumps({"type": "ping", "pad": "x" * MAX_MESSAGE_BYTES}))
        reply = ws.receive_json()
        assert reply["type"] == "error" and reply["field"] == "frame"
        assert "over the limit" in reply["message"]
        ws.send_text("[1, 2]")
        assert ws.receive_json()["field"] == "frame"
        ws.send_bytes(b"\xff\xfe")
        assert ws.receive_json()["field"] == "frame"
        ws.send_text(json.dumps({"type": "no-such-verb"}))
        assert ws.receive_json()["field"] == "type"
        ws.send_text(json.dumps({"kind": "ping"}))
        assert ws.receive_json()["field"] == "type"
        ws.send_text(json.dumps({"type": "ping"}))
        assert ws.receive_json()["type"] == "state"


def test_unknown_page_socket_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/nothing") as ws:
        ws.receive_json()


def test_an_idle_session_is_closed() -> None:
    client = new_client(idle_timeout=0.3)
    with client.websocket_connect("/ws/regression") as ws:
        assert ws.receive_json()["type"] == "state"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == IDLE_CLOSE_CODE


def test_idle_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="idle_timeout"):
        create_app(idle_timeout=0)
