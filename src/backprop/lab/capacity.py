"""How many sessions the lab holds: at most a few per client address, and a total.

Each session costs memory and a share of the CPU (:mod:`backprop.lab.turns`), so one
client (a hostile page, a runaway script, a student with many tabs) may hold at most
``per_client`` at once, and the lab ``total``; the defaults let a classroom of 40 work
with a few tabs each. A socket over either cap is accepted and closed at once with
:data:`FULL_CLOSE_CODE` and a reason the page shows.

Pure standard library, so the command can read the defaults before the lab's extra is checked.
"""

from __future__ import annotations

import threading
from collections import Counter

#: Sessions open at once, in all and from one client address.
DEFAULT_MAX_SESSIONS = 120
DEFAULT_MAX_SESSIONS_PER_CLIENT = 8
#: Close code of a socket refused for lack of room (the WebSocket code "try again later").
FULL_CLOSE_CODE = 1013


class Capacity:
    """The count of live sessions per client address; admits while under both caps.

    Thread-safe: a server may run sessions on more than one event loop.
    """

    def __init__(self, total: int = DEFAULT_MAX_SESSIONS,
                 per_client: int = DEFAULT_MAX_SESSIONS_PER_CLIENT) -> None:
        if total < 1 or per_client < 1:
            raise ValueError(f"the session caps must be at least 1, got total={total}, "
                             f"per_client={per_client}")
        self.total = total
        self.per_client = per_client
        self.live: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, client: str) -> str | None:
        """Count a new session from ``client`` in; or, when a cap is reached, why not
        (a close reason, under the 123 bytes a WebSocket close allows)."""
        with self._lock:
            if self.live[client] >= self.per_client:
                sessions = "1 session" if self.per_client == 1 else f"{self.per_client} sessions"
                return (f"this address has {sessions} open, the most allowed: "
                        "close a lab tab, then reload")
            if self.live.total() >= self.total:
                return (f"the lab has {self.total} sessions open, its most: "
                        "try again when one closes")
            self.live[client] += 1
            return None

    def release(self, client: str) -> None:
        """A session from ``client`` ended."""
        with self._lock:
            self.live[client] -= 1
            if self.live[client] <= 0:
                del self.live[client]

    def open_sessions(self) -> int:
        with self._lock:
            return self.live.total()
