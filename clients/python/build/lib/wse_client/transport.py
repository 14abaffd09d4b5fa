"""WebSocket connection on websockets' Sans-I/O protocol, with messages pushed
to a callback.

Why not websockets' asyncio connection: it hands each message through an
assembler, a future and an ``await recv()``; that per-message machinery costs
more than everything WSE does with the message. Here ``data_received`` feeds the
bytes to ``websockets.client.ClientProtocol`` (which owns RFC 6455: handshake
checks, frame parsing, masking, ping/pong, close handshake, size limit) and each
complete message goes straight to the handler, synchronously. The WebSocket
code itself stays websockets'.

Two phases: until ``set_handler`` is called, messages queue up for ``recv()``
(the handshake reads server_ready that way); afterwards each message calls the
handler. Owned by one event loop; not thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidHandshake, InvalidURI
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

Message = str | bytes
Handler = Callable[[Message], None]
_TEXT = Opcode.TEXT


class ConnectionLost(Exception):
    """The connection is closed; ``code``/``reason`` are what the peer sent (1006 if nothing)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"connection closed ({code} {reason!r})")
        self.code = code
        self.reason = reason


class WebSocket(asyncio.Protocol):
    def __init__(self, protocol: ClientProtocol) -> None:
        self.protocol = protocol
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._opened: asyncio.Future[None] = self._loop.create_future()
        self._closed: asyncio.Future[tuple[int, str]] = self._loop.create_future()
        self._inbox: deque[Message] = deque()
        self._inbox_waiter: asyncio.Future[None] | None = None
        self._handler: Handler | None = None
        self._fragments: list[bytes] = []
        self._fragment_text = False
        self._write_paused = False
        self._reading_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []

    # ---- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._flush()

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        protocol.receive_data(data)
        handler = self._handler
        for event in protocol.events_received():
            if type(event) is Frame:
                # Hot path: a whole text message with the handler running.
                if event.opcode is _TEXT and event.fin and handler is not None and not self._reading_paused:
                    payload = event.data
                    handler(payload.decode() if type(payload) is bytes else bytes(payload).decode())
                else:
                    self._on_frame(event)
            elif isinstance(event, Response):
                self._on_response()
        self._flush()

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        rcvd = self.protocol.close_rcvd
        result = (rcvd.code, rcvd.reason) if rcvd is not None else (1006, "")
        if not self._opened.done():
            self._opened.set_exception(ConnectionLost(*result))
        if not self._closed.done():
            self._closed.set_result(result)
        self._wake_inbox()
        for fut in self._drain_waiters:
            if not fut.done():
                fut.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        for fut in self._drain_waiters:
            if not fut.done():
                fut.set_result(None)
        self._drain_waiters.clear()

    # ---- inbound ----------------------------------------------------------------

    def _on_response(self) -> None:
        if self._opened.done():
            return
        exc = self.protocol.handshake_exc
        if exc is not None:
            self._opened.set_exception(exc)
        else:
            self._opened.set_result(None)

    def _on_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                data = bytes(frame.data)
                self._deliver(data.decode() if opcode is Opcode.TEXT else data)
                return
            self._fragments = [bytes(frame.data)]
            self._fragment_text = opcode is Opcode.TEXT
        elif opcode is Opcode.CONT:
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                data = b"".join(self._fragments)
                self._fragments = []
                self._deliver(data.decode() if self._fragment_text else data)
        # PING (answered by the protocol), PONG and CLOSE need nothing here.

    def _deliver(self, message: Message) -> None:
        handler = self._handler
        if handler is not None and not self._reading_paused:
            handler(message)
            return
        # Handshake phase, or paused: parsed messages wait here (at most one read's worth).
        self._inbox.append(message)
        self._wake_inbox()

    def _wake_inbox(self) -> None:
        w = self._inbox_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def set_handler(self, handler: Handler) -> list[Message]:
        """From now on messages go to ``handler``; returns those received before."""
        self._handler = handler
        early = list(self._inbox)
        self._inbox.clear()
        return early

    async def recv(self) -> Message:
        """The next message (handshake phase only). Raises ConnectionLost."""
        while not self._inbox:
            if self._closed.done():
                raise ConnectionLost(*self._closed.result())
            self._inbox_waiter = self._loop.create_future()
            try:
                await self._inbox_waiter
            finally:
                self._inbox_waiter = None
        return self._inbox.popleft()

    def pause_reading(self) -> None:
        """Backpressure: no more messages reach the handler until resume_reading()."""
        self._reading_paused = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        self._reading_paused = False
        handler = self._handler
        while handler is not None and self._inbox and not self._reading_paused:
            handler(self._inbox.popleft())
        if not self._reading_paused and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    # ---- outbound -----------------------------------------------------------------

    def _flush(self) -> None:
        transport = self.transport
        if transport is None:
            return
        for chunk in self.protocol.data_to_send():
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                transport.write_eof()
        if self.protocol.close_expected() and not transport.is_closing():
            # The close handshake is done on our side: give the server a moment to
            # close TCP first (RFC 6455 7.1.1), then close it ourselves.
            self._loop.call_later(2.0, transport.close)

    async def send(self, message: Message) -> None:
        """Sends one message; waits while the socket's write buffer is full.
        Raises ConnectionLost once the connection is closing or closed."""
        if self.protocol.state is not State.OPEN:
            code, reason = self.close_code
            raise ConnectionLost(code, reason)
        if isinstance(message, str):
            self.protocol.send_text(message.encode())
        else:
            self.protocol.send_binary(message)
        self._flush()
        if self._write_paused:
            fut = self._loop.create_future()
            self._drain_waiters.append(fut)
            await fut

    async def close(self, code: int = 1000, reason: str = "", timeout: float = 2.0) -> None:
        """Close handshake, bounded by ``timeout``; then the TCP connection is closed."""
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            self._flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._closed), timeout)
        self.abort()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    @property
    def close_code(self) -> tuple[int, str]:
        rcvd = self.protocol.close_rcvd
        return (rcvd.code, rcvd.reason) if rcvd is not None else (1006, "")

    @property
    def opened(self) -> asyncio.Future[None]:
        """Resolves once the opening handshake succeeded (raises its error otherwise)."""
        return self._opened

    @property
    def closed(self) -> asyncio.Future[tuple[int, str]]:
        """Resolves with (code, reason) once the connection is gone."""
        return self._closed


async def open_websocket(
    url: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    max_size: int | None = None,
    open_timeout: float = 10.0,
    user_agent: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> WebSocket:
    """TCP (TLS for wss://) and the opening handshake. Raises InvalidURI,
    InvalidHandshake (InvalidStatus for a refused upgrade), OSError, TimeoutError."""
    uri = parse_uri(url)
    protocol = ClientProtocol(uri, max_size=max_size)
    request = protocol.connect()
    if user_agent:
        request.headers["User-Agent"] = user_agent
    for name, value in headers:
        request.headers[name] = value
    protocol.send_request(request)
    loop = asyncio.get_running_loop()
    kwargs: dict[str, Any] = {}
    if uri.secure:
        kwargs["ssl"] = ssl_context or ssl.create_default_context()
        kwargs["server_hostname"] = uri.host
    async with asyncio.timeout(open_timeout):
        _, ws = await loop.create_connection(lambda: WebSocket(protocol), uri.host, uri.port, **kwargs)
        try:
            await ws.opened
        except BaseException:
            ws.abort()
            raise
    return ws


__all__ = ["ConnectionLost", "InvalidHandshake", "InvalidURI", "WebSocket", "open_websocket"]
