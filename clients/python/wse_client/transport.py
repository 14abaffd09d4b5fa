"""WebSocket connection on websockets' Sans-I/O protocol, with messages pushed
to a callback in batches.

Why not websockets' asyncio connection: it hands each message through an
assembler, a future and an ``await recv()``; that per-message machinery costs
more than everything WSE does with the message. Here ``data_received`` cuts the
whole data frames out of the bytes it got (wse_client.frames.scan: the common
case in a few integer operations) and hands all the messages of one read to the
handler in one call, synchronously. Every other frame (ping, pong, close,
fragments) is fed whole to ``websockets.client.ClientProtocol``, which owns
RFC 6455: handshake checks, control frames, the close handshake, fragmented
messages, size limits and every protocol error; so does everything after a
frame that is invalid from its header on. The parser is only ever fed whole
frames, so it always sits at a frame boundary when the fast path resumes.

Two phases: until ``set_handler`` is called, messages queue up for ``recv()``
(the handshake reads server_ready that way); afterwards each read's messages
go to the handler. Owned by one event loop; not thread-safe.
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
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from wse_client.frames import BAD_UTF8, HANDOFF, NEED, scan

Message = str | bytes
Handler = Callable[[list[Message]], None]
_OPEN = State.OPEN
_HEADERS_END = b"\r\n\r\n"


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
        # Inbound framing. Until the opening handshake is done the protocol gets every
        # byte, but never one past the end of the response headers (_head_tail keeps
        # the last 3 bytes fed, to find a terminator split between reads). Then
        # _framing: scan() cuts the frames; _partial holds the bytes of an incomplete
        # frame (_partial_len of them, _need wanted). After a fatal frame the
        # protocol gets everything again (_framing False, protocol state not OPEN).
        self._framing = False
        self._head_tail = b""
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._need = 0

    # ---- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._flush()

    def data_received(self, data: bytes) -> None:
        if self._framing:
            self._frames_received(data)
        elif self.protocol.state is State.CONNECTING:
            self._head_received(data)
        else:
            self._feed(data)

    def eof_received(self) -> bool | None:
        # Bytes of an incomplete frame go to the protocol first, so that its
        # verdict on the truncated stream is its own.
        self._framing = False
        if self._partial:
            rest = b"".join(self._partial)
            self._partial, self._partial_len = [], 0
            self._feed(rest)
        self.protocol.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._framing = False
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

    def _head_received(self, data: bytes) -> None:
        """Opening handshake: the protocol parses the response; the frames after it are ours."""
        seen = self._head_tail + data
        at = seen.find(_HEADERS_END)
        if at < 0:
            self._head_tail = seen[-3:]
            self._feed(data)  # the protocol bounds the line and header sizes
            return
        cut = at + 4 - len(self._head_tail)
        self._head_tail = b""
        self._feed(data[:cut])
        rest = data[cut:]
        if self.protocol.state is _OPEN:
            self._framing = True
            if rest:
                self._frames_received(rest)
        elif rest:
            self._feed(rest)  # a refusal's body, or bytes the protocol discards

    def _frames_received(self, data: bytes) -> None:
        if self._partial:
            self._partial.append(data)
            self._partial_len += len(data)
            if self._partial_len < self._need:
                return  # a large frame arriving in pieces: joined once, when complete
            data = b"".join(self._partial)
            self._partial, self._partial_len = [], 0
        protocol = self.protocol
        pos = 0
        while True:
            limit = self._frame_limit()
            out: list[Message] = []
            pos, verdict, size = scan(data, pos, limit, protocol.current_size is not None, out)
            if out:
                self._deliver_all(out)
            if verdict == NEED:
                if pos < len(data):
                    rest = data[pos:] if pos else data
                    self._partial, self._partial_len, self._need = [rest], len(rest), size
                return
            if verdict == HANDOFF:
                self._feed(data[pos : pos + size])
                pos += size
                if protocol.state is _OPEN:
                    continue
                rest = data[pos:]  # after a close frame: the protocol discards the rest
            elif verdict == BAD_UTF8:
                rest = b""
                protocol.fail(CloseCode.INVALID_DATA, "invalid UTF-8 in a text frame")
            else:  # FAIL: the protocol closes with its own code and reason
                rest = data[pos:]
            self._framing = False
            if rest:
                self._feed(rest)
            else:
                self._flush()
            return

    def _frame_limit(self) -> int | None:
        """The protocol's own limit for the next frame (Protocol.parse)."""
        protocol = self.protocol
        limit = protocol.max_message_size
        if limit is not None and protocol.current_size is not None:
            limit -= protocol.current_size
        fragment = protocol.max_fragment_size
        if fragment is not None:
            limit = fragment if limit is None else min(limit, fragment)
        return limit

    def _feed(self, data: bytes) -> None:
        """Bytes for websockets' protocol; its events are handled here."""
        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if type(event) is Frame:
                try:
                    self._on_frame(event)
                except UnicodeDecodeError:
                    protocol.fail(CloseCode.INVALID_DATA, "invalid UTF-8 in a text message")
            elif isinstance(event, Response):
                self._on_response()
        self._flush()

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
                self._deliver_all([data.decode() if opcode is Opcode.TEXT else data])
                return
            self._fragments = [bytes(frame.data)]
            self._fragment_text = opcode is Opcode.TEXT
        elif opcode is Opcode.CONT:
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                data = b"".join(self._fragments)
                self._fragments = []
                self._deliver_all([data.decode() if self._fragment_text else data])
        # PING (answered by the protocol), PONG and CLOSE need nothing here.

    def _deliver_all(self, messages: list[Message]) -> None:
        handler = self._handler
        if handler is not None and not self._reading_paused and not self._inbox:
            handler(messages)
            return
        # Handshake phase, or paused: parsed messages wait here (at most one read's worth).
        self._inbox.extend(messages)
        self._wake_inbox()

    def _wake_inbox(self) -> None:
        w = self._inbox_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def set_handler(self, handler: Handler) -> list[Message]:
        """From now on messages go to ``handler``, a list per read; returns those received before."""
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

    def pause_reading(self, unhandled: Sequence[Message] = ()) -> None:
        """Backpressure: no more messages reach the handler until resume_reading().
        A handler that pauses in the middle of its list passes the rest as
        ``unhandled``: those are the first to be handed over again."""
        self._reading_paused = True
        self._inbox.extendleft(reversed(unhandled))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        self._reading_paused = False
        handler = self._handler
        if handler is not None and self._inbox:
            waiting = list(self._inbox)
            self._inbox.clear()
            handler(waiting)  # may pause again, giving back what it did not take
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
