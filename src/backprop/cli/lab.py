"""``backprop lab``: serve the lab (live pages driven by this library) on a local port."""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
import webbrowser
from importlib.util import find_spec
from typing import Any

from backprop.errors import OptionError
from backprop.lab.access import Access, is_loopback, parse_origin
from backprop.lab.capacity import DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_CLIENT

#: The modules of the optional extra ``backprop[lab]``.
LAB_MODULES = ("starlette", "uvicorn", "websockets", "pydantic")
INSTALL_HINT = "pip install 'backprop[lab]'"
#: Frames up to this size reach the lab's parser (which refuses those over 64 KiB with an
#: error reply and keeps the session); larger ones close the connection.
WS_MAX_FRAME_BYTES = 1024 * 1024


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "lab",
        help="serve the lab: gradient descent on a live canvas, equations checked in the browser",
        description="Start the lab's local web server and print its URL. Every number on "
        "its pages is computed by this library in Python and streamed over a WebSocket. "
        "Ctrl-C stops it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one (8765)")
    parser.add_argument("--open", action="store_true", help="open the index in a web browser")
    parser.add_argument(
        "--idle-timeout", type=float, default=15 * 60.0, metavar="SECONDS",
        help="close a tab's session after this many seconds without input (900)",
    )
    parser.add_argument(
        "--import", dest="imports", action="append", default=[], metavar="MODULE",
        help="import this Python module first (repeatable; the current folder is searched "
        "too), e.g. one whose bp.register_activation calls the lab's menus should offer",
    )
    parser.add_argument(
        "--allow-origin", dest="allow_origins", action="append", default=[], metavar="URL",
        help="also admit pages from this origin, e.g. a course site that embeds the lab "
        "(repeatable; by default only the lab's own pages may open sessions)",
    )
    parser.add_argument(
        "--require-token", action="store_true",
        help="ask for the printed link's token on loopback too (always asked beyond loopback)",
    )
    parser.add_argument(
        "--max-sessions", type=int, default=DEFAULT_MAX_SESSIONS, metavar="N",
        help=f"most sessions (tabs) open at once ({DEFAULT_MAX_SESSIONS})",
    )
    parser.add_argument(
        "--max-sessions-per-client", type=int, default=DEFAULT_MAX_SESSIONS_PER_CLIENT,
        metavar="N",
        help=f"most sessions open at once from one address ({DEFAULT_MAX_SESSIONS_PER_CLIENT})",
    )
    parser.set_defaults(run=run)
    return parser


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
    if not 0 <= port <= 65535:
        raise OptionError(f"--port must be between 0 and 65535, got {port}")
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


def run(args: argparse.Namespace) -> int:
    missing = [name for name in LAB_MODULES if find_spec(name) is None]
    if missing:
        print(f"backprop: error: the lab needs {', '.join(missing)}: {INSTALL_HINT}",
              file=sys.stderr)
        return 2
    if args.idle_timeout <= 0:
        raise OptionError(f"--idle-timeout must be positive, got {args.idle_timeout}")
    for flag, value in (("--max-sessions", args.max_sessions),
                        ("--max-sessions-per-client", args.max_sessions_per_client)):
        if value < 1:
            raise OptionError(f"{flag} must be at least 1, got {value}")
    origins = [parse_origin(origin) for origin in args.allow_origins]
    import_modules(args.imports)
    import uvicorn

    from backprop.lab.app import create_app

    sock = bind(args.host, args.port)
    if not is_loopback(args.host):
        print(f"backprop lab: warning: listening on {args.host}, not loopback: anyone who can "
              "reach this machine and has the link with its token can use the lab",
              file=sys.stderr, flush=True)
    url = url_of(sock)
    access = Access.for_bind(args.host, sock.getsockname()[1], allow_origins=origins,
                             require_token=args.require_token)
    app = create_app(idle_timeout=args.idle_timeout, access=access,
                     max_sessions=args.max_sessions,
                     max_sessions_per_client=args.max_sessions_per_client)
    config = uvicorn.Config(  # proxy_headers off: a session's address is the peer's own
        app, log_level="warning", timeout_graceful_shutdown=2, ws_max_size=WS_MAX_FRAME_BYTES,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    print(f"backprop lab: serving on {access.link(url)}", flush=True)
    if access.token is not None:
        anywhere = args.host in ("0.0.0.0", "::")  # every address of this machine
        print("backprop lab: every page asks for the token in that link: hand out the whole "
              "link" + (", with this machine's address on the network in place of "
                        f"{args.host}" if anywhere else ""), flush=True)
    if args.open:
        webbrowser.open(access.link(url))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down cleanly, then passed Ctrl-C on
    finally:
        sock.close()
    print("backprop lab: stopped", flush=True)
    return 0
