"""/regression over its WebSocket: every validation rule, floods, isolation, streaming."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from backprop.lab.protocol import MAX_MESSAGE_BYTES
from lab_client import TestClient, send

# (message, the field its error must name); each breaks exactly one rule
BAD_MESSAGES: list[tuple[Any, str]] = [
    ({"type": "set", "lr": 0}, "lr"),
    ({"type": "set", "lr": -0.1}, "lr"),
    ({"type": "set", "lr": 101}, "lr"),
    ({"type": "set", "lr": "0.1"}, "lr"),
    ('{"type": "set", "lr": NaN}', "lr"),
    ('{"type": "set", "lr": Infinity}', "lr"),
    ({"type": "set", "lr": True}, "lr"),
    ({"type": "set", "momentum": 1.0}, "momentum"),
    ({"type": "set", "momentum": -0.5}, "momentum"),
    ({"type": "set", "batch_mode": "half"}, "batch_mode"),
    ({"type": "set", "batch_size": 0}, "batch_size"),
    ({"type": "set", "batch_size": 2001}, "batch_size"),
    ({"type": "set", "batch_size": 2.5}, "batch_size"),
    ({"type": "set", "speed": 0.5}, "speed"),
    ({"type": "set", "speed": 1001}, "speed"),
    ({"type": "set", "scale": "yes"}, "scale"),
    ({"type": "set", "scale": 1}, "scale"),
    ({"type": "set", "colour": "red"}, "colour"),
    ({"type": "generate", "n": 0}, "n"),
    ({"type": "generate", "n": 2001}, "n"),
    ({"type": "generate", "noise": -1}, "noise"),
    ({"type": "generate", "seed": -1}, "seed"),
    ({"type": "generate", "w_true": 1e5}, "w_true"),
    ({"type": "generate", "x_min": 3, "x_max": 1}, "x_max"),
    ({"type": "add_point", "x": 1.0}, "y"),
    ({"type": "add_point", "x": 1e5, "y": 0}, "x"),
    ({"type": "add_point", "x": None, "y": 0}, "x"),
    ({"type": "move_point", "index": -1, "x": 0, "y": 0}, "index"),
    ({"type": "move_point", "index": 2000, "x": 0, "y": 0}, "index"),
    ({"type": "move_point", "index": 40, "x": 0, "y": 0}, "index"),  # only 40 points
    ({"type": "remove_point", "index": 1999}, "index"),
    ({"type": "remove_point"}, "index"),
    ({"type": "load_csv", "text": "x,y\n1,oops\n"}, "text"),
    ({"type": "load_csv", "text": 12}, "text"),
    ({"type": "step", "count": 0}, "count"),
    ({"type": "step", "count": 1001}, "count"),
    ({"type": "set_start", "w": 1e6, "b": 0}, "w"),
    ({"type": "play", "now": True}, "now"),
    ({"type": "fly"}, "type"),
    ({"type": 3}, "type"),
    ({}, "type"),
    ("[]", "frame"),
    ('"play"', "frame"),
    ("{'type': 'play'}", "frame"),
    ("", "frame"),
]


#: Words of pydantic's own messages, which the lab must never show.
SCHEMA_WORDS = ("Input should", "Field required", "validation", "Extra inputs", "Unable to")


@pytest.mark.parametrize(("message", "field"), BAD_MESSAGES)
def test_each_bad_message_gets_an_error_naming_its_field(
    client: TestClient, message: Any, field: str
) -> None:
    with client.websocket_connect("/ws/regression") as ws:
        before = ws.receive_json()
        reply = send(ws, message)
        assert reply["type"] == "error", reply
        assert reply["field"] == field, reply
        text = reply["message"]
        assert text.endswith(".") and not any(word in text for word in SCHEMA_WORDS), text
        assert re.search(r"(?<!\w)-\d", text) is None, text  # real minus signs
        assert send(ws, {"type": "ping"}) == before  # nothing changed, still alive


def test_a_flood_of_bad_and_oversize_frames_leaves_the_session_answering(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws/regression") as ws:
        ws.receive_json()
        big = json.dumps({"type": "load_csv", "text": "1,2\n" * (MAX_MESSAGE_BYTES // 4 + 10)})
        for i in range(300):
            message = BAD_MESSAGES[i % len(BAD_MESSAGES)][0]
            ws.send_text(message if isinstance(message, str) else json.dumps(message))
            if i % 30 == 0:
                ws.send_text(big)
        replies = [ws.receive_json() for _ in range(300 + 10)]
        assert all(reply["type"] == "error" for reply in replies)
        assert sum("over the limit" in reply["message"] for reply in replies) == 10
        state = send(ws, {"type": "step", "count": 3})
        assert state["type"] == "state" and state["step"] == 3


def test_two_sessions_do_not_see_each_other(client: TestClient) -> None:
    with client.websocket_connect("/ws/regression") as a, \
            client.websocket_connect("/ws/regression") as b:
        a.receive_json()
        b_first = b.receive_json()
        send(a, {"type": "set", "lr": 0.2})
        send(a, {"type": "add_point", "x": 1.0, "y": 9.0})
        a_state = send(a, {"type": "step", "count": 5})
        assert a_state["step"] == 5 and len(a_state["points"]) == 41
        b_state = send(b, {"type": "ping"})
        assert b_state == b_first
        assert b_state["step"] == 0 and b_state["settings"]["lr"] == 0.1
        assert len(b_state["points"]) == 40


def test_play_streams_progress_until_pause(client: TestClient) -> None:
    with client.websocket_connect("/ws/regression") as ws:
        ws.receive_json()
        first = send(ws, {"type": "play"})
        assert first["playing"] is True and first["step"] == 1
        steps = [ws.receive_json()["step"] for _ in range(20)]
        assert steps == sorted(steps) and steps[-1] > steps[0]
        ws.send_text(json.dumps({"type": "pause"}))
        while (reply := ws.receive_json())["playing"]:
            pass  # updates sent before the pause arrived
        paused_at = reply["step"]
        assert send(ws, {"type": "ping"})["step"] == paused_at


def test_download_csv_replies_with_the_points(client: TestClient) -> None:
    with client.websocket_connect("/ws/regression") as ws:
        state = ws.receive_json()
        reply = send(ws, {"type": "download_csv"})
        assert reply["type"] == "csv" and reply["filename"] == "regression.csv"
        rows = reply["text"].strip().split("\n")
        assert rows[0] == "x,y" and len(rows) == len(state["points"]) + 1
        assert [float(v) for v in rows[1].split(",")] == state["points"][0]


def test_removing_every_point_while_playing_stops_play_and_keeps_the_session(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws/regression") as ws:
        ws.receive_json()
        send(ws, {"type": "generate", "n": 2})
        send(ws, {"type": "play"})
        for _ in range(2):
            ws.send_text(json.dumps({"type": "remove_point", "index": 0}))
        while (reply := ws.receive_json()).get("points") != []:
            pass  # play updates and the reply to the first removal
        assert reply["playing"] is False  # nothing left to train on
        state = send(ws, {"type": "ping"})
        assert state["playing"] is False and state["points"] == []
        assert state["status"]["kind"] == "empty"
        assert send(ws, {"type": "play"}) == {
            "type": "error", "field": "type",
            "message": "There is no data: click the plot to add points, or generate a set."}
