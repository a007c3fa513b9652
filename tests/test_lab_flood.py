"""Load: a flood of 200 connection attempts from one client on a `backprop lab` (127.0.0.1).

A /playground session plays before the flood. Then 200 sockets are opened at once
from the same address: at most the per-client cap is admitted (the one playing
counts), the rest are closed with the cap's reason. The admitted ones play too.
Meanwhile the first session must keep receiving state messages with no gap over
MAX_GAP_S, and take at least a fair share of the training steps while all play
(MIN_SHARE of an equal share, for the slack of counting steps from messages in
flight); the server's memory must stay bounded. Every wait has a bound, so the test
stops by itself. The figures go to tests/artifacts/flood.json.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lab_fixtures import rss_mib, start_lab

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
pytest.importorskip("websockets.asyncio.client", reason="the load test needs websockets")
from websockets.asyncio import client as websockets_client
from websockets.exceptions import ConnectionClosed

from backprop.lab.capacity import DEFAULT_MAX_SESSIONS_PER_CLIENT, FULL_CLOSE_CODE

ATTEMPTS = 200
CAP = DEFAULT_MAX_SESSIONS_PER_CLIENT
#: The longest the first session may go without a state message.
MAX_GAP_S = 2.0
#: The first session's share of the steps, as a fraction of an equal share, at least.
MIN_SHARE = 0.75
#: Updates the first session counts, once every admitted session plays, to measure shares.
WINDOW_UPDATES = 30
#: Most the server's RSS may grow from before the flood to its peak, and in the window.
RSS_PEAK_LIMIT_MIB = 150.0
RSS_GROWTH_LIMIT_MIB = 40.0
#: Bounds on every wait, so that a stuck server fails the test instead of hanging it.
RECV_TIMEOUT_S = 30.0
OPEN_TIMEOUT_S = 90.0
TOTAL_TIMEOUT_S = 400.0


@dataclass
class Tab:
    """One playing session: the step of each state message it received, and when."""

    name: str
    steps: list[tuple[float, int]] = field(default_factory=list)
    playing: bool = False

    def step_now(self) -> int:
        return self.steps[-1][1]

    def longest_gap(self, start: int = 0) -> float:
        times = [t for t, _ in self.steps[start:]]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


@dataclass
class Flood:
    """What the client side has seen; ``news`` wakes whoever waits on it."""

    url: str
    origin: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    news: asyncio.Condition = field(default_factory=asyncio.Condition)
    tabs: list[Tab] = field(default_factory=list)  # the admitted ones
    refusals: list[tuple[int, str]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    async def tell(self) -> None:
        async with self.news:
            self.news.notify_all()

    async def until(self, condition: Callable[[], bool], timeout: float) -> None:
        """Wait until ``condition()`` (or a failure), at most ``timeout`` seconds."""
        async with self.news:
            await asyncio.wait_for(self.news.wait_for(lambda: condition() or self.errors),
                                   timeout)
        if self.errors:
            raise self.errors[0]

    async def keep_playing(self, socket: Any, tab: Tab) -> None:
        """Press play, then note every state message's step until told to stop."""
        await socket.send(json.dumps({"type": "play"}))
        while not self.stop.is_set():
            message = json.loads(await asyncio.wait_for(socket.recv(), RECV_TIMEOUT_S))
            assert message["type"] == "state", message
            if "step" in message:
                tab.steps.append((time.monotonic(), message["step"]))
                tab.playing = tab.playing or bool(message.get("playing"))
                await self.tell()
        await socket.send(json.dumps({"type": "pause"}))

    async def attempt(self, index: int) -> None:
        """One connection of the flood: admitted, it plays until the stop; refused, it
        notes why."""
        try:
            async with websockets_client.connect(self.url, origin=self.origin, max_size=2**22,
                                                 open_timeout=OPEN_TIMEOUT_S) as socket:
                try:
                    first = json.loads(await asyncio.wait_for(socket.recv(), RECV_TIMEOUT_S))
                except ConnectionClosed as closed:
                    assert closed.rcvd is not None
                    self.refusals.append((closed.rcvd.code, closed.rcvd.reason))
                    await self.tell()
                    return
                assert first["type"] == "state"
                tab = Tab(f"flood-{index}")
                self.tabs.append(tab)
                await self.tell()
                await self.keep_playing(socket, tab)
        except Exception as error:
            self.errors.append(error)
            await self.tell()
            raise


async def admitted_again(url: str, origin: str) -> bool:
    """Whether a new session is admitted, once the closed ones have given their places back
    (their sessions end on the server a moment after the sockets close)."""
    for _ in range(100):
        async with websockets_client.connect(url, origin=origin) as socket:
            try:
                return bool(json.loads(await socket.recv())["type"] == "state")
            except ConnectionClosed:
                await asyncio.sleep(0.1)
    return False


async def flood(url: str, origin: str, pid: int) -> dict[str, Any]:
    rss: list[tuple[float, float]] = []
    start = time.monotonic()

    async def sample() -> None:
        while True:
            rss.append((time.monotonic() - start, rss_mib(pid)))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    run = Flood(url, origin)
    old = Tab("old")
    async with websockets_client.connect(url, origin=origin, max_size=2**22) as socket:
        assert json.loads(await socket.recv())["type"] == "state"
        old_task = asyncio.create_task(run.keep_playing(socket, old))
        await run.until(lambda: old.playing and len(old.steps) >= 5, RECV_TIMEOUT_S)
        rss_before = rss_mib(pid)
        flood_starts = len(old.steps)
        attempts = [asyncio.create_task(run.attempt(i)) for i in range(ATTEMPTS)]
        await run.until(lambda: len(run.tabs) + len(run.refusals) == ATTEMPTS,
                        OPEN_TIMEOUT_S + RECV_TIMEOUT_S)
        flood_answered = time.monotonic() - start
        await run.until(lambda: all(tab.playing for tab in run.tabs), RECV_TIMEOUT_S)
        window_rss = rss_mib(pid)
        tabs = [old, *run.tabs]
        at_start = {tab.name: tab.step_now() for tab in tabs}
        first_update = len(old.steps)
        await run.until(lambda: len(old.steps) >= first_update + WINDOW_UPDATES,
                        WINDOW_UPDATES * MAX_GAP_S)
        at_end = {tab.name: tab.step_now() for tab in tabs}
        window_end_rss = rss_mib(pid)
        run.stop.set()
        await asyncio.gather(old_task, *attempts)
    again = await admitted_again(url, origin)
    sampler.cancel()
    gained = {name: at_end[name] - at_start[name] for name in at_start}
    return {
        "attempts": ATTEMPTS, "cap_per_client": CAP, "admitted": len(run.tabs),
        "refused": len(run.refusals),
        "refusal_codes": sorted({code for code, _ in run.refusals}),
        "refusal_reasons": sorted({reason for _, reason in run.refusals}),
        "flood_answered_after_s": flood_answered,
        "old_longest_gap_s": old.longest_gap(),
        "old_longest_gap_during_flood_s": old.longest_gap(flood_starts - 1),
        "steps_gained_in_window": gained,
        "old_share": gained["old"] / max(1, sum(gained.values())),
        "fair_share": 1 / len(gained),
        "admitted_after_the_flood_closed": again,
        "rss_before_flood_mib": rss_before, "rss_window_start_mib": window_rss,
        "rss_window_end_mib": window_end_rss, "rss_peak_mib": max(value for _, value in rss),
        "rss_mib": rss,
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RSS from /proc (Linux)")
def test_a_flood_from_one_client_is_capped_and_cannot_starve_a_playing_session(
    artifacts: Path,
) -> None:
    server = start_lab()  # the default caps
    try:
        assert server.url.startswith("http://127.0.0.1:")
        # a thread of its own: Playwright's sync API may hold this thread's event loop
        with ThreadPoolExecutor(1) as thread:
            figures = thread.submit(asyncio.run, asyncio.wait_for(
                flood(server.ws_url("playground"), server.origin, server.process.pid),
                TOTAL_TIMEOUT_S)).result()
    finally:
        assert server.stop() == 0
    summary = {key: value for key, value in figures.items() if key != "rss_mib"}
    (artifacts / "flood.json").write_text(json.dumps(figures, indent=1))
    print(f"\nflood: {json.dumps(summary)}")
    assert figures["admitted"] + 1 <= CAP  # the playing session counts against its address
    assert figures["admitted"] == CAP - 1  # and the room left was given
    assert figures["refused"] == ATTEMPTS - figures["admitted"]
    assert figures["admitted_after_the_flood_closed"]
    assert figures["refusal_codes"] == [FULL_CLOSE_CODE]
    assert figures["refusal_reasons"] == [
        f"this address has {CAP} sessions open, the most allowed: close a lab tab, "
        "then reload"]
    assert figures["old_longest_gap_s"] <= MAX_GAP_S, summary
    gained = figures["steps_gained_in_window"]
    assert all(steps > 0 for steps in gained.values()), gained  # the admitted ones train
    assert figures["old_share"] >= MIN_SHARE * figures["fair_share"], summary
    assert figures["rss_peak_mib"] - figures["rss_before_flood_mib"] < RSS_PEAK_LIMIT_MIB, summary
    assert (figures["rss_window_end_mib"] - figures["rss_window_start_mib"]
            < RSS_GROWTH_LIMIT_MIB), summary
