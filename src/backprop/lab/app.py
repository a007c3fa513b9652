"""The lab's ASGI app: the index, one HTML page and one WebSocket per page, static files.

Register a page with one line in :data:`PAGES` (its URL name → its
:class:`~backprop.lab.session.Page` class); ``/NAME`` then serves
``NAME.html`` from the page's own folder of static files, ``/static/NAME/`` serves
that folder, and ``/ws/NAME`` runs a :class:`~backprop.lab.session.Session` of that
class per connection. ``/static/`` serves what every page shares (``lab/static/``).

Before any of it, :class:`~backprop.lab.guard.Guard` checks each request against the
lab's :class:`~backprop.lab.access.Access` (host, origin, token) and adds the security
headers; a socket past the caps of :class:`~backprop.lab.capacity.Capacity` is closed
with the reason; the sessions' page work takes turns (:class:`~backprop.lab.turns.Turns`).
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from backprop.lab.access import Access
from backprop.lab.capacity import (
    DEFAULT_MAX_SESSIONS,
    DEFAULT_MAX_SESSIONS_PER_CLIENT,
    FULL_CLOSE_CODE,
    Capacity,
)
from backprop.lab.guard import Guard
from backprop.lab.index import index_html as guided_index
from backprop.lab.playground.page import PlaygroundPage
from backprop.lab.regression.page import RegressionPage
from backprop.lab.sandbox.page import SandboxPage
from backprop.lab.session import DEFAULT_IDLE_TIMEOUT, Page, Session
from backprop.lab.turns import Turns

#: The assets every page shares (the index, common.js, style.css).
STATIC = Path(__file__).resolve().parent / "static"

#: The pages: URL name → the class that holds one tab's state and logic.
PAGES: dict[str, type[Page]] = {
    "regression": RegressionPage,
    "sandbox": SandboxPage,
    "playground": PlaygroundPage,
}


def index_html(course_url: str | None = None) -> str:
    """The index: where to begin, the path through the registered pages, the others."""
    return guided_index(PAGES, course_url)


def create_app(*, idle_timeout: float = DEFAULT_IDLE_TIMEOUT, access: Access | None = None,
               max_sessions: int = DEFAULT_MAX_SESSIONS,
               max_sessions_per_client: int = DEFAULT_MAX_SESSIONS_PER_CLIENT,
               course_url: str | None = None) -> Starlette:
    """The lab app; a session closes after ``idle_timeout`` seconds without a message.

    ``access``: whom it answers (by default, as ``backprop lab`` bound to 127.0.0.1:8765);
    at most ``max_sessions`` sessions at once, ``max_sessions_per_client`` from one address.
    With ``course_url`` (the documentation site) the index links each page to its notebook.
    """
    if idle_timeout <= 0:
        raise ValueError(f"idle_timeout must be positive, got {idle_timeout}")
    if access is None:
        access = Access.for_bind("127.0.0.1", 8765)
    capacity = Capacity(max_sessions, max_sessions_per_client)
    turns = Turns()

    async def index(request: Request) -> Response:
        return HTMLResponse(index_html(course_url))

    async def page(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in PAGES:
            return HTMLResponse(f"no lab page named {html.escape(name)}", status_code=404)
        return FileResponse(PAGES[name].static / f"{name}.html", media_type="text/html")

    async def socket(websocket: WebSocket) -> None:
        name = websocket.path_params["name"]
        if name not in PAGES:
            await websocket.close(code=4404, reason=f"no lab page named {name}")
            return
        client = websocket.client.host if websocket.client is not None else ""
        refusal = capacity.admit(client)
        if refusal is not None:
            await websocket.accept()
            await websocket.close(FULL_CLOSE_CODE, refusal)
            return
        try:
            tab = await turns.run(client, PAGES[name])
            await Session(websocket, tab, idle_timeout, turns, client).run()
        finally:
            capacity.release(client)

    routes = [
        Route("/", index),
        *(Mount(f"/static/{name}", app=StaticFiles(directory=page.static), name=f"static-{name}")
          for name, page in PAGES.items()),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        WebSocketRoute("/ws/{name}", socket),
        Route("/{name}", page),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Guard, access=access)])
    app.state.capacity, app.state.turns = capacity, turns
    return app
