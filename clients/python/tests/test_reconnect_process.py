"""Reconnection across a killed and restarted server process (each engine).

The application publishes ``tick`` n on topic ``ticks`` every 20 ms, numbered by
the clock (so numbering continues across restarts). The server is SIGKILLed;
ticks that fall due while it is down are published to nobody. After the
restart the client reconnects, resubscribes and sends ``sync_request`` with the
last tick it saw. Either the application replays (``--replay``) and the client
ends up with every tick, in order, with no gap; or it does not, and the client
reports exactly the missing range as a gap. Nothing is lost silently.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import AppProcess, engine_python, free_port, make_token

from wse_client import AsyncWSEClient, CircuitBreaker, Gap, ReconnectConfig, WSEEvent

pytestmark = pytest.mark.slow


async def collect_ticks(
    client: AsyncWSEClient, out: list[WSEEvent], gaps: list[WSEEvent], until_n: int
) -> None:
    async for event in client:
        if event.type == "gap":
            gaps.append(event)
        elif event.type == "tick":
            out.append(event)
            if event.payload["n"] >= until_n:
                return


@pytest.mark.parametrize("engine", ["ours", "wse142"])
@pytest.mark.parametrize("replay", [True, False], ids=["replayed", "reported-as-gap"])
async def test_kill_and_restart_recovers_or_reports_the_gap(replay: bool, engine: str) -> None:
    port = free_port()
    args = ["--tick-interval", "0.02", "--epoch", str(time.time())] + (["--replay"] if replay else [])
    proc = AppProcess(engine_python(engine), port, *args).start()
    client = AsyncWSEClient(
        proc.url,
        token=make_token(),
        reconnect=ReconnectConfig(base_delay=0.1, max_delay=0.3, jitter=False),
        circuit_breaker=CircuitBreaker(failure_threshold=1000),
        reorder_timeout=1.0,
    )
    callbacks: list[Gap] = []
    client.on_gap(callbacks.append)
    ticks: list[WSEEvent] = []
    gaps: list[WSEEvent] = []
    try:
        await client.connect()
        assert await client.subscribe("ticks")
        first = await client.recv(timeout=5)
        assert first.type == "tick"
        ticks.append(first)
        await asyncio.wait_for(collect_ticks(client, ticks, gaps, first.payload["n"] + 10), 10)
        proc.kill()
        await asyncio.sleep(0.6)  # ~30 ticks fall due while nobody serves them
        proc.start()
        restarted_at = int((time.time() - float(args[3])) / 0.02)
        await asyncio.wait_for(collect_ticks(client, ticks, gaps, restarted_at + 15), 20)
    finally:
        await client.close()
        proc.stop()
    numbers = [e.payload["n"] for e in ticks]
    assert numbers == sorted(numbers), "ticks arrive in order"
    assert len(numbers) == len(set(numbers)), "no duplicates"
    assert client.stats.reconnects == 1
    every = set(range(numbers[0], numbers[-1] + 1))
    if replay:
        assert numbers == list(range(numbers[0], numbers[-1] + 1)), "the replay filled the hole"
        assert gaps == []
        assert callbacks == []
    else:
        assert len(gaps) == 1
        gap = gaps[0].payload
        assert gap["stream"] == "ticks"
        assert gap["count"] >= 20
        missing = set(range(gap["first"], gap["last"] + 1))
        assert missing.isdisjoint(numbers)
        assert set(numbers) | missing == every, "every tick was received or reported"
        assert callbacks == [Gap("ticks", gap["first"], gap["last"])]
        assert client.stats.messages_missing == gap["count"]
