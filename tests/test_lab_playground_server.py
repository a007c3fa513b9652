"""/ws/playground through the server: messages, validation errors naming the field, streaming."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from backprop.lab.protocol import MAX_MESSAGE_BYTES
from lab_client import Socket, TestClient


@pytest.fixture
def playground(client: TestClient) -> Iterator[Socket]:
    with client.websocket_connect("/ws/playground") as ws:
        yield Socket(ws)


def test_the_page_and_its_link_are_served(client: TestClient) -> None:
    page = client.get("/playground")
    assert page.status_code == 200 and 'data-page="playground"' in page.text
    assert 'data-testid="index-playground"' in client.get("/").text
    assert client.get("/static/playground/playground.js").status_code == 200


def test_the_first_frame_is_the_full_state(playground: Socket) -> None:
    state = playground.first
    assert state["type"] == "state" and state["setup"]["dataset"] == "circles"
    assert state["step"] == 0 and state["history"][0][0] == 0
    assert playground.ask({"type": "ping"})["setup"] == state["setup"]


@pytest.mark.parametrize(("message", "field"), [
    ({"type": "configure", "lr": 0}, "lr"),
    ({"type": "configure", "lr": 1000}, "lr"),
    ({"type": "configure", "lr": "0.1"}, "lr"),
    ({"type": "configure", "dataset": "mnist"}, "dataset"),
    ({"type": "configure", "layers": [4] * 9}, "layers"),
    ({"type": "configure", "layers": [17]}, "layers.0"),
    ({"type": "configure", "layers": [0]}, "layers.0"),
    ({"type": "configure", "features": []}, "features"),
    ({"type": "configure", "features": ["x1", "x1"]}, "features"),
    ({"type": "configure", "features": ["x3"]}, "features.0"),
    ({"type": "configure", "init": "orthogonal"}, "init"),
    ({"type": "configure", "optimizer": "lbfgs"}, "optimizer"),
    ({"type": "configure", "dropout": 0.95}, "dropout"),
    ({"type": "configure", "size": 5}, "size"),
    ({"type": "configure", "noise": -1}, "noise"),
    ({"type": "configure", "loss": "cross_entropy"}, "loss"),
    ({"type": "configure", "colour": "red"}, "colour"),
    ({"type": "step", "count": 0}, "count"),
    ({"type": "set_weight", "layer": 0, "row": 9, "col": 0, "value": 1.0}, "row"),
    ({"type": "set_weight", "layer": 5, "row": 0, "col": 0, "value": 1.0}, "layer"),
    ({"type": "set_weight", "layer": 0, "row": 0, "col": 0, "value": 1e9}, "value"),
    ({"type": "add_point", "x1": 0, "x2": 0, "label": 2}, "label"),
    ({"type": "add_point", "x1": 1e6, "x2": 0}, "x1"),
    ({"type": "load_csv", "text": "a,b\n"}, "text"),
    ({"type": "load_model", "data": "%%%"}, "data"),
    ({"type": "configure", "activations": ["relu", "relu", "relu"]}, "activations"),
    ({"type": "configure", "l1": -0.1}, "l1"),
    ({"type": "configure", "dataset": "regression-cube"}, "dataset"),
    ({"type": "change_layer", "layer": 0, "units_by": 99}, "units_by"),
    ({"type": "change_layer", "layer": 0, "units_by": 13}, "units_by"),
    ({"type": "change_layer", "layer": 0, "activation": "softmax"}, "activation"),
    ({"type": "toggle_feature", "name": "x9", "on": True}, "name"),
    ({"type": "lock", "fields": ["colour"]}, "fields.0"),
    ({"type": "branch"}, "type"),
    ({"type": "explode"}, "type"),
    ({"lr": 1}, "type"),
])
def test_each_bad_message_is_answered_by_an_error_naming_its_field(
        playground: Socket, message: dict[str, Any], field: str) -> None:
    reply = playground.ask(message)
    assert reply["type"] == "error" and reply["field"] == field, reply
    assert playground.ask({"type": "ping"})["setup"] == playground.first["setup"]  # unchanged


def test_non_finite_and_oversize_frames_are_refused_and_the_session_lives_on(
        playground: Socket) -> None:
    assert playground.ask('{"type": "configure", "lr": NaN}')["field"] == "lr"
    assert playground.ask("not json")["field"] == "frame"
    big = json.dumps({"type": "load_csv", "text": "0,0,1\n" * (MAX_MESSAGE_BYTES // 6 + 1)})
    assert playground.ask(big)["field"] == "frame"
    assert playground.ask({"type": "step", "count": 3})["step"] == 3


def test_play_streams_updates_until_pause(playground: Socket) -> None:
    playground.ask({"type": "play"})
    updates = [playground.ws.receive_json() for _ in range(5)]
    assert all(update["type"] == "state" and update["playing"] for update in updates)
    steps = [update["step"] for update in updates]
    assert steps == sorted(steps) and steps[-1] > steps[0]
    assert all("history_append" in update and "boundary" in update for update in updates)
    for update in updates:
        assert all(value is None or math.isfinite(value)
                   for value in (update["loss_train"], update["loss_test"]))
    playground.ws.send_text(json.dumps({"type": "pause"}))
    while (reply := playground.ws.receive_json())["playing"]:
        pass  # updates already on their way
    assert playground.ask({"type": "ping"})["step"] == reply["step"]


def test_files_come_back_as_file_replies(playground: Socket) -> None:
    playground.ask({"type": "step", "count": 5})
    playground.ws.send_text(json.dumps({"type": "download_model"}))
    model = playground.ws.receive_json()
    assert model["type"] == "file" and model["filename"].endswith(".npz")
    opened = playground.ask({"type": "load_model", "data": model["base64"]})
    assert opened["loaded"] and opened["type"] == "state"
    playground.ws.send_text(json.dumps({"type": "download_csv"}))
    csv = playground.ws.receive_json()
    assert csv["text"].startswith("x1,x2,label\n")
    assert playground.ask({"type": "load_csv", "text": csv["text"]})["type"] == "state"
    playground.ws.send_text(json.dumps({"type": "export_python"}))
    script = playground.ws.receive_json()
    assert script["filename"] == "playground_run.py" and "net.backprop" in script["text"]
    assert base64.b64decode(model["base64"])[:2] == b"PK"  # an .npz is a zip archive


def test_two_sessions_are_independent(client: TestClient) -> None:
    with client.websocket_connect("/ws/playground") as a, \
            client.websocket_connect("/ws/playground") as b:
        first, second = Socket(a), Socket(b)
        first.ask({"type": "configure", "dataset": "xor"})
        assert first.ask({"type": "step", "count": 4})["step"] == 4
        state = second.ask({"type": "ping"})
        assert state["setup"]["dataset"] == "circles" and state["step"] == 0


def test_a_lock_holds_for_the_rest_of_the_session(playground: Socket) -> None:
    assert playground.ask({"type": "lock", "fields": ["lr", "weights"]})["locked"] == [
        "lr", "weights"]
    refused = playground.ask({"type": "configure", "lr": 2.0})
    assert refused["type"] == "error" and refused["field"] == "lr"
    refused = playground.ask({"type": "set_weight", "layer": 0, "row": 0, "col": 0, "value": 1.0})
    assert refused["field"] == "value" and "locked" in refused["message"]
    assert playground.ask({"type": "configure", "optimizer": "adam"})["setup"]["optimizer"] == \
        "adam"
    assert playground.ask({"type": "unlock"})["field"] == "type"
    assert playground.ask({"type": "lock"})["locked"][-2:] == ["data", "weights"]
    assert playground.ask({"type": "ping"})["setup"]["lr"] == 0.1
