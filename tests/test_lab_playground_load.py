"""Load: 20 tabs training /playground at once on one `backprop lab` (127.0.0.1 only).

Every session must keep receiving updates at 5 or more per second, and the server's
resident memory must stay bounded. The suite plays for BACKPROP_LAB_LOAD_SECONDS
(default 5); set it to 30 for the full run. The figures go to
tests/artifacts/playground-load.json.
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
#: Fewest updates per second each session must receive, on average over the run after
#: its first second (in which the 20 tabs connect and choose their data).
MIN_RATE = 5.0
#: Most the server's RSS may grow from the first to the last second of play.
RSS_GROWTH_LIMIT_MIB = 40.0


async def play(url: str, origin: str, seconds: float, counts: list[int],
               setup: dict[str, object]) -> None:
    """One tab: connect, choose a data set, press play, count the updates in each second."""
    async with websockets_client.connect(url, origin=origin, max_size=2**22) as socket:
        assert json.loads(await socket.recv())["type"] == "state"
        await socket.send(json.dumps({"type": "configure", **setup}))
        assert json.loads(await socket.recv())["setup"]["dataset"] == setup["dataset"]
        await socket.send(json.dumps({"type": "play"}))
        start = time.monotonic()
        steps = []
        while (elapsed := time.monotonic() - start) < seconds:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            assert message["type"] == "state", message
            steps.append(message["step"])
            counts[min(int(elapsed), len(counts) - 1)] += 1
        await socket.send(json.dumps({"type": "pause"}))
        assert steps[-1] > steps[0]  # updates carry training, not just frames


async def run_load(url: str, origin: str, pid: int, seconds: float) -> dict[str, object]:
    windows = int(seconds)
    counts = [[0] * windows for _ in range(SESSIONS)]
    datasets = ["circles", "xor", "gaussians", "spirals", "moons", "three-class", "regression"]
    setups = [{"dataset": datasets[i % len(datasets)]} for i in range(SESSIONS)]
    rss: list[tuple[float, float]] = []

    async def sample() -> None:
        start = time.monotonic()
        while True:
            rss.append((time.monotonic() - start, rss_mib(pid)))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    try:
        await asyncio.gather(*(play(url, origin, seconds, counts[i], setups[i])
                               for i in range(SESSIONS)))
    finally:
        sampler.cancel()
    return {"sessions": SESSIONS, "seconds": seconds, "updates_per_second": counts,
            "rss_mib": rss}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RSS from /proc (Linux)")
def test_twenty_playgrounds_keep_streaming_and_memory_stays_bounded(artifacts: Path) -> None:
    server = start_lab("--max-sessions-per-client", str(SESSIONS))  # all from 127.0.0.1
    try:
        ws_url = server.url.replace("http://", "ws://") + "ws/playground"
        idle_rss = rss_mib(server.process.pid)
        # in a thread of its own: Playwright's sync API may hold this thread's event loop
        with ThreadPoolExecutor(1) as worker:
            figures = worker.submit(
                asyncio.run, run_load(ws_url, server.origin, server.process.pid, SECONDS)).result()
    finally:
        assert server.stop() == 0
    counts = figures["updates_per_second"]
    rss = figures["rss_mib"]
    assert isinstance(counts, list) and isinstance(rss, list)
    rates = [sum(per_second[1:]) / max(1, len(per_second) - 1) for per_second in counts]
    first_second = max(value for t, value in rss if t <= 1.0)
    growth = max(value for t, value in rss if t >= SECONDS - 1) - first_second
    summary = {
        "idle_rss_mib": idle_rss, "rss_after_1s_mib": first_second,
        "peak_rss_mib": max(value for _, value in rss), "growth_mib": growth,
        "updates_per_session_per_second": {"min_mean": min(rates),
                                           "mean": sum(rates) / len(rates),
                                           "min_one_second": min(map(min, counts))},
    }
    (artifacts / "playground-load.json").write_text(
        json.dumps({**figures, "summary": summary}, indent=1))
    print(f"\nplayground load: {json.dumps(summary)}")
    for session, per_second in enumerate(counts):
        assert min(per_second) > 0, f"session {session} stalled: {per_second}"
        assert rates[session] >= MIN_RATE, f"session {session}: {per_second}"
    assert growth < RSS_GROWTH_LIMIT_MIB, summary
