"""``backprop lab``: serve the lab (live pages driven by this library) on a local port."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import webbrowser
from importlib.util import find_spec
from typing import Any

from backprop.errors import OptionError
from backprop.version import install_hint

#: The modules of the optional extra ``backprop-mlp[lab]``.
LAB_MODULES = ("starlette", "uvicorn", "websockets", "pydantic")
INSTALL_HINT = install_hint("lab")
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
    parser.set_defaults(run=run)
    return parser


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    import uvicorn

    from backprop.lab.app import create_app

    sock = bind(args.host, args.port)
    if not is_loopback(args.host):
        print(f"backprop lab: warning: listening on {args.host}, not loopback: anyone who can "
              "reach this machine can use the lab", file=sys.stderr, flush=True)
    url = url_of(sock)
    config = uvicorn.Config(
        create_app(idle_timeout=args.idle_timeout), log_level="warning",
        timeout_graceful_shutdown=2, ws_max_size=WS_MAX_FRAME_BYTES,
    )
    server = uvicorn.Server(config)
    print(f"backprop lab: serving on {url}", flush=True)
    if args.open:
        webbrowser.open(url)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down cleanly, then passed Ctrl-C on
    finally:
        sock.close()
    print("backprop lab: stopped", flush=True)
    return 0
