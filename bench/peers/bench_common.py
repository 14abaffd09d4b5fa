"""Conventions shared by the Python peers of the side-by-side benchmarks.

Standard library only: the same file runs in our .venv and in the original
engine's Python 3.12 venv. The conventions themselves are in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sized

TOPIC = "bench"


def parse_args(description: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workload", required=True, choices=["fanout", "echo", "accept", "ping", "flood", "idle"])
    p.add_argument("--subs", type=int, default=100, help="fanout: publish once this many are subscribed")
    p.add_argument("--window", type=int, default=64, help="fanout: messages in flight beyond the last ack")
    p.add_argument("--size", type=int, default=100, help="fanout: message size in bytes (about)")
    p.add_argument("--rate", type=float, default=0.0, help="fanout: messages/s (0 = as fast as acks allow)")
    p.add_argument("--jwt-secret", default=None, help="verify an HS256 Bearer token on upgrade")
    p.add_argument("--stats", default=None, help="file that receives 'monotonic_ns count' lines")
    p.add_argument("--max-connections", type=int, default=20000)
    return p.parse_args()


def padding(size: int) -> str:
    """Padding that makes a burst() message about `size` bytes (57 bytes of fields around it)."""
    return "x" * max(1, size - 57)


def burst(seq: int, n: int, pad: str, ts: int) -> list[str]:
    """Fan-out messages seq .. seq+n-1 of one burst: {"t":"bench","seq":s,"ts":ts,"p":pad}.
    `ts` is the time the burst is published (CLOCK_MONOTONIC ns), read once per
    burst; the text after seq is the same for the whole burst and is built once,
    as the raw peer does (about half the cost of one f-string per message)."""
    head = '{"t":"bench","seq":'
    tail = f',"ts":{ts},"p":"{pad}"}}'
    return [head + str(s) + tail for s in range(seq, seq + n)]


def ack_seq(text: str) -> int:
    """The seq of an "A<seq>" acknowledgement, or -1."""
    if len(text) > 1 and text[0] == "A" and text[1:].isdigit():
        return int(text[1:])
    return -1


class Pacer:
    """Publishing budget: as many messages as `rate` allows since the start, capped
    by the credit window (seq - acked - 1 < window). rate 0 = credit only."""

    def __init__(self, rate: float, window: int) -> None:
        self.rate = rate
        self.window = window
        self.acked = -1
        self.seq = 0
        self.started = 0.0

    def budget(self) -> int:
        credit = self.window - (self.seq - self.acked - 1)
        if credit <= 0:
            return 0
        if self.rate <= 0:
            # As the raw peer: with messages in flight, wait for half the window, so
            # each burst is large enough to share writes (acks come in small steps).
            if credit < self.window // 2 and self.seq - self.acked - 1 > 0:
                return 0
            return credit
        now = time.monotonic()
        if self.started == 0.0:
            self.started = now
        due = int((now - self.started) * self.rate) - self.seq
        return max(0, min(due, credit))

    def ack(self, seq: int) -> None:
        self.acked = max(self.acked, seq)


class StatsFile:
    """Appends 'monotonic_ns count' every 100 ms when a path is given."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.last = 0.0

    def maybe_write(self, count: int) -> None:
        if self.path is None:
            return
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        with open(self.path, "a") as f:
            f.write(f"{time.monotonic_ns()} {count}\n")


FLOOD_ACK_EVERY = 4096


def flood_ack(before: int, after: int) -> str | None:
    """The "A<count>" credit to send once `after` consumed messages cross a multiple
    of FLOOD_ACK_EVERY (the load generator keeps a bounded number in flight)."""
    if after // FLOOD_ACK_EVERY != before // FLOOD_ACK_EVERY:
        return f"A{after}"
    return None


def ready(port: int) -> None:
    print(f"READY {port}", flush=True)


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def jwt_ok(token: str, secret: str) -> bool:
    """HS256 signature, exp and sub of a compact JWT (the peers without JWT support)."""
    try:
        head, payload, sig = token.split(".")
        mac = hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, _b64url(sig)):
            return False
        claims = json.loads(_b64url(payload))
        if "exp" in claims and float(claims["exp"]) < time.time():
            return False
        return isinstance(claims.get("sub"), str)
    except (ValueError, TypeError):
        return False


def bearer(headers: object) -> str:
    """The token of an Authorization: Bearer header (headers with .get())."""
    value = str(getattr(headers, "get")("Authorization", "") or "")  # noqa: B009
    return value[7:] if value.lower().startswith("bearer ") else ""


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def pid() -> int:
    return os.getpid()


# asyncio helpers of the asyncio peers (websockets, picows).


async def publish(
    args: argparse.Namespace,
    pacer: Pacer,
    acked: asyncio.Event,
    subscribers: Sized,
    send: Callable[[str], None],
) -> None:
    """Fan-out publisher: once `subscribers` holds args.subs connections, hands
    each message to `send` as fast as the pacer's budget allows."""
    pad = padding(args.size)
    while len(subscribers) < args.subs:
        await asyncio.sleep(0.01)
    while True:
        n = pacer.budget()
        if n == 0:
            acked.clear()
            if args.rate > 0:
                await asyncio.sleep(0.0005)
            else:
                await acked.wait()
            continue
        for text in burst(pacer.seq, n, pad, time.monotonic_ns()):
            send(text)
        pacer.seq += n
        await asyncio.sleep(0)


async def write_stats(stats: StatsFile, count: Callable[[], int]) -> None:
    """Flood: the consumed count into the stats file, every 100 ms."""
    while True:
        stats.maybe_write(count())
        await asyncio.sleep(0.1)


def stop_on_signals() -> asyncio.Future[None]:
    """A future of the running loop that SIGTERM or SIGINT completes."""
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()

    def on_term() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_term)
    return stop
