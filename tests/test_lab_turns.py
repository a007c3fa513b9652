"""Page work in turns: one call at a time, clients in fair turns, cancellation loses no turn."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from backprop.lab.turns import Turns

#: Turns a fairness run counts before its callers stop.
TOTAL = 360

T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: a browser test's synchronous Playwright may
    have left an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Meter:
    """Counts the calls per caller and the most that ever ran at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.active = 0
        self.most = 0

    def work(self, who: str) -> Callable[[], None]:
        def call() -> None:
            with self.lock:
                self.active += 1
                self.most = max(self.most, self.active)
            sum(range(2000))  # a little computing, where another call could slip in
            with self.lock:
                self.active -= 1
                self.calls[who] += 1
        return call

    def total(self) -> int:
        with self.lock:
            return self.calls.total()


async def keep_calling(turns: Turns, client: str, who: str, meter: Meter) -> None:
    """A playing session: a call, then at once the next, until the run has its turns."""
    while meter.total() < TOTAL:
        await turns.run(client, meter.work(who))


def play(sessions: list[tuple[str, str]]) -> Meter:
    """(client, session) pairs calling without pause; the calls each made."""
    meter = Meter()

    async def main() -> None:
        turns = Turns()
        await asyncio.gather(*(keep_calling(turns, client, who, meter)
                               for client, who in sessions))
        assert turns.waiting == 0

    run_in_own_loop(main())
    return meter


def test_calls_run_one_at_a_time_and_return_their_results() -> None:
    async def main() -> list[int]:
        turns = Turns()
        return await asyncio.gather(*(turns.run(f"c{i % 3}", lambda i=i: i * i)
                                      for i in range(50)))

    assert run_in_own_loop(main()) == [i * i for i in range(50)]
    meter = play([("a", f"a{i}") for i in range(4)] + [("b", "b0")])
    assert meter.most == 1


def test_a_flood_from_one_client_cannot_starve_another_client() -> None:
    """Eight sessions from one address against one from another: the one gets half."""
    meter = play([("flood", f"f{i}") for i in range(8)] + [("old", "old")])
    share = meter.calls["old"] / meter.total()
    assert share >= 0.45, meter.calls


def test_the_sessions_of_one_client_take_equal_turns() -> None:
    """One address, nine playing sessions (one there before eight more): round robin."""
    meter = play([("127.0.0.1", "old")] + [("127.0.0.1", f"f{i}") for i in range(8)])
    counts = [meter.calls[who] for who in ["old", *(f"f{i}" for i in range(8))]]
    assert max(counts) - min(counts) <= 2, counts


def test_a_cancelled_caller_leaves_the_line_and_a_running_call_keeps_its_turn() -> None:
    async def main() -> None:
        turns = Turns()
        started, release = threading.Event(), threading.Event()
        log: list[str] = []

        def blocking() -> None:
            started.set()
            release.wait(60)
            log.append("first")

        first = asyncio.create_task(turns.run("a", blocking))
        await asyncio.to_thread(started.wait, 60)
        second = asyncio.create_task(turns.run("b", lambda: log.append("second")))
        third = asyncio.create_task(turns.run("c", lambda: log.append("third")))
        while turns.waiting < 2:
            await asyncio.sleep(0)
        third.cancel()  # leaves the line
        with pytest.raises(asyncio.CancelledError):
            await third
        first.cancel()  # its call goes on in its thread, and keeps the turn until done
        with pytest.raises(asyncio.CancelledError):
            await first
        assert turns.waiting == 1 and not second.done() and log == []
        release.set()
        await asyncio.wait_for(second, 60)
        assert log == ["first", "second"]
        # nothing is held: the next call runs at once
        assert await turns.run("d", lambda: 7) == 7

    run_in_own_loop(main())


def test_a_call_that_fails_passes_the_turn_on() -> None:
    async def main() -> None:
        turns = Turns()

        def broken() -> None:
            raise RuntimeError("a bug")

        with pytest.raises(RuntimeError, match="a bug"):
            await turns.run("a", broken)
        assert await turns.run("a", lambda: "next") == "next"

    run_in_own_loop(main())
