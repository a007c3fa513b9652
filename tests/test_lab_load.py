"""Load: 20 tabs playing /regression at once on one `backprop lab` (127.0.0.1 only).

Every session must keep receiving updates (no gap longer than MAX_GAP_S between two,
after the first), and the server's resident memory must stay bounded. The suite plays for BACKPROP_LAB_LOAD_SECONDS (default 5);
set it to 30 for the full run. The figures are written to tests/artifacts/load.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lab_fixtures import rss_mib, start_lab

pytest.importorskip("starlette", reason="the lab needs the extra backprop-mlp[lab]")
websockets_client = pytest.importorskip(
    "websockets.asyncio.client", reason="the load test needs websockets")

SESSIONS = 20
SECONDS = float(os.environ.get("BACKPROP_LAB_LOAD_SECONDS", "5"))
#: Most the server's RSS may grow from the first to the last second of play.
RSS_GROWTH_LIMIT_MIB = 40.0
#: The longest a playing session may go without an update (the play loop sends 30 a second;
#: a machine shared with other work can hold a process back for a moment, not for seconds).
MAX_GAP_S = 2.0


async def play(url: str, origin: str, seconds: float, counts: list[int],
               gaps: list[float]) -> None:
    """One tab: connect, press play, count the state updates per second, note the longest gap."""
    async with websockets_client.connect(url, origin=origin, max_size=2**22) as socket:
        first = json.loads(await socket.recv())
        assert first["type"] == "state"
        await socket.send(json.dumps({"type": "play"}))
        start = time.monotonic()
        last = None
        while (elapsed := time.monotonic() - start) < seconds:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
            assert message["type"] == "state", message
            now = time.monotonic()
            if last is not None:
                gaps[0] = max(gaps[0], now - last)
            last = now
            counts[min(int(elapsed), len(counts) - 1)] += 1
        await socket.send(json.dumps({"type": "pause"}))


async def run_load(url: str, origin: str, pid: int, seconds: float) -> dict[str, object]:
    windows = int(seconds)
    counts = [[0] * windows for _ in range(SESSIONS)]
    gaps = [[0.0] for _ in range(SESSIONS)]
    rss: list[tuple[float, float]] = []

    async def sample() -> None:
        start = time.monotonic()
        while True:
            rss.append((time.monotonic() - start, rss_mib(pid)))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    try:
        await asyncio.gather(*(play(url, origin, seconds, counts[i], gaps[i])
                               for i in range(SESSIONS)))
    finally:
        sampler.cancel()
    return {"sessions": SESSIONS, "seconds": seconds, "updates_per_second": counts,
            "longest_gap_s": [gap[0] for gap in gaps], "rss_mib": rss}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RSS from /proc (Linux)")
def test_twenty_sessions_keep_streaming_and_memory_stays_bounded(artifacts: Path) -> None:
    server = start_lab("--max-sessions-per-client", str(SESSIONS))  # all from 127.0.0.1
    try:
        assert server.url.startswith("http://127.0.0.1:")
        ws_url = server.url.replace("http://", "ws://") + "ws/regression"
        idle_rss = rss_mib(server.process.pid)
        # a thread of its own: Playwright's sync API may hold this thread's event loop
        with ThreadPoolExecutor(1) as thread:
            figures = thread.submit(
                asyncio.run, run_load(ws_url, server.origin, server.process.pid, SECONDS)).result()
    finally:
        assert server.stop() == 0
    counts, gaps = figures["updates_per_second"], figures["longest_gap_s"]
    rss = figures["rss_mib"]
    assert isinstance(counts, list) and isinstance(gaps, list) and isinstance(rss, list)
    # every session kept receiving updates: some in every second, never a long gap
    for session, (per_second, gap) in enumerate(zip(counts, gaps, strict=True)):
        assert sum(per_second) > 0 and gap <= MAX_GAP_S, (
            f"session {session} stalled: {per_second} updates a second, a gap of {gap:.2f} s")
    first_second = max(value for t, value in rss if t <= 1.0)
    peak = max(value for _, value in rss)
    growth = max(value for t, value in rss if t >= SECONDS - 1) - first_second
    summary = {
        "idle_rss_mib": idle_rss, "rss_after_1s_mib": first_second, "peak_rss_mib": peak,
        "growth_mib": growth,
        "longest_gap_s": max(gaps),
        "updates_per_session_per_second": {
            "min": min(min(c) for c in counts),
            "mean": sum(map(sum, counts)) / (SESSIONS * len(counts[0])),
        },
    }
    (artifacts / "load.json").write_text(json.dumps({**figures, "summary": summary}, indent=1))
    print(f"\nload: {json.dumps(summary)}")
    assert growth < RSS_GROWTH_LIMIT_MIB, summary
