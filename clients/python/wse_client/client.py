"""AsyncWSEClient: the asyncio client (async context manager and async iterator).

Life of a client: connect() opens a session (connection.open_session) on an
endpoint chosen by the ConnectionPool; from then on the transport pushes every
message to the Dispatcher, and a supervisor task waits for the session to end.
Then it decides (close code vocabulary of the spec): auth
failures stop for good and raise WSEAuthError to the consumer; normal closes
end the stream; everything else reconnects with backoff (ReconnectConfig),
through the circuit breaker, failing over between endpoints. After every
(re)connect the client resubscribes its topics, asks the application to
replay what it missed (sync_request with the last sequence per topic) and
replays the offline send queue.

Inbound path, per read of the socket (transport.WebSocket cuts the frames, then
dispatch.Dispatcher, per message): decode -> system messages (back
to _on_system here) -> duplicate window -> correlation replies -> per-stream
ordering and gaps -> callbacks (@on, on_any) -> the bounded event queue read
by ``async for``. Not thread-safe: use it from the event loop that connected it
(SyncWSEClient wraps it for threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self

from wse_client.circuit_breaker import CircuitBreaker
from wse_client.connection import Session, SessionOptions, new_envelope, open_session
from wse_client.connection_pool import ConnectionPool
from wse_client.constants import (
    AUTH_CLOSE_CODES,
    DEAD_AFTER,
    DEDUP_WINDOW,
    FATAL_CLOSE_CODES,
    HANDSHAKE_TIMEOUT,
    HEARTBEAT_INTERVAL,
    MAX_MESSAGE_SIZE,
    MAX_OUT_OF_ORDER,
    OPEN_TIMEOUT,
    REORDER_TIMEOUT,
)
from wse_client.dispatch import Dispatcher, GapHandler, Handler
from wse_client.errors import (
    WSEAuthError,
    WSEConnectionError,
    WSEEncryptionError,
    WSEError,
    WSETimeoutError,
)
from wse_client.event_queue import EventQueue
from wse_client.event_sequencer import EventSequencer
from wse_client.heartbeat import heartbeat
from wse_client.network_monitor import NetworkMonitor
from wse_client.outbox import Outbox
from wse_client.rate_limiter import TokenBucketRateLimiter
from wse_client.reconnect import attempts_left, backoff_delay
from wse_client.subscriptions import Subscriptions
from wse_client.transport import ConnectionLost
from wse_client.types import (
    ConnectionQuality,
    ConnectionState,
    ConnectionStats,
    LoadBalancingStrategy,
    OverflowPolicy,
    ReconnectConfig,
    ReconnectMode,
    WSEEvent,
)

log = logging.getLogger("wse_client")


StateHandler = Callable[[ConnectionState], Any]


class AsyncWSEClient:
    """Client for a WSE server. See the module docstring and docs/PROTOCOL.md "Client behaviour".

    Pass ``url`` or ``endpoints`` (or both: ``url`` is tried first). ``queue_size``
    bounds the events waiting for ``async for``/``recv()`` (``overflow`` says what
    happens when it is full; ``queue_size=0`` means callbacks only, no queue).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        topics: Sequence[str] | None = None,
        reconnect: ReconnectConfig | None = None,
        endpoints: Sequence[str] | None = None,
        load_balancing: LoadBalancingStrategy = LoadBalancingStrategy.WEIGHTED_RANDOM,
        pool: ConnectionPool | None = None,
        queue_size: int = 1000,
        overflow: OverflowPolicy = OverflowPolicy.DROP_OLDEST,
        extra_headers: dict[str, str] | Sequence[tuple[str, str]] | None = None,
        encryption: bool = False,
        msgpack: bool = False,
        compression: bool = True,
        compress_outbound: bool = False,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        dead_after: float = DEAD_AFTER,
        open_timeout: float = OPEN_TIMEOUT,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        max_message_size: int = MAX_MESSAGE_SIZE,
        offline_queue_size: int = 1000,
        circuit_breaker: CircuitBreaker | None = None,
        rate_limiter: TokenBucketRateLimiter | None = None,
        gap_detection: bool = True,
        reorder_timeout: float = REORDER_TIMEOUT,
        dedup_window: int = DEDUP_WINDOW,
        recover_on_reconnect: bool = True,
    ) -> None:
        urls = ([url] if url else []) + [u for u in (endpoints or ()) if u != url]
        if pool is None:
            if not urls:
                raise ValueError("AsyncWSEClient: pass url=... or endpoints=[...]")
            pool = ConnectionPool(urls, load_balancing)
        else:
            for u in urls:
                pool.add_endpoint(u)
        if queue_size < 0:
            raise ValueError("AsyncWSEClient: queue_size must be >= 0 (0 = callbacks only)")
        if heartbeat_interval <= 0 or dead_after <= heartbeat_interval:
            raise ValueError(
                "AsyncWSEClient: need heartbeat_interval > 0 and dead_after > heartbeat_interval"
            )
        self.pool = pool
        self._preferred: str | None = url
        headers = extra_headers.items() if isinstance(extra_headers, dict) else (extra_headers or ())
        self._options = SessionOptions(
            token=token,
            extra_headers=tuple(headers),
            encryption=encryption,
            msgpack=msgpack,
            compression=compression,
            compress_outbound=compress_outbound,
            open_timeout=open_timeout,
            handshake_timeout=handshake_timeout,
            max_message_size=max_message_size,
        )
        self.reconnect_config = reconnect or ReconnectConfig()
        self.circuit_breaker = circuit_breaker or CircuitBreaker()
        self.rate_limiter = rate_limiter
        self.network = NetworkMonitor()
        self.stats = ConnectionStats()
        self.heartbeat_interval = heartbeat_interval
        self.dead_after = dead_after
        self.gap_detection = gap_detection
        self.recover_on_reconnect = recover_on_reconnect
        self._queue = EventQueue(queue_size, overflow) if queue_size > 0 else None
        self._sequencer: EventSequencer[WSEEvent | None] = EventSequencer(
            window_size=dedup_window, max_out_of_order=MAX_OUT_OF_ORDER, reorder_timeout=reorder_timeout
        )
        self._dispatch = Dispatcher(
            stats=self.stats,
            queue=self._queue,
            sequencer=self._sequencer,
            gap_detection=gap_detection,
            on_system=self._on_system,
            on_ack=lambda event: self._subs.on_ack(event.payload),
            on_rate_limit=self._on_rate_limit,
        )
        self._outbox = Outbox(self.stats, offline_queue_size, rate_limiter)
        self._subs = Subscriptions(topics or ())
        self._state_handlers: list[StateHandler] = []
        self._session: Session | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._state = ConnectionState.PENDING
        self._fatal: WSEError | None = None
        self._closing = False
        self._connected_event: asyncio.Event | None = None

    # ---- properties ---------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def is_connected(self) -> bool:
        return self._session is not None and self._state is ConnectionState.CONNECTED

    @property
    def is_ready(self) -> bool:
        return self.is_connected

    @property
    def connection_id(self) -> str | None:
        return self._session.connection_id if self._session else None

    @property
    def endpoint(self) -> str | None:
        return self._session.url if self._session else None

    @property
    def is_encrypted(self) -> bool:
        return self._session is not None and self._session.encrypted

    @property
    def server_details(self) -> dict[str, Any]:
        return dict(self._session.details) if self._session else {}

    @property
    def connection_quality(self) -> ConnectionQuality:
        return self.network.quality

    @property
    def subscribed_topics(self) -> list[str]:
        return list(self._subs.topics)

    @property
    def queue_size(self) -> int:
        return len(self._queue) if self._queue else 0

    @property
    def offline_queue_size(self) -> int:
        return len(self._outbox)

    def get_stats(self) -> dict[str, Any]:
        out = self.stats.as_dict()
        out.update(
            state=self._state.value,
            subscribed_topics=self.subscribed_topics,
            queue_size=self.queue_size,
            offline_queue_size=self.offline_queue_size,
            circuit_breaker=self.circuit_breaker.state.value,
            network=self.network.snapshot(),
            endpoints=self.pool.get_stats(),
        )
        return out

    # ---- callbacks ------------------------------------------------------------

    def on(self, event_type: str) -> Callable[[Handler], Handler]:
        """Decorator: call the function (sync or async) for every event of this type."""

        def register(fn: Handler) -> Handler:
            self._dispatch.handlers.setdefault(event_type, []).append(fn)
            self._dispatch.has_callbacks = True
            return fn

        return register

    def on_any(self, fn: Handler) -> Handler:
        """Call ``fn`` for every delivered event (also usable as a decorator)."""
        self._dispatch.any_handlers.append(fn)
        self._dispatch.has_callbacks = True
        return fn

    def off(self, event_type: str, fn: Handler) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._dispatch.handlers[event_type].remove(fn)

    def on_gap(self, fn: GapHandler) -> GapHandler:
        """Call ``fn(Gap)`` when messages of a stream are found missing."""
        self._dispatch.gap_handlers.append(fn)
        return fn

    def on_state_change(self, fn: StateHandler) -> StateHandler:
        self._state_handlers.append(fn)
        return fn

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state = state
        for fn in self._state_handlers:
            self._dispatch.call(fn, state)

    # ---- connect / close ------------------------------------------------------

    async def connect(self) -> Self:
        """Opens the first session (each endpoint tried once, best first).

        Raises WSEAuthError (never retried), WSEEncryptionError, or
        WSEConnectionError when no endpoint answers. Reconnection after a loss is
        automatic; the initial connect is not retried here.
        """
        if self._session is not None:
            return self
        if self._fatal is not None and isinstance(self._fatal, WSEAuthError):
            raise self._fatal
        self._closing = False
        self._fatal = None
        if self._queue is not None:
            self._queue.reopen()
        self._set_state(ConnectionState.CONNECTING)
        last: WSEError | None = None
        tried: set[str] = set()
        for _ in range(len(self.pool.endpoints)):
            url = self._next_url(exclude=tried)
            tried.add(url)
            try:
                session = await self._open(url)
            except (WSEAuthError, WSEEncryptionError) as exc:
                self._set_state(ConnectionState.ERROR)
                raise exc
            except WSEError as exc:
                last = exc
                continue
            await self._adopt(session, reconnected=False)
            self._supervisor = asyncio.create_task(self._supervise(), name="wse-client-supervisor")
            return self
        self._set_state(ConnectionState.ERROR)
        raise WSEConnectionError(f"could not connect to any endpoint: {last}") from last

    def _next_url(self, exclude: set[str] | None = None) -> str:
        if self._preferred is not None and (not exclude or self._preferred not in exclude):
            url, self._preferred = self._preferred, None
            return url
        for _ in range(4 * len(self.pool.endpoints)):
            url = self.pool.select_endpoint()
            if not exclude or url not in exclude:
                return url
        return next(
            (u for u in self.pool.endpoints if not exclude or u not in exclude), self.pool.endpoints[0]
        )

    async def _open(self, url: str) -> Session:
        started = time.monotonic()
        try:
            session = await open_session(url, self._options)
        except WSEAuthError:
            self.stats.connect_failures += 1
            raise
        except WSEError:
            self.stats.connect_failures += 1
            self.pool.record_failure(url)
            self.circuit_breaker.record_failure()
            raise
        self.pool.record_success(url, (time.monotonic() - started) * 1000)
        self.circuit_breaker.record_success()
        return session

    async def _adopt(self, session: Session, *, reconnected: bool) -> None:
        """Makes `session` current: state, sequencing, heartbeat, resubscribe, replay."""
        self._session = session
        self.pool.set_active_endpoint(session.url)
        self.pool.add_connection(session.url)
        self.stats.connects += 1
        if reconnected:
            self.stats.reconnects += 1
        self.stats.endpoint = session.url
        self.stats.connection_id = session.connection_id
        # The server's per-connection sequence restarts with every connection.
        self._dispatch.reset_connection_stream()
        self._set_state(ConnectionState.CONNECTED)
        if self._connected_event is not None:
            self._connected_event.set()
        beat = heartbeat(
            session,
            interval=self.heartbeat_interval,
            dead_after=self.dead_after,
            stats=self.stats,
            network=self.network,
            send=functools.partial(self._send_now, session),
            current=lambda: self._session is session,
        )
        self._heartbeat = asyncio.create_task(beat, name="wse-client-heartbeat")
        # Frames of the handshake first, then those that arrived since, then live.
        on_frames = self._dispatch.on_frames
        early, session.early = session.early, []
        on_frames(session, early)
        on_frames(session, session.ws.set_handler(self._handler_for(session)))
        if session.server_hello is not None:
            self._on_system(session, "server_hello", session.server_hello)
        # In this order: the application subscribes us before it replays, so the
        # live stream and the replay overlap instead of leaving a hole between them.
        # A connection lost meanwhile is noticed by the read loop.
        with contextlib.suppress(ConnectionLost):
            send = functools.partial(self._send_now, session)
            if self._subs.topics:
                await self._subs.request("subscribe", list(self._subs.topics), send)
            if reconnected and self.recover_on_reconnect:
                positions = self._sequencer.positions()
                if positions:
                    p = {"topics": list(positions), "last_sequence": positions, "reason": "reconnect"}
                    await self._send_now(session, new_envelope("sync_request", p))
            await self._outbox.replay(send)

    async def close(self) -> None:
        """Closes the connection (1000) and ends the event stream. Idempotent."""
        self._closing = True
        sup, self._supervisor = self._supervisor, None
        if sup is not None and sup is not asyncio.current_task():
            sup.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sup
        session = self._session
        if session is not None:
            await self._end_session(session)
            with contextlib.suppress(Exception):
                await session.ws.close(1000, "client closing")
        self._fail_waiters(WSEConnectionError("client closed"))
        self._dispatch.close()
        if self._queue is not None:
            self._queue.close()
        self._set_state(ConnectionState.DISCONNECTED)

    disconnect = close

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __await__(self) -> Any:
        return self.connect().__await__()

    async def _end_session(self, session: Session) -> None:
        if self._session is session:
            self._session = None
            self.pool.remove_connection(session.url)
        hb, self._heartbeat = self._heartbeat, None
        if hb is not None and hb is not asyncio.current_task():
            hb.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await hb
        self._subs.abandon()

    def _fail_waiters(self, error: WSEError) -> None:
        self._dispatch.fail_pending(error)

    async def force_reconnect(self) -> None:
        """Drops the current connection; the supervisor reconnects with backoff."""
        if self._session is not None:
            self._session.ws.abort()

    async def change_endpoint(self, url: str) -> None:
        """Switches to ``url`` (added to the pool) at once."""
        self.pool.add_endpoint(url)
        self._preferred = url
        await self.force_reconnect()

    # ---- supervisor -------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            while not self._closing:
                session = self._session
                if session is None:
                    return
                code, reason = await self._read(session)
                await self._end_session(session)
                if self._closing:
                    return
                if code in AUTH_CLOSE_CODES:
                    self._finish(WSEAuthError(f"server closed with {code} {reason!r}", close_code=code))
                    return
                if code in FATAL_CLOSE_CODES:
                    log.info("wse_client: server closed with %d %r; not reconnecting", code, reason)
                    self._finish(
                        None if code == 1000 else WSEConnectionError(f"closed with {code} {reason!r}")
                    )
                    return
                log.warning("wse_client: connection to %s lost (code %d); reconnecting", session.url, code)
                self.pool.record_failure(session.url)
                if not await self._reconnect():
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not leave consumers waiting forever
            log.exception("wse_client: supervisor failed")
            self._finish(WSEConnectionError(f"client failed: {exc!r}"))

    def _finish(self, error: WSEError | None) -> None:
        self._fatal = error
        self._fail_waiters(error or WSEConnectionError("connection closed"))
        self._set_state(ConnectionState.ERROR if error is not None else ConnectionState.DISCONNECTED)
        if self._queue is not None:
            self._queue.close()

    async def _reconnect(self) -> bool:
        """Backoff loop; True once a new session is adopted, False if we gave up."""
        self._set_state(ConnectionState.RECONNECTING)
        attempt = 0
        cfg = self.reconnect_config
        while not self._closing:
            if not attempts_left(cfg, attempt):
                self._finish(WSEConnectionError(f"gave up after {attempt} reconnection attempts"))
                return False
            delay = backoff_delay(cfg, attempt)
            if cfg.mode is ReconnectMode.ADAPTIVE or not self.circuit_breaker.allow():
                delay = max(delay, self.circuit_breaker.retry_in())
            await asyncio.sleep(delay)
            attempt += 1
            if not self.circuit_breaker.allow():
                continue
            url = self._next_url()
            try:
                session = await self._open(url)
            except WSEAuthError as exc:
                self._finish(exc)
                return False
            except WSEError as exc:
                log.info("wse_client: reconnect attempt %d to %s failed: %s", attempt, url, exc)
                continue
            await self._adopt(session, reconnected=True)
            return True
        return False

    async def _read(self, session: Session) -> tuple[int, str]:
        """Waits until the connection ends (messages are pushed to the dispatcher
        meanwhile); returns the close code and reason received (1006 if none)."""
        return await asyncio.shield(session.ws.closed)  # cancelling us must not cancel it

    def _handler_for(self, session: Session) -> Callable[[list[str | bytes]], None]:
        """What the transport calls with the messages of each read."""
        on_frames = self._dispatch.on_frames
        queue = self._queue
        if queue is None or queue.policy is not OverflowPolicy.BLOCK:
            return functools.partial(on_frames, session)
        ws = session.ws
        on_frame = self._dispatch.on_frame

        def blocking(frames: list[str | bytes]) -> None:
            for i, frame in enumerate(frames):
                on_frame(session, frame)
                if len(queue) >= queue.maxsize and not queue.paused:
                    # Backpressure: stop reading the socket until the consumer makes room;
                    # the rest of this read waits in the transport.
                    queue.paused = True
                    queue.on_space = ws.resume_reading
                    ws.pause_reading(frames[i + 1 :])
                    return

        return blocking

    # ---- inbound (system messages; the rest is dispatch.Dispatcher) ----------------

    def _on_system(self, session: Session, msg_type: str, env: dict[str, Any]) -> None:
        p = env.get("p")
        if not isinstance(p, dict):
            p = {}
        if msg_type in {"PONG", "pong"}:
            sent = p.get("client_timestamp", p.get("timestamp"))
            if isinstance(sent, int | float) and sent > 0:
                self.network.record_latency(time.time() * 1000 - sent)
        elif msg_type in {"PING", "ping"}:
            stamp = p.get("timestamp")
            reply: dict[str, Any] = {
                "t": "PONG",
                "p": {"timestamp": stamp, "server_timestamp": stamp},
                "v": 1,
            }
            if p.get("legacy"):
                self._spawn(session.ws.send(f"PONG:{p.get('timestamp', 0)}"))
            else:
                self._spawn(self._send_now(session, reply))
        elif msg_type == "server_hello":
            session.server_hello = env

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._dispatch.tasks.add(task)
        task.add_done_callback(self._quiet_done)

    def _quiet_done(self, task: asyncio.Task[Any]) -> None:
        # Internal sends fail only when the connection is gone; the supervisor handles that.
        self._dispatch.tasks.discard(task)
        if not task.cancelled():
            task.exception()

    def _on_rate_limit(self, event: WSEEvent) -> None:
        self.stats.rate_limit_warnings += 1
        retry = event.payload.get("retry_after", 1.0)
        retry_after = float(retry) if isinstance(retry, int | float) else 1.0
        if not 0.0 <= retry_after <= 60.0:  # NaN, negative or absurd: a sane default
            retry_after = 1.0
        self._outbox.pause(retry_after)
        log.warning("wse_client: server rate limit hit; %s messages dropped", event.payload.get("dropped"))

    # ---- consuming ----------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[WSEEvent]:
        return self

    async def __anext__(self) -> WSEEvent:
        queue = self._queue
        if queue is None:
            raise StopAsyncIteration
        event = queue.pop_fast()  # the common case: events are waiting
        if event is None:
            event = await queue.get()
        if event is None:
            self.stats.queue_dropped = queue.dropped
            if self._fatal is not None:
                raise self._fatal
            raise StopAsyncIteration
        return event

    async def recv(self, timeout: float | None = None) -> WSEEvent:
        """The next event. WSETimeoutError after ``timeout`` seconds; WSEAuthError or
        WSEConnectionError once the stream has ended."""
        if self._queue is None:
            raise WSEError("recv() needs an event queue (queue_size > 0)")
        try:
            event = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            raise WSETimeoutError(f"recv() timed out after {timeout}s") from None
        if event is None:
            raise self._fatal or WSEConnectionError("Connection closed")
        return event

    async def run_forever(self) -> None:
        """Consumes the stream until it ends (for callback-only clients); re-raises fatal errors."""
        async for _ in self:
            pass

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Waits until the client is connected (after a reconnect, say)."""
        if self.is_connected:
            return
        self._connected_event = asyncio.Event()
        try:
            await asyncio.wait_for(self._connected_event.wait(), timeout)
        except TimeoutError:
            raise WSETimeoutError(f"not connected within {timeout}s") from None

    # ---- outbound -----------------------------------------------------------------

    async def _send_now(self, session: Session, envelope: dict[str, Any]) -> None:
        frame = session.codec.encode(envelope)
        await session.ws.send(frame)
        self.stats.messages_sent += 1
        self.stats.bytes_sent += len(frame)

    async def send(
        self,
        msg_type: str,
        payload: Any = None,
        *,
        priority: int | None = None,
        correlation_id: str | None = None,
    ) -> bool:
        """Sends one message. Returns True once sent, or queued while disconnected
        (replayed after reconnect). Raises WSEConnectionError when disconnected and
        the offline queue is disabled, or after the stream has ended."""
        envelope = new_envelope(msg_type, payload, pri=priority, cid=correlation_id)
        return await self._send_or_queue(envelope)

    async def _send_or_queue(self, envelope: dict[str, Any]) -> bool:
        if self._fatal is not None:
            raise self._fatal
        await self._outbox.pace()
        session = self._session
        if session is not None:
            try:
                await self._send_now(session, envelope)
                return True
            except ConnectionLost:
                pass
        if self._closing or self._state in (
            ConnectionState.DISCONNECTED,
            ConnectionState.ERROR,
            ConnectionState.PENDING,
        ):
            raise WSEConnectionError("not connected")
        self._outbox.hold(envelope)
        return True

    async def send_with_retry(
        self, msg_type: str, payload: Any = None, *, max_retries: int = 5, **kw: Any
    ) -> bool:
        """send(), retrying WSEConnectionError with 0.1 s x 2^n (capped at 2 s) pauses."""
        for attempt in range(max_retries + 1):
            try:
                return await self.send(msg_type, payload, **kw)
            except WSEConnectionError:
                if attempt == max_retries:
                    raise
                await asyncio.sleep(min(0.1 * 2**attempt, 2.0))
        return False

    async def send_batch(self, messages: Iterable[tuple[str, Any]]) -> bool:
        """Several messages in one ``batch`` message (p.messages, p.count)."""
        items = [new_envelope(t, p) for t, p in messages]
        if not items:
            return True
        return await self._send_or_queue(new_envelope("batch", {"messages": items, "count": len(items)}))

    async def request(self, msg_type: str, payload: Any = None, *, timeout: float = 10.0) -> WSEEvent:
        """Sends a message with a fresh correlation id and returns the reply event
        (the first inbound event carrying the same ``cid``)."""
        cid = str(uuid.uuid4())
        fut: asyncio.Future[WSEEvent] = asyncio.get_running_loop().create_future()
        self._dispatch.pending[cid] = fut
        try:
            await self.send(msg_type, payload, correlation_id=cid)
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise WSETimeoutError(f"no reply to {msg_type!r} within {timeout}s") from None
        finally:
            self._dispatch.pending.pop(cid, None)

    async def subscribe(
        self, topics: Sequence[str] | str, *, wait: bool = True, timeout: float = 5.0
    ) -> bool:
        """Adds topics (kept across reconnections). With ``wait`` the call returns
        once the server acknowledged: True if every topic was accepted, False if the
        server refused some or sent no acknowledgement within ``timeout``."""
        new = self._subs.add([topics] if isinstance(topics, str) else topics)
        session = self._session
        if not new or session is None:
            return True  # nothing new, or subscribed on (re)connect
        fut = await self._subs.request("subscribe", new, functools.partial(self._send_now, session))
        return await self._subs.wait(fut, timeout, new) if wait else True

    async def unsubscribe(
        self, topics: Sequence[str] | str, *, wait: bool = True, timeout: float = 5.0
    ) -> bool:
        gone = self._subs.remove([topics] if isinstance(topics, str) else topics)
        session = self._session
        if session is None or not gone:
            return True
        fut = await self._subs.request("unsubscribe", gone, functools.partial(self._send_now, session))
        return await self._subs.wait(fut, timeout, []) if wait else True

    async def request_snapshot(self, topics: Sequence[str] | None = None) -> bool:
        """Asks the application for a snapshot (sync_request); the answer arrives as events."""
        p = {"topics": list(topics if topics is not None else self._subs.topics), "include_snapshots": True}
        return await self._send_or_queue(new_envelope("sync_request", p))


def connect(url: str | None = None, **options: Any) -> AsyncWSEClient:
    """``async with connect(url, token=...) as client`` (or ``client = await connect(...)``)."""
    return AsyncWSEClient(url, **options)
