"""Page work in turns: one call at a time, in a worker thread, shared fairly.

Every call into a page (making it, answering a message, a play tick) waits for
its turn, then runs in a worker thread while the event loop goes on serving
sockets. The turn goes to the waiting client address that has had the fewest
turns (a client that comes back after a pause starts level with the last one
served, so a pause saves no credit); within a client, to its calls in the
order they came. So a client that opens many sessions takes one client's share
of the CPU, not one per session; and the sessions of one client, playing, each
get the same number of turns: a flood of sessions cannot starve one that was
there before.

One call at a time is what Python's GIL allows anyway for a small network's
steps, and it keeps each page's state touched by one thread at a time.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _grant(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Turns:
    """The line of page calls. Thread-safe: waiters may sit on different event loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = False
        #: Waiting calls per client, in the order they came.
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        #: Turns taken per client, counted from where the round stood when it came.
        self._taken: dict[str, int] = {}
        #: The count of the client served last: where the round stands.
        self._now = 0

    @property
    def waiting(self) -> int:
        """Calls waiting for their turn."""
        with self._lock:
            return sum(map(len, self._waiting.values()))

    async def run(self, client: str, work: Callable[[], T]) -> T:
        """``work()`` in its turn, in a worker thread. If the caller is cancelled while it
        runs, it still finishes before the next turn begins."""
        await self._take(client)
        try:
            call = asyncio.get_running_loop().run_in_executor(None, work)
        except BaseException:
            self._pass_on()
            raise
        call.add_done_callback(lambda _: self._pass_on())
        return await asyncio.shield(call)

    def _arrive(self, client: str) -> None:
        """A client with nothing waiting comes: it starts no earlier than the round."""
        self._taken[client] = max(self._taken.get(client, 0), self._now)

    def _serve(self, client: str) -> None:
        self._now = self._taken[client]
        self._taken[client] += 1
        for other in [c for c, taken in self._taken.items()  # forget those level with
                      if taken <= self._now and c not in self._waiting]:  # the round
            del self._taken[other]

    async def _take(self, client: str) -> None:
        with self._lock:
            if not self._busy:
                self._busy = True
                self._arrive(client)
                self._serve(client)
                return
            if client not in self._waiting:
                self._arrive(client)
                self._waiting[client] = deque()
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting[client].append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            with self._lock:
                line = self._waiting.get(client)
                if line is not None and waiter in line:  # still in line: just leave it
                    line.remove(waiter)
                    if not line:
                        del self._waiting[client]
                    raise
            self._pass_on()  # the turn came as the caller went: hand it on
            raise

    def _pass_on(self) -> None:
        """Give the turn to the first call of the waiting client with the fewest turns."""
        while True:
            with self._lock:
                if not self._waiting:
                    self._busy = False
                    return
                client = min(self._waiting, key=self._taken.__getitem__)  # ties: first come
                line = self._waiting[client]
                waiter = line.popleft()
                if not line:
                    del self._waiting[client]
                self._serve(client)
            try:
                waiter.get_loop().call_soon_threadsafe(_grant, waiter)
                return
            except RuntimeError:  # its event loop has closed: the next in line
                continue
