"""Many connections at once, drained in batches; memory and fan-out stay correct."""

from __future__ import annotations

import asyncio
import resource

import pytest
from server_support import running_server, wait_for
from websockets.asyncio.client import ClientConnection, connect

pytestmark = pytest.mark.slow


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


async def test_thousand_concurrent_connections_fan_out() -> None:
    raise_fd_limit(4096)
    n = 1000
    with running_server(max_connections=n + 10) as server:
        clients: list[ClientConnection] = []
        for start in range(0, n, 100):
            batch = await asyncio.gather(
                *(
                    connect(f"ws://127.0.0.1:{server.port}/", open_timeout=20)
                    for _ in range(start, start + 100)
                )
            )
            clients.extend(batch)
        await asyncio.gather(*(c.recv() for c in clients))  # server_ready on each
        wait_for(lambda: server.get_connection_count() == n, timeout=10, what="all connections registered")
        conn_ids: list[str] = []
        while len(conn_ids) < n:
            conn_ids += [cid for kind, cid, _ in server.drain_inbound(512, 100) if kind == "connect"]
        for cid in conn_ids:
            assert server.subscribe_connection(cid, ["room:*"])
        for i in range(10):
            server.publish_local(f"room:{i}", f'{{"i":{i}}}')

        async def ten(c: ClientConnection) -> list[str | bytes]:
            return [await c.recv() for _ in range(10)]

        received = await asyncio.gather(*(ten(c) for c in clients))
        expected = [f'{{"i":{i}}}' for i in range(10)]
        assert all(list(r) == expected for r in received)
        assert server.health_snapshot()["deliveries"] >= 10 * n
        await asyncio.gather(*(c.close() for c in clients))
        wait_for(lambda: server.get_connection_count() == 0, timeout=10, what="all closed")
        disconnects = 0
        while disconnects < n:
            events = server.drain_inbound(512, 200)
            assert events, "disconnect events missing"
            disconnects += sum(1 for kind, _, _ in events if kind == "disconnect")


async def test_inbound_flood_is_bounded_and_counted() -> None:
    with running_server(max_inbound_queue_size=100) as server:
        async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
            await ws.recv()
            for i in range(1000):
                await ws.send(f'{{"t":"m","p":{{"i":{i}}}}}')
            await ws.send('{"t":"ping","p":{"timestamp":5}}')
            await ws.recv()  # PONG: every message before it was read
            wait_for(lambda: server.inbound_queue_depth() == 100, what="queue full")
            assert server.inbound_dropped_count() == 1000 + 1 - 100
            got = server.drain_inbound(1000, 0)
            assert len(got) == 100
            assert got[0][0] == "connect"  # lifecycle events are never dropped
            assert [e[2]["p"]["i"] for e in got[1:]] == list(range(99))
