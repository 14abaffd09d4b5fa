"""Bench peer: Python `websockets` (asyncio server), the idiomatic way.

Fan-out uses websockets.broadcast(); echo awaits ws.send() per message; the
JWT is checked in process_request (HTTP 401 before the upgrade).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as bc
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

READY_TEXT = '{"t":"server_ready"}'


async def main() -> None:
    args = bc.parse_args("websockets bench peer")
    conns: set[ServerConnection] = set()
    pacer = bc.Pacer(args.rate, args.window)
    acked = asyncio.Event()
    stats = bc.StatsFile(args.stats)
    count = 0

    def process_request(conn: ServerConnection, request: Request) -> Response | None:
        if args.jwt_secret and not bc.jwt_ok(bc.bearer(request.headers), args.jwt_secret):
            return conn.respond(401, "invalid token\n")
        return None

    async def handler(ws: ServerConnection) -> None:
        nonlocal count
        await ws.send(READY_TEXT)
        if args.workload == "fanout":
            conns.add(ws)
        try:
            async for msg in ws:
                if args.workload == "echo":
                    await ws.send(msg)
                elif args.workload == "fanout":
                    s = bc.ack_seq(msg if isinstance(msg, str) else "")
                    if s >= 0:
                        pacer.ack(s)
                        acked.set()
                elif args.workload == "flood":
                    count += 1
                    ack = bc.flood_ack(count - 1, count)
                    if ack is not None:
                        await ws.send(ack)
        finally:
            conns.discard(ws)

    stop = bc.stop_on_signals()
    tasks: list[asyncio.Task[Any]] = []
    async with serve(
        handler, "127.0.0.1", args.port, process_request=process_request, compression=None, max_queue=None
    ):
        bc.ready(args.port)
        if args.workload == "fanout":
            send = lambda m: broadcast(conns, m)  # noqa: E731
            tasks.append(asyncio.create_task(bc.publish(args, pacer, acked, conns, send)))
        if args.workload == "flood":
            tasks.append(asyncio.create_task(bc.write_stats(stats, lambda: count)))
        await stop
        for t in tasks:
            t.cancel()


if __name__ == "__main__":
    asyncio.run(main())
