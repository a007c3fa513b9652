"""Who may use the lab: its own pages, the origins it is told to admit, and a token beyond loopback.

A web page the user visits while the lab runs can ask the browser to open
``ws://127.0.0.1:8765/ws/playground``; the browser lets it, and says where the
page came from in the ``Origin`` header. So every WebSocket upgrade, and every
request that could change something (any method but GET, HEAD, OPTIONS), must
come from the lab's own origin (``http://`` and one of its addresses) or
from one given with ``--allow-origin``. An upgrade without ``Origin`` comes
from no browser page; it is refused too (a script sends the lab's own origin).

The lab's own addresses: bound to loopback, only the loopback names with its
port (``localhost``, ``127.0.0.1``, ``[::1]``); a request naming another host
(a page on a name that resolves to 127.0.0.1) is refused, whatever it asks.
Bound beyond loopback the lab cannot know every name it is reached by, so
there a token made at launch guards every request instead: it comes in the
printed link (``?token=...``), and the answer to it sets a cookie that the
page's later requests and its socket carry. On loopback the token is off
unless asked for.

Pure standard library, so the command can read it before the lab's extra is checked.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from backprop.errors import OptionError

#: The query parameter that carries the token, in the printed link and any request.
TOKEN_PARAMETER = "token"
#: The names a browser may use for this machine's loopback address.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
#: Request methods that only read: the others must come from an admitted origin.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_required(host: str, require_token: bool) -> bool:
    """Whether the lab bound to ``host`` asks for a token: always beyond loopback; on
    loopback when asked to (``--require-token``)."""
    return require_token or not is_loopback(host)


def new_token() -> str:
    """A fresh random token (192 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def parse_origin(text: str) -> str:
    """An origin as browsers send it (``scheme://host[:port]``, lower case, no path), from
    ``--allow-origin``; a one-line :class:`OptionError` for anything else."""
    parts = urlsplit(text.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (parts.scheme not in ("http", "https") or not parts.hostname or port == -1
            or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username):
        raise OptionError(f"--allow-origin needs an origin such as https://course.example.org "
                          f"(a scheme, a host, an optional port; no path), got {text!r}")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")


def host_names(names: Iterable[str], port: int) -> frozenset[str]:
    """The ``Host`` header values that name these hosts at ``port`` (the bare name too at 80)."""
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= set(names)
    return frozenset(host.lower() for host in hosts)


@dataclass(frozen=True)
class Access:
    """What the lab admits.

    ``hosts``: the ``Host`` values it answers to, or None for any (beyond loopback,
    where the token guards); ``origins``: origins admitted besides its own;
    ``token``: the token every request must carry, or None; ``cookie``: the name
    of the cookie that keeps it (one per port, so two labs on one machine do not mix).
    """

    hosts: frozenset[str] | None
    origins: frozenset[str] = frozenset()
    token: str | None = None
    cookie: str = "backprop_lab_token"

    @classmethod
    def for_bind(cls, host: str, port: int, *, allow_origins: Iterable[str] = (),
                 require_token: bool = False) -> Access:
        """The access of a lab bound to (``host``, ``port``): its own names on loopback,
        with a fresh token when :func:`token_required` says so."""
        names = None
        if is_loopback(host):
            bound = f"[{host}]" if ":" in host else host
            names = host_names({*LOOPBACK_NAMES, bound.lower()}, port)
        return cls(hosts=names, origins=frozenset(parse_origin(o) for o in allow_origins),
                   token=new_token() if token_required(host, require_token) else None,
                   cookie=f"backprop_lab_token_{port}")

    def link(self, url: str) -> str:
        """The URL to hand out: ``url`` with the token when there is one."""
        return url if self.token is None else f"{url}?{TOKEN_PARAMETER}={self.token}"

    def host_allowed(self, host: str) -> bool:
        return self.hosts is None or host.lower() in self.hosts

    def origin_allowed(self, origin: str | None, host: str) -> bool:
        """Whether a request from ``origin`` to ``host`` comes from the lab's own page or
        from an admitted origin."""
        if origin is None:
            return False
        origin = origin.lower()
        if origin in self.origins:
            return True
        if self.hosts is None:  # beyond loopback: the address this request was sent to
            return origin == f"http://{host.lower()}"
        return origin.startswith("http://") and origin[len("http://"):] in self.hosts

    def token_valid(self, given: str | None) -> bool:
        if self.token is None:
            return True
        return given is not None and secrets.compare_digest(given.encode(), self.token.encode())

    def refusal(self, *, upgrade: bool, method: str, host: str, origin: str | None,
                token: str | None) -> str | None:
        """Why a request is refused (one line, for the 403 page), or None to serve it.

        ``upgrade``: a WebSocket upgrade; ``token``: the one it carries (query or cookie).
        """
        if not self.host_allowed(host):
            served = ", ".join(f"http://{name}/" for name in sorted(self.hosts or ()))
            return f"this lab answers only at {served}, not at host {host!r}"
        if (upgrade or method.upper() not in SAFE_METHODS) and not self.origin_allowed(
                origin, host):
            if origin is None:
                return ("no Origin header: only the lab's own pages (and origins given with "
                        "--allow-origin) may open a session or change anything")
            return (f"a page from {origin} may not use this lab: only its own pages (and "
                    "origins given with --allow-origin) may")
        if not self.token_valid(token):
            return ("this lab needs its token: open the link that backprop lab printed when it "
                    f"started (it ends in ?{TOKEN_PARAMETER}=...), or ask whoever runs it")
        return None
