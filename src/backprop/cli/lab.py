"""``backprop lab``: serve the lab (live pages driven by this library) on a local port."""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
import webbrowser
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

from backprop.cli.option_kinds import at_least, between, flag, positive, real, text, texts, whole
from backprop.cli.options import Options, add_command, option
from backprop.errors import OptionError
from backprop.lab.access import Access, is_loopback, parse_origin
from backprop.lab.capacity import DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_CLIENT
from backprop.version import install_hint

#: The modules of the optional extra ``backprop-mlp[lab]``.
LAB_MODULES = ("starlette", "uvicorn", "websockets", "pydantic")
INSTALL_HINT = install_hint("lab")
#: Frames up to this size reach the lab's parser (which refuses those over 64 KiB with an
#: error reply and keeps the session); larger ones close the connection.
WS_MAX_FRAME_BYTES = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class LabOptions(Options):
    host: str = option(text, "127.0.0.1", "address to bind")
    port: int = option(whole, 8765, "port; 0 picks a free one", check=between(0, 65535))
    open: bool = option(flag, False, "open the index in a web browser")
    idle_timeout: float = option(
        real, 15 * 60.0, "close a tab's session after this many seconds without input",
        check=positive, metavar="SECONDS")
    course_url: str | None = option(
        text, None, "the documentation site's address: the index links each page to its "
        "course notebook there (URL/course/NAME/)", metavar="URL")
    imports: list[str] = option(
        texts, [], "import this Python module first (repeatable; the current folder is "
        "searched too), e.g. one whose bp.register_activation calls the lab's menus should offer",
        repeat=True, metavar="MODULE", aliases=("--import",), shown="none")
    allow_origins: list[str] = option(
        texts, [], "also admit pages from this origin, e.g. a course site that embeds the lab "
        "(repeatable; by default only the lab's own pages may open sessions)",
        repeat=True, metavar="URL", aliases=("--allow-origin",), shown="none")
    require_token: bool = option(
        flag, False, "ask for the printed link's token on loopback too (always asked beyond "
        "loopback)")
    max_sessions: int = option(whole, DEFAULT_MAX_SESSIONS, "most sessions (tabs) open at once",
                               check=at_least(1), metavar="N")
    max_sessions_per_client: int = option(
        whole, DEFAULT_MAX_SESSIONS_PER_CLIENT, "most sessions open at once from one address",
        check=at_least(1), metavar="N")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    return add_command(
        subparsers, "lab", LabOptions, run,
        help="serve the lab: gradient descent on a live canvas, equations checked in the browser",
        description="Start the lab's local web server and print its URL. Every number on "
        "its pages is computed by this library in Python and streamed over a WebSocket. "
        "Ctrl-C stops it.",
    )


def import_modules(names: list[str]) -> None:
    """Import each ``--import`` module, so that what it registers (an activation, a loss)
    is in the library's registries before the lab reads them."""
    if names and "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in names:
        if not name.strip():
            raise OptionError("--import needs a module name, got an empty one")
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            missing = error.name or ""
            if missing and (name == missing or name.startswith(missing + ".")):
                raise OptionError(f"--import {name}: no module named {missing!r} in the "
                                  "current folder or on the Python path") from None
            raise  # the module itself imports something missing: its own traceback


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0 lets the system pick a free one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OptionError(f"--host {host!r} cannot be resolved: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise OptionError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def run(o: LabOptions) -> int:
    missing = [name for name in LAB_MODULES if find_spec(name) is None]
    if missing:
        print(f"backprop: error: the lab needs {', '.join(missing)}: {INSTALL_HINT}",
              file=sys.stderr)
        return 2
    origins = [parse_origin(origin) for origin in o.allow_origins]
    import_modules(o.imports)
    import uvicorn

    from backprop.lab.app import create_app

    sock = bind(o.host, o.port)
    if not is_loopback(o.host):
        print(f"backprop lab: warning: listening on {o.host}, not loopback: anyone who can "
              "reach this machine and has the link with its token can use the lab",
              file=sys.stderr, flush=True)
    url = url_of(sock)
    access = Access.for_bind(o.host, sock.getsockname()[1], allow_origins=origins,
                             require_token=o.require_token)
    app = create_app(idle_timeout=o.idle_timeout, access=access,
                     max_sessions=o.max_sessions,
                     max_sessions_per_client=o.max_sessions_per_client,
                     course_url=o.course_url)
    config = uvicorn.Config(  # proxy_headers off: a session's address is the peer's own
        app, log_level="warning", timeout_graceful_shutdown=2, ws_max_size=WS_MAX_FRAME_BYTES,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    print(f"backprop lab: serving on {access.link(url)}", flush=True)
    if access.token is not None:
        anywhere = o.host in ("0.0.0.0", "::")  # every address of this machine
        print("backprop lab: every page asks for the token in that link: hand out the whole "
              "link" + (", with this machine's address on the network in place of "
                        f"{o.host}" if anywhere else ""), flush=True)
    if o.open:
        webbrowser.open(access.link(url))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down cleanly, then passed Ctrl-C on
    finally:
        sock.close()
    print("backprop lab: stopped", flush=True)
    return 0
