"""A user's own activation reaches the lab: registered before the app is created (in
Python, or by `backprop lab --import MODULE`), it is in the pages' menus and message
schemas, and a network built with it trains there."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")

import backprop as bp
from backprop.cli.entry import main
from backprop.lab.playground.page import PlaygroundPage
from backprop.lab.playground.protocol import Setup
from backprop.lab.sandbox.page import SandboxPage
from backprop.nn import activations
from lab_client import Socket, new_client
from lab_fixtures import start_lab

NAME = "softplus_lab"

#: The module a user hands to `backprop lab --import`: an activation, registered.
MODULE = f'''
import numpy as np

import backprop as bp


class Softplus(bp.Activation):
    """σ(z) = log(1 + e^z), σ'(z) = 1 / (1 + e^(−z))."""

    name = "{NAME}"
    derivative_formula = "1 − e^(−a)"

    def function(self, z, out):
        return np.logaddexp(0.0, z, out=out)

    def derivative(self, z, a):
        return 1.0 - np.exp(-a)


bp.register_activation("{NAME}", Softplus)
'''


class Softplus(bp.Activation):
    """σ(z) = log(1 + e^z), σ'(z) = 1 / (1 + e^(−z)) = 1 − e^(−a)."""

    name = NAME

    def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, z, out=out)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return 1.0 - np.exp(-a)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Softplus registered as a user would, in a copy of the table that the test leaves behind."""
    monkeypatch.setattr(activations, "_ACTIVATIONS", dict(activations._ACTIVATIONS))
    assert NAME not in activations.activation_names()
    bp.register_activation(NAME, Softplus)
    yield NAME


def schema_names(schema: dict[str, Any]) -> str:
    return json.dumps(schema)


def test_before_registration_the_lab_neither_offers_nor_accepts_it() -> None:
    assert f'"{NAME}"' not in schema_names(PlaygroundPage.messages.json_schema())
    with new_client().websocket_connect("/ws/playground") as ws:
        playground = Socket(ws)
        assert NAME not in playground.first["options"]["activation"]
        error = playground.ask({"type": "configure", "activation": NAME})
        assert error["type"] == "error" and error["field"] == "activation"
        assert error["message"].startswith(f"Unknown activation '{NAME}'; choose one of linear, ")


def test_a_registered_activation_is_in_the_schemas_and_menus_and_trains(registered: str) -> None:
    # the message schemas: the setup, the playground's messages, the sandbox's
    assert registered in Setup.model_json_schema()["properties"]["activation"]["enum"]
    assert f'"{registered}"' in schema_names(PlaygroundPage.messages.json_schema())
    assert f'"{registered}"' in schema_names(SandboxPage.messages.json_schema())
    client = new_client()  # created after the registration, as `backprop lab --import` does
    with client.websocket_connect("/ws/playground") as ws:
        playground = Socket(ws)
        assert playground.first["options"]["activation"][-1] == registered
        state = playground.ask({"type": "configure", "activation": registered})
        assert state["setup"]["activation"] == registered
        state = playground.ask({"type": "step", "count": 5})
        assert state["step"] == 5 and math.isfinite(state["loss_train"])
        check = playground.ask({"type": "gradient_check"})["gradient_check"]
        assert check["verdict"] == "PASS"
    with client.websocket_connect("/ws/sandbox") as ws:
        sandbox = Socket(ws)
        assert registered in sandbox.first["options"]["activations"]
        state = sandbox.ask({"type": "configure", "widths": [2, 3, 1],
                             "activations": [registered, "sigmoid"]})
        assert state["type"] == "state", state
        assert [layer["activation"] for layer in state["layers"]] == [registered, "sigmoid"]
        assert sandbox.ask({"type": "check"})["check"]["verdict"] == "PASS"


def test_import_names_a_module_that_is_not_there(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    assert main(["lab", "--port", "0", "--import", "no_such_module_for_the_lab"]) == 2
    err = capsys.readouterr().err
    assert err == ("backprop: error: --import no_such_module_for_the_lab: no module named "
                   "'no_such_module_for_the_lab' in the current folder or on the Python path\n")


def test_a_module_that_fails_to_import_shows_its_own_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "lab_broken_module.py").write_text("import a_package_nobody_installed\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    assert main(["lab", "--port", "0", "--import", "lab_broken_module"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "a_package_nobody_installed" in err
    sys.modules.pop("lab_broken_module", None)


def test_backprop_lab_import_offers_the_module_s_activation_in_the_browser(
    tmp_path: Path, chromium: Any
) -> None:
    (tmp_path / "lab_softplus.py").write_text(MODULE, encoding="utf-8")
    server = start_lab("--import", "lab_softplus", cwd=tmp_path)
    context = chromium.new_context(viewport={"width": 1400, "height": 950})
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(server.url + "playground")
        page.wait_for_function("() => window.backpropLab && window.backpropLab.state().type"
                               " === 'state'", timeout=10_000)
        menu = page.eval_on_selector_all('[data-testid="pg-activation"] option',
                                         "options => options.map((o) => o.value)")
        assert menu == page.evaluate("() => window.backpropLab.state().options.activation")
        assert NAME in menu
        page.get_by_test_id("pg-activation").select_option(NAME)
        page.wait_for_function(
            f"() => window.backpropLab.state().setup.activation === '{NAME}'", timeout=10_000)
        page.get_by_test_id("pg-step").click()
        page.wait_for_function("() => window.backpropLab.state().step === 1", timeout=10_000)
        assert math.isfinite(page.evaluate("() => window.backpropLab.state().loss_train"))
        page.goto(server.url + "sandbox")
        page.wait_for_function("() => window.backpropLab && window.backpropLab.state().type"
                               " === 'state'", timeout=10_000)
        assert NAME in page.get_by_test_id("sb-activation-names").inner_text()
    finally:
        context.close()
        status = server.stop()
    assert status == 0 and problems == []
