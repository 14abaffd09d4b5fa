"""Where the time per event goes on the client's receive path, stage by stage,
on the stream bench_recv.py uses (no network: the frames are built here).

    .venv/bin/python bench/client/bench_stages.py [--events 50000] [--repeats 7]

Stages, each timed alone over the same events, in reads of --read frames:
  websockets parser   ClientProtocol.receive_data + events_received (what a bare
                      websockets loop runs per frame; the client no longer does)
  frames.scan         the client's framing of whole data frames, UTF-8 decode included
  orjson.loads        the envelope's JSON alone (part of the next stage)
  on_frames           Dispatcher.on_frames: JSON, duplicate window, ordering, WSEEvent, queue
  async for           AsyncWSEClient.__anext__ while events wait
Prints the best and the median of --repeats, in microseconds per event.

Times on this shared VM swing by 30 % from run to run; instruction counts do not.
``--only STAGE`` runs one stage once (``--only none``: only the set-up), so that

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python bench/client/bench_stages.py --events 20000 --only STAGE

minus the same with ``--only none``, divided by the events, gives the stage's
instructions per event (on_frames and async for run together: "dispatch").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any, cast

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from wse_client import AsyncWSEClient
from wse_client.connection import Session
from wse_client.frames import scan
from wse_client.protocol import MessageCodec
from wse_client.transport import Message


def texts(n: int) -> list[str]:
    return [
        "U"
        + json.dumps(
            {"t": "price", "topic": "bench", "seq": i, "id": f"b-{i}", "p": {"sym": "ACME", "px": 100.25 + i}}
        )
        for i in range(n)
    ]


def opened_protocol() -> ClientProtocol:
    """A websockets client protocol after a real (in-memory) opening handshake."""
    client = ClientProtocol(parse_uri("ws://bench/"), max_size=1 << 20)
    client.send_request(client.connect())
    server = ServerProtocol()
    server.receive_data(b"".join(client.data_to_send()))
    server.send_response(server.accept(server.events_received()[0]))  # type: ignore[arg-type]
    client.receive_data(b"".join(server.data_to_send()))
    client.events_received()
    return client


class FakeSession:
    """What on_frames reads of a Session (a plaintext session of our server)."""

    encrypted = False
    native_dialect = True
    codec = MessageCodec()


STAGES = ("websockets parser", "frames.scan", "orjson.loads", "dispatch")


async def measure(events: int, repeats: int, read: int, only: str | None = None) -> dict[str, list[float]]:
    frames = texts(events)
    reads = [frames[i : i + read] for i in range(0, events, read)]
    wire = [b"".join(Frame(Opcode.TEXT, f.encode()).serialize(mask=False) for f in r) for r in reads]
    session = cast(Session, FakeSession())
    out: dict[str, list[float]] = {k: [] for k in ("websockets parser", "frames.scan", "orjson.loads")}
    out |= {"on_frames": [], "async for": []}

    def timed(name: str, fn: Callable[[], Any]) -> None:
        started = time.perf_counter()
        fn()
        out[name].append((time.perf_counter() - started) / events * 1e6)

    def ws_parse() -> None:
        protocol = opened_protocol()
        for chunk in wire:
            protocol.receive_data(chunk)
            protocol.events_received()

    def our_scan() -> None:
        for chunk in wire:
            scan(chunk, 0, 1 << 20, False, [])

    def loads() -> None:
        for r in reads:
            for text in r:
                orjson.loads(text[1:])

    for _ in range(repeats):
        for name, fn in (("websockets parser", ws_parse), ("frames.scan", our_scan), ("orjson.loads", loads)):
            if only is None or only == name:
                timed(name, fn)
        if only is not None and only != "dispatch":
            continue
        client = AsyncWSEClient("ws://127.0.0.1:9/", queue_size=read + 10)
        on_frames = client._dispatch.on_frames
        consume = client.__aiter__().__anext__
        dispatched = consumed = 0.0
        for r in reads:  # a read's events are consumed before the next read, as on a socket
            batch: list[Message] = list(r)
            started = time.perf_counter()
            on_frames(session, batch)
            middle = time.perf_counter()
            for _ in range(len(r)):
                await consume()
            dispatched += middle - started
            consumed += time.perf_counter() - middle
        assert client.stats.gaps == 0
        assert client.stats.messages_received == events
        out["on_frames"].append(dispatched / events * 1e6)
        out["async for"].append(consumed / events * 1e6)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--read", type=int, default=2_500, help="frames per read (a 256 KiB read)")
    parser.add_argument("--only", choices=(*STAGES, "none"), help="one stage, once (for callgrind)")
    args = parser.parse_args()
    if args.only is not None:
        asyncio.run(measure(args.events, 1, args.read, args.only))
        raise SystemExit(0)
    print(f"events: {args.events}, frames per read: {args.read}, repeats: {args.repeats}")
    for name, values in asyncio.run(measure(args.events, args.repeats, args.read)).items():
        print(f"  {name:<18} best {min(values):6.3f}  median {statistics.median(values):6.3f} us/event")
