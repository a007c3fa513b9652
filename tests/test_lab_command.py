"""`backprop lab`: the printed URL, the loopback warning, Ctrl-C, the missing-extra message."""

from __future__ import annotations

import urllib.request

import pytest

from backprop.cli import lab as lab_command
from backprop.cli.entry import main
from lab_fixtures import start_lab

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")


def test_port_0_prints_a_free_port_serves_and_stops_on_ctrl_c() -> None:
    server = start_lab()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        port = int(server.url.rstrip("/").rsplit(":", 1)[1])
        assert port > 0
        with urllib.request.urlopen(server.url, timeout=10) as response:
            assert "backprop lab" in response.read().decode()
    finally:
        status = server.stop()
    assert status == 0
    assert not any("Traceback" in line for line in server.output), server.output


def test_binding_beyond_loopback_warns() -> None:
    server = start_lab("--host", "0.0.0.0")
    try:
        assert any("warning" in line and "not loopback" in line for line in server.output)
    finally:
        assert server.stop() == 0


def test_missing_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = lab_command.find_spec
    monkeypatch.setattr(lab_command, "find_spec",
                        lambda name: None if name == "uvicorn" else real(name))
    assert main(["lab", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "backprop: error: the lab needs uvicorn: pip install 'backprop-mlp[lab]'"


@pytest.mark.parametrize(("argv", "message"), [
    (["lab", "--port", "70000"], "--port must be between 0 and 65535"),
    (["lab", "--port", "0", "--idle-timeout", "0"], "--idle-timeout must be positive"),
])
def test_bad_options_get_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("backprop: error: ") and message in err and err.count("\n") == 1
