"""Bench peer for the two engines with the seed API: ours and the original.

    .venv/bin/python bench/peers/wse_peer.py --engine ours ...
    build/peers/wse142/bin/python bench/peers/wse_peer.py --engine original ...

The same Python loop drives both, through the API they share: drain_inbound()
for every inbound event, subscribe_connection() on connect, one publish call per
message (ours: publish_local, the original: broadcast_local), send() for echo.
Ours uses its batched calls by default (publish_many() per fan-out burst,
send_many() per echo batch); --per-send makes it call once per message too.
The original engine is used as a black box, only through that public API.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as bc


def make_server(
    engine: str, args: Any, io_threads: int, rate_limit: float | None, batch: bool
) -> tuple[Any, Any]:
    secret = args.jwt_secret
    if engine == "ours":
        from wse_server import WSEServer  # noqa: PLC0415 (each engine lives in its own venv)

        limits: dict[str, Any] = {} if rate_limit is None else {"rate_limit_refill": rate_limit}
        server = WSEServer(
            "127.0.0.1",
            args.port,
            max_connections=args.max_connections,
            jwt_secret=secret,
            io_threads=io_threads,
            coalesce_bursts=batch,
            **limits,
        )
        return server, server.publish_local
    from wse_server._wse_accel import RustWSEServer  # noqa: PLC0415

    server = RustWSEServer(
        "127.0.0.1",
        args.port,
        max_connections=args.max_connections,
        jwt_secret=secret.encode() if secret else None,
    )
    return server, server.broadcast_local


def main() -> None:
    engine = "ours"
    argv = sys.argv[1:]
    if "--engine" in argv:
        i = argv.index("--engine")
        engine = argv[i + 1]
        del argv[i : i + 2]
    io_threads = 1
    if "--io-threads" in argv:
        i = argv.index("--io-threads")
        io_threads = int(argv[i + 1])
        del argv[i : i + 2]
    batch = True  # ours only: the coalesce_bursts option (default True)
    if "--coalesce-bursts" in argv:
        i = argv.index("--coalesce-bursts")
        batch = argv[i + 1] not in ("0", "false", "no")
        del argv[i : i + 2]
    per_send = False  # ours only: echo with one send() per reply instead of one send_many() per batch
    if "--per-send" in argv:
        argv.remove("--per-send")
        per_send = True
    # Ours only: inbound messages/s per connection (0 = off). The server's default
    # (10,000/s) is below what one echo connection does here (over 1M round trips/s
    # on 100 connections): the limiter stays on, so its cost is measured, but this
    # high that it never drops a message (the other peers have no limiter).
    rate_limit: float | None = 1_000_000.0
    if "--rate-limit" in argv:
        i = argv.index("--rate-limit")
        rate_limit = float(argv[i + 1])
        del argv[i : i + 2]
    sys.argv[1:] = argv
    args = bc.parse_args(f"WSE bench peer ({engine})")
    server, publish = make_server(engine, args, io_threads, rate_limit, batch)
    server.enable_drain_mode()
    server.start()
    deadline = time.monotonic() + 10
    while not server.is_running():  # the original binds asynchronously
        if time.monotonic() > deadline:
            sys.exit("server did not start")
        time.sleep(0.01)
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    bc.ready(args.port)

    workload = args.workload
    drain = server.drain_inbound
    # The original engine has no send_many(): it sends reply by reply.
    send_many = None if per_send or engine != "ours" else server.send_many
    # Ours: a burst of publishes in one publish_many() call; with --per-send (and
    # for the original, which has no batched publish) one call per message.
    publish_many = None if per_send or engine != "ours" else server.publish_many
    stats = bc.StatsFile(args.stats)
    pacer = bc.Pacer(args.rate, args.window)
    pad = bc.padding(args.size)
    topics = [bc.TOPIC]
    subscribed = 0
    count = 0
    last_conn = ""
    timeout = 50
    # Throughput workloads take big batches; the others use the API's default
    # (256), which also keeps the transient Python objects of a connect burst small.
    max_count = 4096 if workload in ("fanout", "echo", "flood") else 256
    while not stop:
        events = drain(max_count, timeout)
        if workload == "fanout":
            for kind, conn_id, data in events:
                if kind == "raw":
                    s = bc.ack_seq(data)
                    if s >= 0:
                        pacer.ack(s)
                elif kind in ("connect", "auth_connect"):
                    server.subscribe_connection(conn_id, topics)
                    subscribed += 1
                elif kind == "disconnect":
                    subscribed -= 1
            timeout = 50
            if subscribed >= args.subs:
                n = pacer.budget()
                seq = pacer.seq
                if n:
                    texts = bc.burst(seq, n, pad, time.monotonic_ns())
                    if publish_many is not None:
                        publish_many(bc.TOPIC, texts)
                    else:
                        for text in texts:
                            publish(bc.TOPIC, text)
                pacer.seq = seq + n
                # Wait for an ack when out of credit; with a rate, come back for the next slot.
                timeout = 1 if n == 0 or args.rate > 0 else 0
        elif workload == "echo":
            if send_many is not None:
                send_many([(conn_id, data) for kind, conn_id, data in events if kind == "raw"])
            else:
                send = server.send
                for kind, conn_id, data in events:
                    if kind == "raw":
                        send(conn_id, data)
        elif workload == "flood":
            before = count
            for kind, conn_id, _ in events:
                if kind == "msg":
                    count += 1
                    last_conn = conn_id
            ack = bc.flood_ack(before, count)
            if ack is not None:
                server.send(last_conn, ack)
            stats.maybe_write(count)
            timeout = 50
    if engine == "ours":  # frames per write and friends, for docs/BENCHMARKS.md
        bc.log("HEALTH " + json.dumps(server.health_snapshot(), default=str))
    server.stop()


if __name__ == "__main__":
    main()
