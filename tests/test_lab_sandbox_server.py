"""/ws/sandbox through the server: every message, every validation rule, errors naming the field."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

import backprop as bp
from backprop.lab.protocol import MAX_MESSAGE_BYTES
from backprop.teaching.reference import MISTAKES
from lab_client import Socket, TestClient


@pytest.fixture
def sandbox(client: TestClient) -> Iterator[Socket]:
    with client.websocket_connect("/ws/sandbox") as ws:
        yield Socket(ws)


def test_a_session_starts_on_classic_231(sandbox: Socket) -> None:
    state = sandbox.first
    assert state["type"] == "state" and state["page"] == "sandbox"
    assert state["preset"] == "classic-231" and state["rule"] == "none"
    assert set(state["rules"]) == {"none", *MISTAKES}
    assert sandbox.ask({"type": "ping"}) == state


def test_mazur_through_the_socket(sandbox: Socket) -> None:
    state = sandbox.ask({"type": "preset", "name": "mazur-222"})
    assert math.isclose(state["loss"], 0.298371109, abs_tol=5e-10)
    assert sandbox.ask({"type": "set_lr", "lr": 0.5})["lr"] == 0.5
    state = sandbox.ask({"type": "step"})
    assert math.isclose(state["layers"][1]["W"][0][0], 0.35891648, abs_tol=5e-9)
    assert state["last_step"]["w-2-1-1"][0] == 0.4


def test_check_passes_then_fails_with_each_rule(sandbox: Socket) -> None:
    sandbox.ask({"type": "preset", "name": "mazur-222"})
    assert sandbox.ask({"type": "check"})["check"]["verdict"] == "PASS"
    for rule in MISTAKES:
        state = sandbox.ask({"type": "break", "rule": rule})
        assert state["rule"] == rule and state["check"] is None
        assert sandbox.ask({"type": "check"})["check"]["verdict"] == "FAIL", rule
    state = sandbox.ask({"type": "break", "rule": "none"})
    assert sandbox.ask({"type": "check"})["check"]["verdict"] == "PASS"
    assert len(state["X"]) == 2  # the 1/m rules grew the batch, and said so when they did


def test_a_batch_rule_on_one_sample_adds_one_and_says_why(sandbox: Socket) -> None:
    state = sandbox.ask({"type": "break", "rule": "sum-not-mean"})
    assert len(state["X"]) == 2 and "1/m = 1" in state["note"]
    assert sandbox.ask({"type": "check"})["note"] is None  # until the next action


def test_every_editing_message(sandbox: Socket) -> None:
    state = sandbox.ask({"type": "configure", "widths": [3, 4, 2], "activations": ["relu", "linear"],
                         "loss": "mse", "bias": True, "init": "he", "seed": 5})
    assert state["preset"] == "custom" and state["architecture"]["widths"] == [3, 4, 2]
    state = sandbox.ask({"type": "set_parameter", "layer": 1, "name": "W", "unit": 4,
                         "source": 3, "value": 2})
    assert state["layers"][0]["W"][3][2] == 2.0
    state = sandbox.ask({"type": "set_parameter", "layer": 2, "name": "b", "unit": 2,
                         "value": -0.5})
    assert state["layers"][1]["b"][1] == -0.5
    state = sandbox.ask({"type": "set_sample", "index": 1, "x": [1, 2, 3], "y": [0.5, -0.5]})
    assert state["X"] == [[1.0, 2.0, 3.0]] and state["Y"] == [[0.5, -0.5]]
    assert len(sandbox.ask({"type": "add_sample"})["X"]) == 2
    assert sandbox.ask({"type": "select_sample", "index": 2})["sample"] == 2
    assert sandbox.ask({"type": "remove_sample", "index": 1})["X"] == [[0.0, -1.0, -2.0]]
    weights = [{"W": [[0.1, 0.2], [0.3, 0.4]], "b": [0.0, 0.1]}, {"W": [[1.0, -1.0]], "b": [0.2]}]
    state = sandbox.ask({"type": "set_weights", "layers": weights})
    assert [{"W": layer["W"], "b": layer["b"]} for layer in state["layers"]] == weights
    assert state["architecture"]["widths"] == [2, 2, 1]


def test_downloads(sandbox: Socket) -> None:
    sandbox.ask({"type": "preset", "name": "mazur-222"})
    reply = sandbox.ask({"type": "download", "what": "weights"})
    assert reply["type"] == "download" and reply["filename"] == "weights.json"
    assert json.loads(reply["content"])[1] == {"W": [[0.4, 0.45], [0.5, 0.55]], "b": [0.6, 0.6]}
    reply = sandbox.ask({"type": "download", "what": "trace-json"})
    trace = json.loads(reply["content"])
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 2, activation="sigmoid")],
                     dtype="float64")
    for layer, given in zip(net.layers, json.loads(
            sandbox.ask({"type": "download", "what": "weights"})["content"]), strict=True):
        layer.W, layer.b = given["W"], given["b"]  # type: ignore[attr-defined]
    expected = bp.explain(net, [[0.05, 0.1]], [[0.01, 0.99]], lr=0.5)
    assert trace == json.loads(expected.to_json())
    reply = sandbox.ask({"type": "download", "what": "trace-markdown"})
    assert reply["filename"] == "trace.md" and reply["content"].strip() == expected.to_markdown()


# Each bad message, and the field its error must name. The session answers each one.
BAD: list[tuple[dict[str, Any], str]] = [
    ({"type": "teleport"}, "type"),
    ({"name": "mazur-222"}, "type"),
    ({"type": "preset", "name": "mazur-223"}, "name"),
    ({"type": "preset"}, "name"),
    ({"type": "preset", "name": "custom", "colour": "red"}, "colour"),
    ({"type": "configure", "widths": [2], "activations": ["tanh"]}, "widths"),
    ({"type": "configure", "widths": [2, 3, 3, 3, 3, 1], "activations": ["tanh"]}, "widths"),
    ({"type": "configure", "widths": [2, 9, 1], "activations": ["tanh", "tanh"]}, "widths.1"),
    ({"type": "configure", "widths": [2, 0], "activations": ["tanh"]}, "widths.1"),
    ({"type": "configure", "widths": [2, 1.5], "activations": ["tanh"]}, "widths.1"),
    ({"type": "configure", "widths": [2, 1], "activations": []}, "activations"),
    ({"type": "configure", "widths": [2, 1], "activations": ["x" * 41]}, "activations.0"),
    ({"type": "configure", "widths": [2, 3, 1], "activations": ["tanh", "rleu"]}, "activations.1"),
    ({"type": "configure", "widths": [2, 3, 1], "activations": ["tanh"]}, "activations"),
    ({"type": "configure", "widths": [2, 1], "activations": ["tanh"], "loss": "hinge"}, "loss"),
    ({"type": "configure", "widths": [2, 1], "activations": ["linear"],
      "loss": "cross_entropy"}, "loss"),
    ({"type": "configure", "widths": [2, 1], "activations": ["tanh"], "init": "zeros"}, "init"),
    ({"type": "configure", "widths": [2, 1], "activations": ["tanh"], "seed": -1}, "seed"),
    ({"type": "configure", "widths": [2, 1], "activations": ["tanh"], "bias": "yes"}, "bias"),
    ({"type": "set_parameter", "layer": 0, "name": "W", "unit": 1, "source": 1, "value": 1},
     "layer"),
    ({"type": "set_parameter", "layer": 5, "name": "W", "unit": 1, "source": 1, "value": 1},
     "layer"),
    ({"type": "set_parameter", "layer": 3, "name": "W", "unit": 1, "source": 1, "value": 1},
     "layer"),
    ({"type": "set_parameter", "layer": 1, "name": "c", "unit": 1, "value": 1}, "name"),
    ({"type": "set_parameter", "layer": 1, "name": "b", "unit": 1, "value": 1}, "name"),
    ({"type": "set_parameter", "layer": 1, "name": "W", "unit": 9, "source": 1, "value": 1},
     "unit"),
    ({"type": "set_parameter", "layer": 1, "name": "W", "unit": 4, "source": 1, "value": 1},
     "unit"),
    ({"type": "set_parameter", "layer": 1, "name": "W", "unit": 1, "source": 0, "value": 1},
     "source"),
    ({"type": "set_parameter", "layer": 1, "name": "W", "unit": 1, "source": 3, "value": 1},
     "source"),
    ({"type": "set_parameter", "layer": 1, "name": "W", "unit": 1, "value": 1}, "source"),
    ({"type": "set_parameter", "layer": 1, "name": "W", "unit": 1, "source": 1, "value": 1e5},
     "value"),
    ({"type": "set_parameter", "layer": 1, "name": "W", "unit": 1, "source": 1, "value": "1"},
     "value"),
    ({"type": "set_weights", "layers": []}, "layers"),
    ({"type": "set_weights", "layers": [{"W": [[1.0]]}] * 5}, "layers"),
    ({"type": "set_weights", "layers": [{"b": [1.0]}]}, "layers.0.W"),
    ({"type": "set_weights", "layers": [{"W": [[1.0] * 9]}]}, "layers.0.W.0"),
    ({"type": "set_weights", "layers": [{"W": [[1.0, 2.0], [1.0]]}]}, "layers.0.W"),
    ({"type": "set_weights", "layers": [{"W": [[1.0, 2.0]]}, {"W": [[1.0, 2.0]]}]}, "layers.1.W"),
    ({"type": "set_weights", "layers": [{"W": [[1.0]], "b": [1.0, 2.0]}]}, "layers.0.b"),
    ({"type": "set_weights", "layers": [{"W": [[1.0]], "B": [1.0]}]}, "layers.0.B"),
    ({"type": "set_sample", "index": 0, "x": [1, 2], "y": [1]}, "index"),
    ({"type": "set_sample", "index": 2, "x": [1, 2], "y": [1]}, "index"),
    ({"type": "set_sample", "index": 1, "x": [], "y": [1]}, "x"),
    ({"type": "set_sample", "index": 1, "x": [1, 2, 3], "y": [1]}, "x"),
    ({"type": "set_sample", "index": 1, "x": [1, 2], "y": [1] * 9}, "y"),
    ({"type": "set_sample", "index": 1, "x": [1, 2], "y": [1, 2]}, "y"),
    ({"type": "set_sample", "index": 1, "x": [1, -2e4], "y": [1]}, "x.1"),
    ({"type": "remove_sample", "index": 1}, "index"),
    ({"type": "remove_sample", "index": 9}, "index"),
    ({"type": "select_sample", "index": 2}, "index"),
    ({"type": "set_lr", "lr": 0}, "lr"),
    ({"type": "set_lr", "lr": -0.5}, "lr"),
    ({"type": "set_lr", "lr": 101}, "lr"),
    ({"type": "set_lr"}, "lr"),
    ({"type": "break", "rule": ""}, "rule"),
    ({"type": "break", "rule": "drop-everything"}, "rule"),
    ({"type": "download", "what": "pdf"}, "what"),
    ({"type": "step", "now": True}, "now"),
    ({"type": "paste_weights", "text": 5}, "text"),
    ({"type": "paste_weights", "text": "[{"}, "text"),
    ({"type": "paste_weights", "text": '[{"W": [[1, 2, 3]]}]'}, "layers"),
    ({"type": "answer_mode", "on": "yes"}, "on"),
    ({"type": "answer_mode", "on": True, "ask": []}, "ask"),
    ({"type": "answer_mode", "on": True, "ask": ["q"]}, "ask.0"),
    ({"type": "answer_mode", "on": True, "layers": [3]}, "layers"),
    ({"type": "answers", "answers": {"d-2-1": "0.1"}}, "type"),
    ({"type": "answers", "answers": {"x-1": "0.1"}}, "answers.x-1"),
    ({"type": "answers", "answers": {"d-2-1": "1" * 41}}, "answers.d-2-1"),
    ({"type": "answers", "answers": {"d-2-1": 0.1}}, "answers.d-2-1"),
]

#: Words of pydantic's own messages, which the lab must never show.
SCHEMA_WORDS = ("Input should", "Field required", "validation", "[key]", "Extra inputs",
                "String should", "List should", "Unable to extract")


def test_every_bad_message_names_its_field_and_changes_nothing(sandbox: Socket) -> None:
    before = sandbox.first
    for message, field in BAD:
        reply = sandbox.ask(message)
        assert reply["type"] == "error", message
        assert reply["field"] == field, (message, reply)
        text = reply["message"]
        assert text.endswith("."), (message, text)  # a sentence, in plain words
        assert not any(word in text for word in SCHEMA_WORDS), (message, text)
    assert sandbox.ask({"type": "ping"}) == before


def test_check_my_answer_through_the_socket(sandbox: Socket) -> None:
    sandbox.ask({"type": "preset", "name": "mazur-222"})
    state = sandbox.ask({"type": "answer_mode", "on": True})
    assert state["answer"]["on"] and len(state["answer"]["asked"]) == 16
    state = sandbox.ask({"type": "answers", "answers": {"d-2-1": "0.138", "d-1-1": "0.0364",
                                                        "g-1-1-1": "4.4e-4"}})
    verdicts = {key: v["verdict"] for key, v in state["answer"]["verdicts"].items()}
    assert verdicts == {"d-2-1": "right", "d-1-1": "wrong", "g-1-1-1": "refused"}
    assert state["answer"]["hint"].startswith("δ_1^[1] = 0.0364 is not right.")
    state = sandbox.ask({"type": "answer_mode", "on": True, "ask": ["w", "b"], "layers": [2]})
    assert state["answer"]["asked"][0] == "w-2-1-1" and state["answer"]["verdicts"] == {}


def test_a_broken_rule_and_pasted_weights_through_the_socket(sandbox: Socket) -> None:
    sandbox.ask({"type": "preset", "name": "mazur-222"})
    state = sandbox.ask({"type": "break", "rule": "transpose-W"})
    assert set(state["broken"]["values"]) == {"d-1-1", "d-1-2", "gb-1-1", "gb-1-2", "g-1-1-1",
                                              "g-1-1-2", "g-1-2-1", "g-1-2-2"}
    state = sandbox.ask({"type": "paste_weights", "text": json.dumps(
        [{"W": [[1.0, 2.0], [3.0, 4.0]], "b": [0.0, 0.0]},
         {"W": [[0.5, 0.5], [0.5, 0.5]], "b": [0.1, 0.1]}])})
    assert state["layers"][0]["W"] == [[1.0, 2.0], [3.0, 4.0]] and state["preset"] == "mazur-222"


def test_nan_and_infinity_are_refused(sandbox: Socket) -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        reply = sandbox.ask('{"type": "set_parameter", "layer": 1, "name": "W", "unit": 1, '
                            f'"source": 1, "value": {literal}}}')
        assert reply["type"] == "error" and reply["field"] == "value"
        reply = sandbox.ask(f'{{"type": "set_lr", "lr": {literal}}}')
        assert reply["type"] == "error" and reply["field"] == "lr"


def test_a_flood_of_bad_and_oversize_frames_leaves_the_session_answering(sandbox: Socket) -> None:
    frames = ["{not json", "[]", "42", "x" * (MAX_MESSAGE_BYTES + 1),
              json.dumps({"type": "set_weights", "layers": [{"W": [[0.5] * 8] * 8}] * 4,
                          "pad": "x" * MAX_MESSAGE_BYTES})]
    for _ in range(20):
        for frame in frames:
            reply = sandbox.ask(frame)
            assert reply["type"] == "error" and reply["field"] == "frame"
    state = sandbox.ask({"type": "preset", "name": "mazur-222"})
    assert state["type"] == "state" and state["preset"] == "mazur-222"


def test_two_sessions_do_not_see_each_other(client: TestClient) -> None:
    with client.websocket_connect("/ws/sandbox") as one, \
            client.websocket_connect("/ws/sandbox") as two:
        first, second = Socket(one), Socket(two)
        first.ask({"type": "preset", "name": "mazur-222"})
        first.ask({"type": "set_parameter", "layer": 1, "name": "W", "unit": 1, "source": 1,
                   "value": 3.0})
        state = second.ask({"type": "ping"})
        assert state["preset"] == "classic-231"
        assert state["layers"][0]["W"][0][0] == 0.1
        assert first.ask({"type": "ping"})["layers"][0]["W"][0][0] == 3.0
