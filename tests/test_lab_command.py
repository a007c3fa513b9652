"""`backprop lab`: the printed URL, the loopback warning, Ctrl-C, the missing-extra message."""

from __future__ import annotations

import urllib.request
from typing import Any

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


def test_binding_beyond_loopback_warns_and_asks_for_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--host 0.0.0.0, run in-process without binding beyond loopback: the socket is bound
    to 127.0.0.1 and the server is not run; the app it was given is tried instead."""
    import uvicorn

    from lab_client import TestClient

    real_bind = lab_command.bind
    monkeypatch.setattr(lab_command, "bind", lambda host, port: real_bind("127.0.0.1", 0))
    apps: list[object] = []
    monkeypatch.setattr(uvicorn.Server, "run",
                        lambda self, sockets=None: apps.append(self.config.app))
    assert main(["lab", "--host", "0.0.0.0", "--port", "0"]) == 0
    out, err = capsys.readouterr()
    assert "warning: listening on 0.0.0.0, not loopback" in err
    url = next(line for line in out.splitlines() if line.startswith("backprop lab: serving on "))
    token = url.split("?token=")[1]
    assert len(token) >= 32
    assert "with this machine's address on the network in place of 0.0.0.0" in out
    client = TestClient(apps[0], base_url="http://10.0.0.7:8765")
    assert client.get("/").status_code == 403
    assert client.get(f"/?token={token}").status_code == 200


def test_the_session_caps_and_origins_reach_the_app(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    apps: list[object] = []
    monkeypatch.setattr(uvicorn.Server, "run",
                        lambda self, sockets=None: apps.append(self.config.app))
    assert main(["lab", "--port", "0", "--max-sessions", "7", "--max-sessions-per-client", "3",
                 "--allow-origin", "https://course.example.org/", "--require-token"]) == 0
    out = capsys.readouterr().out
    assert "?token=" in out and "hand out the whole link" in out
    app: Any = apps[0]
    assert (app.state.capacity.total, app.state.capacity.per_client) == (7, 3)
    from lab_client import TestClient

    token = out.split("?token=")[1].split()[0]
    port = out.split("127.0.0.1:")[1].split("/")[0]
    client = TestClient(app, base_url=f"http://127.0.0.1:{port}")
    policy = client.get(f"/?token={token}").headers["content-security-policy"]
    assert "frame-ancestors 'self' https://course.example.org" in policy


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
    (["lab", "--port", "0", "--max-sessions", "0"], "--max-sessions must be at least 1"),
    (["lab", "--port", "0", "--max-sessions-per-client", "-2"],
     "--max-sessions-per-client must be at least 1"),
    (["lab", "--port", "0", "--allow-origin", "course.example.org"],
     "--allow-origin needs an origin such as https://"),
])
def test_bad_options_get_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("backprop: error: ") and message in err and err.count("\n") == 1
