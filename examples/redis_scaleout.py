"""Two WSE instances sharing one Redis: a message published on either reaches
the subscribers of both, exactly once, the publishing instance's own included.

    redis-server --port 6379 &            # any Redis 7 (or a Redis Cluster node)
    python examples/redis_scaleout.py --redis-url redis://127.0.0.1:6379

In production each instance is its own process (or machine) behind a load
balancer, started with `wse serve --redis-url ...` or `connect_redis()`; here
both live in one process to keep the example short.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from websockets.asyncio.client import connect

from wse_server import WSEServer


async def subscriber(port: int, topics: list[str], expect: int) -> list[str]:
    async with connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.recv()  # server_ready
        await ws.send(
            json.dumps({"t": "subscription_update", "p": {"action": "subscribe", "topics": topics}})
        )
        await ws.recv()  # the acknowledgement
        got: list[str] = []
        while len(got) < expect:
            got.append(str(await asyncio.wait_for(ws.recv(), 10)))
        return got


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis-url", default=os.environ.get("WSE_REDIS_URL", "redis://127.0.0.1:6379"))
    args = parser.parse_args()

    instances = []
    for _ in range(2):
        server = WSEServer("127.0.0.1", 0, subscription_policy=["*"])  # clients may subscribe themselves
        server.connect_redis(args.redis_url)
        server.start()
        instances.append(server)
    try:
        deadline = time.monotonic() + 10
        while not all(s.redis_connected() for s in instances):
            if time.monotonic() > deadline:
                print("cannot reach Redis:", instances[0].health_snapshot()["redis_last_error"])
                return 1
            await asyncio.sleep(0.05)
        a, b = instances
        # One client per instance; the first also matches through two subscriptions.
        on_a = asyncio.create_task(subscriber(a.port, ["orders:*", "orders:eu"], expect=3))
        on_b = asyncio.create_task(subscriber(b.port, ["orders:eu"], expect=3))
        while not all(s.health_snapshot()["redis_subscriptions"] >= 1 for s in instances):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # both clients subscribed (Redis confirmed it)
        for i in range(3):
            (a if i % 2 == 0 else b).publish("orders:eu", json.dumps({"t": "order", "p": {"n": i}}))
        print("client of instance A got:", json.dumps(await on_a))
        print("client of instance B got:", json.dumps(await on_b))
        for name, s in zip("AB", instances, strict=True):
            h = s.health_snapshot()
            counts = (
                h["redis_messages_published"],
                h["redis_messages_delivered"],
                h["redis_duplicates_suppressed"],
            )
            print(f"instance {name}: published %d, delivered %d, duplicates dropped %d" % counts)
        return 0
    finally:
        for s in instances:
            s.stop()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
