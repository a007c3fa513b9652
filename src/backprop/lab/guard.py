"""The lab's door: every request checked against its :class:`~backprop.lab.access.Access`
before any page or session sees it, and every answer sent with the security headers.

A refused page gets 403 and one line saying what to do; a refused WebSocket upgrade
gets 403 too (with that line as its body where the server can send one), before any
session is made. A request that brings the right token in its query gets it back as
a cookie (HttpOnly, SameSite=Strict), which the page's later requests and its
socket carry.

The headers: a Content-Security-Policy that lets a page run only the lab's own
scripts and styles (no inline script, no inline style attribute, no eval) and
connect only to the lab's own WebSocket, and be framed only by the lab itself or
an admitted origin; ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from backprop.lab.access import TOKEN_PARAMETER, Access

#: Close code of a refused upgrade where the server cannot send a 403 body (policy violation).
REFUSED_CLOSE_CODE = 1008
#: A Host value safe to write into the policy (a name or an address, and a port).
_PLAIN_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$")


def content_security_policy(host: str, frame_origins: frozenset[str]) -> str:
    """The policy of every answer: the lab's own scripts, styles, images and socket only."""
    socket = f" ws://{host}" if _PLAIN_HOST.match(host) else ""
    ancestors = " ".join(["'self'", *sorted(frame_origins)])
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # data: for the empty favicon
        f"connect-src 'self'{socket}",
        "base-uri 'none'",
        "form-action 'none'",
        f"frame-ancestors {ancestors}",
    ])


def security_headers(access: Access, host: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", content_security_policy(host, access.origins).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]


def refusal_page(reason: str) -> str:
    """The one-line page of a refused request."""
    escaped = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>backprop lab</title>'
            f"<p>{escaped}</p></html>\n")


class Guard:
    """ASGI middleware: refuses what :meth:`Access.refusal` refuses, adds the headers."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        host = connection.headers.get("host", "")
        from_query = connection.query_params.get(TOKEN_PARAMETER)
        token = from_query or connection.cookies.get(self.access.cookie)
        upgrade = scope["type"] == "websocket"
        reason = self.access.refusal(upgrade=upgrade, method=scope.get("method", "GET"),
                                     host=host, origin=connection.headers.get("origin"),
                                     token=token)
        headers = security_headers(self.access, host)
        if reason is not None:
            if upgrade:
                await self.refuse_upgrade(scope, receive, send, reason)
            else:
                response = HTMLResponse(refusal_page(reason), status_code=403)
                response.raw_headers += headers
                await response(scope, receive, send)
            return
        if upgrade:
            await self.app(scope, receive, send)
            return
        if self.access.token is not None and from_query == self.access.token:
            headers.append((b"set-cookie", (f"{self.access.cookie}={self.access.token}; "
                                            "Path=/; HttpOnly; SameSite=Strict").encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def refuse_upgrade(self, scope: Scope, receive: Receive, send: Send,
                             reason: str) -> None:
        websocket = WebSocket(scope, receive, send)
        if "websocket.http.response" in scope.get("extensions", {}):
            await websocket.send_denial_response(PlainTextResponse(reason, status_code=403))
        else:  # the server answers 403 on its own
            await websocket.close(REFUSED_CLOSE_CODE, reason)
