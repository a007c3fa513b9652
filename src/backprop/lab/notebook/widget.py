"""A lab page as a notebook widget: the page's Python side driven through an anywidget model.

:class:`LabWidget` holds one :class:`~backprop.lab.session.Page` and plays the part the
lab's WebSocket :class:`~backprop.lab.session.Session` plays for a tab: frames from the
page's script (the widget model's custom messages, ``{"lab": text}``) go through
:func:`~backprop.lab.exchange.replies`, the replies go back the same way, and a play
thread calls :func:`~backprop.lab.exchange.tick` at the page's rate while it plays. The
notebook drives the same page with the same messages: :meth:`play`, :meth:`pause`,
:meth:`step`, and settings as traits (a change in the page shows in the trait, setting
the trait sends the page the message the page's own control would).

:attr:`state` is the page's state as its script holds it (``window.backpropLab.state()``):
every state reply merged in order. A display carries, besides the live view, a PNG of
the page's last frame (:mod:`backprop.lab.notebook.frames`) and a line of HTML, which
static renderings of the notebook show instead.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import anywidget
import traitlets

from backprop.errors import OptionError
from backprop.lab import exchange
from backprop.lab.notebook.assets import widget_module
from backprop.lab.protocol import Reply
from backprop.lab.session import Page

#: The sentence shown where the live widget cannot run (a static page of the notebook).
STATIC_NOTE = ("A live widget of the backprop lab: run this notebook (pip install "
               "\"backprop-mlp[notebook]\", then JupyterLab, Notebook 7 or marimo) to train it.")


class LabWidget(anywidget.AnyWidget):
    """A lab page in a notebook cell, its Python side in this kernel.

    Subclasses set ``_esm`` (:func:`~backprop.lab.notebook.assets.widget_module` of
    their page) and ``SETTINGS`` (trait name → where the page's state holds it) and
    implement :meth:`_setting_message`, :attr:`network` and :attr:`history`.
    """

    #: Styles added inside the page (the controls that do not apply to this widget hidden).
    _css = traitlets.Unicode("").tag(sync=True)
    #: A line the host shows above the page (e.g. which plane is drawn).
    _caption = traitlets.Unicode("").tag(sync=True)
    #: Whether the page is playing (set it to play or pause).
    playing = traitlets.Bool(False).tag(sync=True)

    #: Trait name → the path of its value in the page's state (keys, outermost first).
    SETTINGS: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: Most steps one "step" message may ask for.
    STEP_CHUNK: ClassVar[int] = 1

    def __init__(self, page: Page, *, css: str = "", caption: str = "",
                 link: str | None = None) -> None:
        self._page = page
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state: Reply = {"page": page.name}
        self._player: threading.Thread | None = None
        self._mirroring = False
        self._link = link
        self._views = 0  # views shown now, as their hosts report them
        super().__init__(_css=css, _caption=caption)
        self.on_msg(self._receive)
        self.observe(self._setting_changed, names=[*self.SETTINGS, "playing"])
        with self._lock:
            self._emit([page.state()])

    # -- what the notebook reads --------------------------------------------------------------
    @property
    def state(self) -> Reply:
        """The page's state as its script holds it: the same JSON as
        ``window.backpropLab.state()`` in the page (a copy)."""
        with self._lock:
            return copy.deepcopy(self._state)

    @property
    def page(self) -> Page:
        """The page's Python side (the lab's own class), for reading; drive it through the
        widget's methods, which keep the view in step."""
        return self._page

    # -- what the notebook does ---------------------------------------------------------------
    def play(self) -> None:
        """Start training (or stepping) at the page's rate, in this kernel, in the background."""
        self.send_message({"type": "play"})

    def pause(self) -> None:
        self.send_message({"type": "pause"})

    def step(self, n: int = 1) -> None:
        """Take ``n`` steps now (pausing first), as the page's step button does."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise OptionError(f"n: expected a whole number of steps ≥ 1, got {n!r}")
        left = n
        while left > 0:
            count = min(left, self.STEP_CHUNK)
            self.send_message(self._step_message(count))
            left -= count

    def reset(self) -> None:
        """Back to step 0, as the page's reset button does."""
        self.send_message({"type": "reset"})

    def send_message(self, message: dict[str, Any]) -> list[Reply]:
        """Send the page one message, as its script would (``{"type": verb, ...}``); the
        replies, after they have reached the view. A refusal raises OptionError."""
        with self._lock:
            replies = exchange.replies(self._page, json.dumps(message))
            self._emit(replies)
        for reply in replies:
            if reply.get("type") == "error":
                raise OptionError(f"{reply['field']}: {reply['message']}")
        return replies

    def wait(self, until: Callable[[LabWidget], bool], timeout: float = 30.0) -> bool:
        """Block until ``until(self)`` holds (checked after each update), at most ``timeout``
        seconds; whether it held. For a cell that plays and reads the result."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not until(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def close(self) -> None:
        """Stop playing and close the views."""
        if "_page" not in self.__dict__:  # refused before it was made (a widget's __del__)
            super().close()
            return
        with self._lock:
            self._page.playing = False
            self._changed.notify_all()
        player = self._player
        if player is not None and player is not threading.current_thread():
            player.join(timeout=5)
        super().close()

    # -- the channel ---------------------------------------------------------------------------
    def _step_message(self, count: int) -> dict[str, Any]:
        return {"type": "step", "count": count}

    def _receive(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """A frame from the page's script, or a view shown or gone (from the host)."""
        if not isinstance(content, dict):
            return
        text, view = content.get("lab"), content.get("view")
        with self._lock:
            if isinstance(text, str):
                self._emit(exchange.replies(self._page, text))
            elif view in ("open", "closed"):
                self._views = max(0, self._views + (1 if view == "open" else -1))
                if view == "closed" and self._views == 0 and self._page.playing:
                    self._emit(exchange.replies(self._page, json.dumps({"type": "pause"})))

    def _emit(self, replies: list[Reply]) -> None:
        """Fold state replies into :attr:`state`, send every reply to the views, mirror the
        settings, wake waiters, and play if the page now plays. Called holding the lock."""
        for reply in replies:
            if reply.get("type") == "state":
                exchange.merge(self._state, reply)
            self.send({"lab": exchange.encode(reply)})
        self._mirror()
        self._changed.notify_all()
        if self._page.playing and (self._player is None or not self._player.is_alive()):
            self._player = threading.Thread(target=self._play, name="backprop-lab-widget",
                                            daemon=True)
            self._player.start()

    def _play(self) -> None:
        """The play loop: a tick per interval while the page plays (as the lab's session)."""
        interval = self._page.tick_interval
        deadline = time.monotonic()
        while True:
            with self._lock:
                if not self._page.playing:
                    self._mirror()
                    return
                self._emit(exchange.tick(self._page))
                deadline = max(deadline + interval, time.monotonic())
                # wait out the interval (the lock free meanwhile); a pause ends it at once
                while self._page.playing and (left := deadline - time.monotonic()) > 0:
                    self._changed.wait(left)

    # -- settings ---------------------------------------------------------------------------------
    def _mirror(self) -> None:
        """The traits from the page's state (without sending anything back)."""
        self._mirroring = True
        try:
            self.playing = bool(self._page.playing)
            for name, path in self.SETTINGS.items():
                value: Any = self._state
                for key in path:
                    value = value.get(key) if isinstance(value, dict) else None
                if value is not None and value != getattr(self, name):
                    setattr(self, name, value)
        finally:
            self._mirroring = False

    def _setting_changed(self, change: dict[str, Any]) -> None:
        if self._mirroring:
            return
        name = change["name"]
        if name == "playing":
            message = {"type": "play" if change["new"] else "pause"}
        else:
            message = self._setting_message(name, change["new"])
        try:
            self.send_message(message)
        except OptionError:
            with self._lock:
                self._mirror()  # the trait back to what the page holds
            raise

    def _setting_message(self, name: str, value: Any) -> dict[str, Any]:
        """The message the page's own control for setting ``name`` sends."""
        raise NotImplementedError

    # -- display --------------------------------------------------------------------------------
    def _frame(self) -> bytes | None:
        """A PNG of the page's last frame, or None where it cannot be drawn here."""
        return None

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        with self._lock:
            png = self._frame()
        note = html.escape(STATIC_NOTE)
        if self._link:
            note += f' <a href="{html.escape(self._link, quote=True)}">Run the notebook.</a>'
        parts = []
        if png is not None:
            encoded = base64.b64encode(png).decode("ascii")
            data["image/png"] = encoded
            parts.append(f'<img src="data:image/png;base64,{encoded}" alt="the widget\'s last '
                         f'frame: {html.escape(self._page.title, quote=True)}">')
        parts.append(f"<p><em>{note}</em></p>")
        data["text/html"] = "<div class=\"backprop-lab-frame\">" + "".join(parts) + "</div>"
        return data, metadata

    @classmethod
    def module(cls, page: type[Page]) -> str:
        """The ES module of a widget of this page."""
        return widget_module(page)
