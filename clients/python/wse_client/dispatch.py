"""Dispatcher: the inbound path of a client, from frame to consumer.

frame -> decode (codec) -> system messages (to the client) -> duplicate window
-> correlation replies -> per-stream ordering and gaps -> callbacks (``on``,
``on_any``, ``on_gap``) -> the bounded EventQueue read by ``async for``.

Everything here is synchronous and runs on the client's event loop, once per
read with all the messages the transport cut from it, so the common case (a
``U{...}`` text frame of an update that arrives in order) takes a fast path
written out in one loop: it is what decides how close ``async for`` comes to a
bare receive loop (bench/client/).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

from wse_client import _json
from wse_client.connection import Session
from wse_client.errors import WSEError
from wse_client.event_queue import EventQueue
from wse_client.event_sequencer import EventSequencer
from wse_client.protocol import to_event
from wse_client.types import ConnectionStats, Gap, WSEEvent

log = logging.getLogger("wse_client")

Handler = Callable[[WSEEvent], Any]
GapHandler = Callable[[Gap], Any]

# System types consumed by the client; never delivered to the application.
SYSTEM_TYPES = frozenset({"server_ready", "server_hello", "PONG", "pong", "PING", "ping", "heartbeat"})
# Types that need more than the fast path: handled by _on_envelope.
_SLOW_TYPES = SYSTEM_TYPES | {"batch", "subscription_update", "rate_limit_warning", "error"}

_tuple_new = tuple.__new__
_monotonic = time.monotonic
_loads = _json.loads


class Dispatcher:
    def __init__(
        self,
        *,
        stats: ConnectionStats,
        queue: EventQueue | None,
        sequencer: EventSequencer[WSEEvent | None],
        gap_detection: bool,
        on_system: Callable[[Session, str, dict[str, Any]], None],
        on_ack: Callable[[WSEEvent], None],
        on_rate_limit: Callable[[WSEEvent], None],
    ) -> None:
        self.stats = stats
        self.queue = queue
        self.sequencer = sequencer
        self.gap_detection = gap_detection
        self._on_system = on_system
        self._on_ack = on_ack
        self._on_rate_limit = on_rate_limit
        self.handlers: dict[str, list[Handler]] = {}
        self.any_handlers: list[Handler] = []
        self.gap_handlers: list[GapHandler] = []
        self.pending: dict[str, asyncio.Future[WSEEvent]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self._expire_timer: asyncio.TimerHandle | None = None
        # The sequencer's tables, read directly by the fast path.
        self._streams = sequencer._streams
        self._ids = sequencer._ids
        self._order = sequencer._order
        self._window = sequencer.window_size
        self.has_callbacks = False  # set by the client when a handler is registered

    # ---- callbacks --------------------------------------------------------------

    def call(self, fn: Callable[[Any], Any], arg: Any) -> None:
        """Runs a callback; a coroutine result becomes a task. Exceptions are logged."""
        try:
            result = fn(arg)
        except Exception:
            log.exception("wse_client: callback %r failed", fn)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self.tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("wse_client: async callback failed", exc_info=task.exception())

    # ---- frames -----------------------------------------------------------------

    def on_frame(self, session: Session, frame: str | bytes) -> None:
        """One inbound frame (see on_frames)."""
        self.on_frames(session, [frame])

    def on_frames(self, session: Session, frames: list[str | bytes]) -> None:
        """The frames of one read, in order. The common case, an update envelope
        ``U{...}`` that arrives in order, is written out here line by line (each
        line costs; see bench/client), with the tables it touches held in locals;
        anything else takes _slow_frame."""
        stats = self.stats
        stats.bytes_received += sum(map(len, frames))  # also the heartbeat's sign of life
        if session.encrypted:  # every data frame is E: (binary)
            for frame in frames:
                self._slow_frame(session, frame)
            return
        ids = self._ids
        order = self._order
        window = self._window
        streams = self._streams
        sequenced = self.gap_detection
        native = session.native_dialect
        queue = self.queue
        items = queue._items if queue is not None else None
        maxsize = queue.maxsize if queue is not None else 0
        for frame in frames:
            if type(frame) is not str or frame[:2] != "U{":
                self._slow_frame(session, frame)
                continue
            try:
                env = _loads(frame[1:])
            except ValueError:
                self._slow_frame(session, frame)
                continue
            if type(env) is not dict:
                self._slow_frame(session, frame)
                continue
            get = env.get
            msg_type = get("t")
            payload = get("p")
            if type(msg_type) is not str or msg_type in _SLOW_TYPES or type(payload) is not dict:
                self._slow_frame(session, frame)
                continue
            msg_id = get("id")
            seq = get("seq")
            topic = get("topic")
            if len(env) == 2 + (msg_id is not None) + (seq is not None) + (topic is not None):
                ts = pri = sig = None  # nothing else in the envelope
                version = 1
            else:
                if "cid" in env:
                    self._slow_frame(session, frame)
                    continue
                ts, version, pri, sig = get("ts"), get("v", 1), get("pri"), get("sig")
                if type(version) is not int:
                    version = 1
                if type(pri) is not int:
                    pri = None
            if type(topic) is not str and topic is not None:
                self._slow_frame(session, frame)
                continue
            stats.messages_received += 1
            if msg_id is not None:
                if type(msg_id) is not str:
                    msg_id = str(msg_id)
                if msg_id in ids:  # the sequencer's duplicate window, inlined
                    self.sequencer.duplicates += 1
                    stats.duplicates_dropped += 1
                    continue
                ids.add(msg_id)
                order.append(msg_id)
                if len(order) > window:
                    ids.discard(order.popleft())
            if type(seq) is not int:
                seq = None
            event: WSEEvent = _tuple_new(
                WSEEvent, (msg_type, payload, msg_id, seq, ts, version, "U", pri, None, sig, topic, env)
            )
            if seq is not None and sequenced and (topic is not None or native):
                state = streams.get(topic)
                if state is None or state.expected != seq or state.held:
                    self._sequence(event, seq, topic)
                    continue
                state.expected = seq + 1
            if self.has_callbacks:
                self.deliver(event)
            elif items is not None:
                if len(items) < maxsize:  # EventQueue.put_nowait, inlined; the consumer is woken below
                    items.append(event)
                elif queue is not None and not queue.put_nowait(event):
                    stats.queue_dropped = queue.dropped
        if queue is not None:
            getter = queue._getter
            if getter is not None and items and not getter.done():
                getter.set_result(None)

    def _slow_frame(self, session: Session, frame: str | bytes) -> None:
        stats = self.stats
        try:
            body, category, encrypted = session.codec.decode(frame)
        except WSEError as exc:
            stats.decode_errors += 1
            log.warning("wse_client: undecodable frame dropped: %s", exc)
            return
        if encrypted:
            stats.encrypted_received += 1
        elif session.encrypted:
            stats.plaintext_refused += 1
            log.warning("wse_client: plaintext frame on an encrypted connection refused")
            return
        if type(body) is dict:
            self.on_envelope(session, body, category)
        else:
            for item in body:
                if isinstance(item, dict):
                    self.on_envelope(session, item, category)

    def on_envelope(self, session: Session, env: dict[str, Any], category: str | None) -> None:
        self.stats.messages_received += 1
        msg_type = env.get("t")
        if msg_type is None:
            msg_type = env.get("type")
        if type(msg_type) is not str:  # hostile input: a list is not even hashable
            msg_type = "unknown" if msg_type is None else str(msg_type)
        if msg_type in SYSTEM_TYPES:
            self._on_system(session, str(msg_type), env)
            seq = env.get("seq")
            if type(seq) is int:  # system envelopes take numbers of the connection's sequence too
                self.sequence(session, None, seq, env.get("topic"))
            return
        if msg_type == "batch":
            p = env.get("p")
            messages = p.get("messages") if isinstance(p, dict) else None
            if isinstance(messages, list):
                self.stats.messages_received -= 1  # the batch itself is not a message
                for item in messages:
                    if isinstance(item, dict):
                        self.on_envelope(session, item, category)
                return
        event = to_event(env, category)
        if event.id is not None and self.sequencer.is_duplicate(event.id):
            self.stats.duplicates_dropped += 1
            return
        delivered: WSEEvent | None = event
        cid = event.correlation_id
        if cid is not None and cid in self.pending:
            fut = self.pending.pop(cid)
            if not fut.done():
                fut.set_result(event)
            delivered = None
        elif msg_type == "subscription_update":
            self._on_ack(event)  # an acknowledgement, consumed by subscribe()
            delivered = None
        elif msg_type == "rate_limit_warning":
            self._on_rate_limit(event)
        elif msg_type == "error":
            log.warning(
                "wse_client: server error %s: %s", event.payload.get("code"), event.payload.get("message")
            )
        seq = event.sequence
        if seq is None:
            if delivered is not None:
                self.deliver(delivered)
            return
        self.sequence(session, delivered, seq, event.topic)

    # ---- ordering -----------------------------------------------------------------

    def sequence(self, session: Session, item: WSEEvent | None, seq: int, topic: Any) -> None:
        """Orders `item` in its stream (None: a number taken by a message not delivered)."""
        if self.gap_detection and isinstance(topic, str):
            self._sequence(item, seq, topic)
        elif self.gap_detection and session.native_dialect:  # only our server numbers per connection
            self._sequence(item, seq, None)
        elif item is not None:
            self.deliver(item)

    def _sequence(self, item: WSEEvent | None, seq: int, stream: str | None) -> None:
        ready, gaps = self.sequencer.push(stream, seq, item)
        for gap in gaps:
            self.report_gap(gap)
        for ev in ready:
            if ev is not None:
                self.deliver(ev)
        self._arm_expire()

    def report_gap(self, gap: Gap) -> None:
        self.stats.gaps += 1
        self.stats.messages_missing += gap.count
        log.warning(
            "wse_client: %d message(s) missing in stream %r: %d..%d",
            gap.count,
            gap.stream,
            gap.first,
            gap.last,
        )
        for fn in self.gap_handlers:
            self.call(fn, gap)
        payload = {"stream": gap.stream, "first": gap.first, "last": gap.last, "count": gap.count}
        self.deliver(WSEEvent(type="gap", payload=payload, topic=gap.stream))

    def _arm_expire(self) -> None:
        if self._expire_timer is not None:
            return
        deadline = self.sequencer.next_deadline()
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        self._expire_timer = loop.call_at(loop.time() + max(0.0, deadline - _monotonic()), self._on_expire)

    def _on_expire(self) -> None:
        self._expire_timer = None
        ready, gaps = self.sequencer.expire()
        for gap in gaps:
            self.report_gap(gap)
        for item in ready:
            if item is not None:
                self.deliver(item)
        self._arm_expire()

    def reset_connection_stream(self) -> None:
        """A new connection restarts the server's per-connection numbering."""
        for held in self.sequencer.reset_stream(None):
            if held is not None:
                self.deliver(held)

    def close(self) -> None:
        if self._expire_timer is not None:
            self._expire_timer.cancel()
            self._expire_timer = None

    # ---- delivery -------------------------------------------------------------------

    def deliver(self, event: WSEEvent) -> None:
        handlers = self.handlers.get(event.type)
        if handlers:
            for fn in handlers:
                self.call(fn, event)
        for fn in self.any_handlers:
            self.call(fn, event)
        queue = self.queue
        if queue is not None and not queue.put_nowait(event):
            self.stats.queue_dropped = queue.dropped

    def fail_pending(self, error: WSEError) -> None:
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(error)
        self.pending.clear()
