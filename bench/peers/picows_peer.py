"""Bench peer: `picows` (Cython WebSocket library on asyncio), the idiomatic way.

Fan-out calls transport.send() on every connection; echo sends each text
frame back; the JWT is checked in the listener factory (HTTP 401).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as bc
from picows import (
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

READY_TEXT = b'{"t":"server_ready"}'


async def main() -> None:
    args = bc.parse_args("picows bench peer")
    transports: set[WSTransport] = set()
    pacer = bc.Pacer(args.rate, args.window)
    acked = asyncio.Event()
    stats = bc.StatsFile(args.stats)
    count = 0
    workload = args.workload

    class Listener(WSListener):
        def on_ws_connected(self, transport: WSTransport) -> None:
            transport.send(WSMsgType.TEXT, READY_TEXT)
            if workload == "fanout":
                transports.add(transport)

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            transports.discard(transport)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            nonlocal count
            if frame.msg_type == WSMsgType.TEXT:
                if workload == "echo":
                    transport.send(WSMsgType.TEXT, frame.get_payload_as_memoryview())
                elif workload == "fanout":
                    s = bc.ack_seq(frame.get_payload_as_ascii_text())
                    if s >= 0:
                        pacer.ack(s)
                        acked.set()
                elif workload == "flood":
                    count += 1
                    ack = bc.flood_ack(count - 1, count)
                    if ack is not None:
                        transport.send(WSMsgType.TEXT, ack.encode())
            elif frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

    def factory(request: WSUpgradeRequest) -> WSListener | WSUpgradeResponseWithListener:
        if args.jwt_secret and not bc.jwt_ok(bc.bearer(request.headers), args.jwt_secret):
            return WSUpgradeResponseWithListener(WSUpgradeResponse.create_error_response(401), None)
        return Listener()

    def send_all(text: str) -> None:
        data = text.encode()
        for t in transports:
            t.send(WSMsgType.TEXT, data)

    stop = bc.stop_on_signals()
    server = await ws_create_server(factory, "127.0.0.1", args.port)
    bc.ready(args.port)
    tasks = []
    if workload == "fanout":
        tasks.append(asyncio.create_task(bc.publish(args, pacer, acked, transports, send_all)))
    if workload == "flood":
        tasks.append(asyncio.create_task(bc.write_stats(stats, lambda: count)))
    await stop
    for t in tasks:
        t.cancel()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
