"""Helpers for the standalone-server tests: start servers on free ports, mint
JWTs with PyJWT (an independent implementation), and speak raw RFC 6455 where
a client library would refuse to send what we need to test."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt as pyjwt

from wse_server import WSEServer

SECRET = b"test-secret-key-for-wse-32-bytes"


def reap(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Waits for a child that was asked to stop, kills it if it does not, closes its pipes."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
    for f in (proc.stdin, proc.stdout, proc.stderr):
        if f is not None:
            f.close()


def make_token(sub: str = "user-1", secret: bytes = SECRET, ttl: float = 300.0, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + int(ttl), **claims}
    return pyjwt.encode(payload, secret, algorithm="HS256")


@contextlib.contextmanager
def running_server(**options: Any) -> Iterator[WSEServer]:
    """A started WSEServer on 127.0.0.1 and a free port; stopped afterwards."""
    options.setdefault("io_threads", 2)
    server = WSEServer("127.0.0.1", 0, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def drain_until(
    server: WSEServer, predicate: Callable[[tuple[str, str, Any]], bool], timeout: float = 5.0
) -> list[tuple[str, str, Any]]:
    """Drains events until one satisfies `predicate`; returns everything drained."""
    seen: list[tuple[str, str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in server.drain_inbound(256, 50):
            seen.append(event)
            if predicate(event):
                return seen
    raise AssertionError(f"no matching inbound event within {timeout}s; got {seen!r}")


def wait_for(condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def parse_prefixed(text: str) -> dict[str, Any]:
    for prefix in ("WSE", "S", "U"):
        if text.startswith(prefix + "{"):
            return dict(json.loads(text[len(prefix) :]))
    return dict(json.loads(text))


class RawClient:
    """A blocking RFC 6455 client over a plain socket, for malformed-input tests."""

    def __init__(self, port: int, path: str = "/", headers: dict[str, str] | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            "Host: 127.0.0.1",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        # surrogateescape: a header value may carry raw bytes ("\udcff" is the byte 0xff).
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape"))
        self.status_line, self.response_headers = self._read_head()

    def _read_head(self) -> tuple[str, str]:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        text = head.decode("latin-1")
        status, _, rest = text.partition("\r\n")
        return status, rest

    def send_frame(
        self, opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0
    ) -> None:
        self.sock.sendall(encode_frame(opcode, payload, fin=fin, masked=masked, rsv=rsv))

    def recv_frame(self, timeout: float = 5.0) -> tuple[int, bytes]:
        """(opcode, payload); (-1, b"") when the server closed the TCP connection."""
        self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= 2:
                b1 = self.buf[1] & 0x7F
                need, offset = 2, 2
                if b1 == 126:
                    need, offset = 4, 4
                elif b1 == 127:
                    need, offset = 10, 10
                if len(self.buf) >= need:
                    n = b1
                    if b1 == 126:
                        n = struct.unpack(">H", self.buf[2:4])[0]
                    elif b1 == 127:
                        n = struct.unpack(">Q", self.buf[2:10])[0]
                    if len(self.buf) >= offset + n:
                        op = self.buf[0] & 0x0F
                        payload = self.buf[offset : offset + n]
                        self.buf = self.buf[offset + n :]
                        return op, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                return -1, b""
            self.buf += chunk

    def recv_until_close(self, timeout: float = 5.0) -> tuple[int | None, list[tuple[int, bytes]]]:
        """Reads frames until a close frame; returns (close code, frames before it)."""
        frames: list[tuple[int, bytes]] = []
        while True:
            op, payload = self.recv_frame(timeout)
            if op == -1:
                return None, frames
            if op == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                return code, frames
            frames.append((op, payload))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def encode_frame(
    opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0
) -> bytes:
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = bytes([first, mask_bit | n])
    elif n <= 0xFFFF:
        head = bytes([first, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + body


def http_get(port: int, path: str, extra: str = "") -> tuple[int, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, body.decode()
