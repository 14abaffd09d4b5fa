"""Minimal WebSocket receivers for the Redis fan-out benchmark.

    drain_clients.py PORT CONNECTIONS TOPICS_JSON

Opens CONNECTIONS raw RFC 6455 connections to a WSE instance, subscribes each
to TOPICS (subscription_update), prints {"ready": true}, then reads as fast as
it can in large chunks, discarding bytes. Connection 0 parses every frame and
checks that each (publisher, topic) sequence has no gap and no duplicate. On a
line on stdin (or EOF) it prints {"bytes": ..., "checked": ..., "gaps": ...,
"dups": ...} and exits.
"""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import struct
import sys
import threading


def handshake(port: int, topics: list[str]) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    payload = json.dumps(
        {"t": "subscription_update", "p": {"action": "subscribe", "topics": topics}}
    ).encode()
    mask = os.urandom(4)
    head = (
        bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(payload))
        if len(payload) >= 126
        else bytes([0x81, 0x80 | len(payload)])
    )
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    # Wait for the acknowledgement (after server_ready).
    while b"subscription_update" not in buf:
        buf += s.recv(65536)
    s.setblocking(False)
    return s


class Checker:
    def __init__(self) -> None:
        self.buf = b""
        self.last: dict[tuple[str, str], int] = {}
        self.checked = self.gaps = self.dups = 0

    def feed(self, data: bytes) -> None:
        self.buf += data
        b = self.buf
        at = 0
        while len(b) - at >= 2:
            n = b[at + 1] & 0x7F
            off = 2
            if n == 126:
                if len(b) - at < 4:
                    break
                n = struct.unpack_from(">H", b, at + 2)[0]
                off = 4
            elif n == 127:
                if len(b) - at < 10:
                    break
                n = struct.unpack_from(">Q", b, at + 2)[0]
                off = 10
            if len(b) - at < off + n:
                break
            body = b[at + off : at + off + n]
            at += off + n
            if body.startswith(b'{"pub"'):
                m = json.loads(body)
                key = (m["pub"], m["topic"])
                prev = self.last.get(key, -1)
                if m["i"] <= prev:
                    self.dups += 1
                elif m["i"] != prev + 1:
                    self.gaps += 1
                self.last[key] = max(prev, m["i"])
                self.checked += 1
        self.buf = b[at:]


def main() -> None:
    port, count, topics = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    socks = [handshake(port, topics) for _ in range(count)]
    checker = Checker()
    stop = threading.Event()
    total = [0]

    def pump() -> None:
        ep = select.epoll()
        by_fd = {s.fileno(): s for s in socks}
        for fd in by_fd:
            ep.register(fd, select.EPOLLIN)
        first = socks[0].fileno()
        while not stop.is_set():
            for fd, _ in ep.poll(0.1):
                try:
                    data = by_fd[fd].recv(1 << 20)
                except BlockingIOError:
                    continue
                total[0] += len(data)
                if fd == first:
                    checker.feed(data)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    stop.set()
    t.join()
    print(
        json.dumps(
            {"bytes": total[0], "checked": checker.checked, "gaps": checker.gaps, "dups": checker.dups}
        )
    )


if __name__ == "__main__":
    main()
