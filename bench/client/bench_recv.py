"""Events per second through ``async for event in client`` versus a bare
``websockets`` receive loop, on the same stream from our server.

    .venv/bin/python bench/client/bench_recv.py [--events 50000] [--repeats 7]

One WSEServer (in this process, native I/O thread) queues N topic messages
(~100 bytes of prefixed JSON with id, topic and seq, as a publisher would send
them) to one subscribed connection; the consumer's time from the first to the
last message is measured. Three consumers read the identical stream, one after
the other in each repeat (the order rotates from repeat to repeat):
  bare       websockets only: ``async for msg in ws`` (frames, nothing else)
  bare+json  the same plus the minimum a consumer needs: strip the prefix, orjson.loads
  wse_client AsyncWSEClient: framing, decode, duplicate window, per-topic ordering
             and gap detection, WSEEvent, bounded queue (queue_size N + 10: no drop)
The issue's target is wse_client >= 0.8x the bare loop; both ratios are the
median of the per-repeat pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

import orjson
from websockets.asyncio.client import connect as ws_connect

from wse_client import AsyncWSEClient
from wse_server import WSEServer

TOPIC = "bench"


def frames(n: int) -> list[str]:
    return [
        "U"
        + json.dumps(
            {"t": "price", "topic": TOPIC, "seq": i, "id": f"b-{i}", "p": {"sym": "ACME", "px": 100.25 + i}}
        )
        for i in range(n)
    ]


def rates(n: int, started: float, cpu_started: float) -> tuple[float, float]:
    """(events per wall second, events per CPU second of this thread). The second
    ignores time the shared machine gave to other processes."""
    return (n - 1) / (time.perf_counter() - started), (n - 1) / (time.thread_time() - cpu_started)


async def wait_subscribed(server: WSEServer) -> str:
    for _ in range(500):
        for conn in server.get_connections():
            if TOPIC in server.get_connection_topics(conn):
                return conn
        await asyncio.sleep(0.01)
    raise RuntimeError("no subscriber")


async def publish(server: WSEServer, payloads: list[str]) -> None:
    for text in payloads:
        server.publish_local(TOPIC, text)


async def bare(server: WSEServer, payloads: list[str], parse: bool) -> tuple[float, float]:
    n = len(payloads)
    async with ws_connect(f"ws://127.0.0.1:{server.port}/", compression=None, max_size=None) as ws:
        await ws.recv()  # server_ready
        await ws.send('WSE{"t":"subscription_update","p":{"action":"subscribe","topics":["bench"]}}')
        await ws.recv()  # ack
        await publish(server, payloads)
        count = 0
        started = cpu_started = 0.0
        async for msg in ws:
            if count == 0:
                started, cpu_started = time.perf_counter(), time.thread_time()
            if parse:
                obj = orjson.loads(msg[1:])
                assert obj["t"] == "price"
            count += 1
            if count == n:
                break
        return rates(n, started, cpu_started)


async def client(server: WSEServer, payloads: list[str]) -> tuple[float, float]:
    n = len(payloads)
    async with AsyncWSEClient(f"ws://127.0.0.1:{server.port}/", queue_size=n + 10) as c:
        await c.subscribe(TOPIC)
        await publish(server, payloads)
        count = 0
        started = cpu_started = 0.0
        async for event in c:
            if count == 0:
                started, cpu_started = time.perf_counter(), time.thread_time()
            assert event.type == "price"
            count += 1
            if count == n:
                break
        assert c.stats.gaps == 0
        return rates(n, started, cpu_started)


async def main(events: int, repeats: int) -> dict[str, list[tuple[float, float]]]:
    server = WSEServer(
        "127.0.0.1",
        0,
        io_threads=1,
        subscription_policy=["*"],
        max_outbound_bytes=1 << 30,
        heartbeat_interval=0,
    )
    server.start()
    payloads = frames(events)
    runs: dict[str, Callable[[], Awaitable[tuple[float, float]]]] = {
        "bare": lambda: bare(server, payloads, parse=False),
        "bare+json": lambda: bare(server, payloads, parse=True),
        "wse_client": lambda: client(server, payloads),
    }
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    names = list(runs)
    try:
        for i in range(repeats):
            # Rotated, so that no consumer always runs first (a fresh connection, a cold cache).
            for name in names[i % 3 :] + names[: i % 3]:
                results[name].append(await runs[name]())
    finally:
        server.stop()
    return results


def report(results: dict[str, list[tuple[float, float]]]) -> None:
    # Each repeat runs the three consumers back to back, so a paired ratio sees the
    # same machine load on both sides; its median is the figure to quote.
    for i, what in ((0, "wall clock"), (1, "CPU time of the consuming thread")):
        print(f"  {what}:")
        for name, values in results.items():
            v = [r[i] for r in values]
            print(f"    {name:<11} best {max(v):>10,.0f}  median {statistics.median(v):>10,.0f} events/s")
        for base, note in (("bare", "  (target >= 0.8)"), ("bare+json", "")):
            pairs = [c[i] / b[i] for c, b in zip(results["wse_client"], results[base], strict=True)]
            print(f"    ratio wse_client / {base:<9}: median of pairs {statistics.median(pairs):.2f}{note}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"events per run: {args.events}, repeats: {args.repeats}")
    report(asyncio.run(main(args.events, args.repeats)))
