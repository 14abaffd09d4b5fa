"""EventSequencer: duplicate window and per-stream ordering with gap detection.

A *stream* is a sequence of ``seq`` numbers from one producer: the connection's
own (``None``: envelopes the server builds with ``send_event``, restarted at each
connection) or a topic's (envelopes that carry ``topic`` and their publisher's
``seq``). For each stream:

- the first number seen is the baseline, whatever it is: the first messages of a
  connection are never held back waiting for a number that will not come;
- the next expected number is delivered at once, followed by any buffered ones;
- a number ahead of the expected one is held for up to ``reorder_timeout``
  seconds or ``max_out_of_order`` messages, then the missing range is reported
  as a Gap and the held messages are delivered in order;
- a number behind the expected one (a late or replayed message) is delivered
  as it is (the id window below removes true duplicates).

Not thread-safe: the client's event loop owns it.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from wse_client.types import Gap

T = TypeVar("T")


@dataclass
class _Stream(Generic[T]):
    expected: int | None = None
    held: list[tuple[int, int, T]] = field(default_factory=list)  # heap of (seq, arrival, item)
    held_since: float = 0.0


class EventSequencer(Generic[T]):
    def __init__(
        self,
        window_size: int = 10_000,
        max_out_of_order: int = 100,
        reorder_timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window_size < 1 or max_out_of_order < 0 or reorder_timeout < 0:
            raise ValueError("EventSequencer: window_size >= 1, max_out_of_order >= 0, reorder_timeout >= 0")
        self.window_size = window_size
        self.max_out_of_order = max_out_of_order
        self.reorder_timeout = reorder_timeout
        self._clock = clock
        self._ids: set[str] = set()
        self._order: deque[str] = deque()
        self._streams: dict[str | None, _Stream[T]] = {}
        self._arrivals = 0
        self.duplicates = 0
        self.gaps = 0
        self.missing = 0

    # ---- duplicates ---------------------------------------------------------

    def is_duplicate(self, event_id: str) -> bool:
        """True if ``event_id`` is in the window; records it otherwise."""
        ids = self._ids
        if event_id in ids:
            self.duplicates += 1
            return True
        ids.add(event_id)
        order = self._order
        order.append(event_id)
        if len(order) > self.window_size:
            ids.discard(order.popleft())
        return False

    # ---- ordering -------------------------------------------------------------

    def reset_stream(self, stream: str | None) -> list[T]:
        """Forgets a stream (the connection's restarts with each connection); returns what it held."""
        state = self._streams.pop(stream, None)
        if state is None:
            return []
        return [item for _, _, item in sorted(state.held)]

    def position(self, stream: str | None) -> int | None:
        """The last number delivered in order for a stream (None if unknown)."""
        state = self._streams.get(stream)
        return None if state is None or state.expected is None else state.expected - 1

    def positions(self) -> dict[str, int]:
        """Last in-order number of every topic stream (for sync_request after a reconnect)."""
        return {
            k: s.expected - 1 for k, s in self._streams.items() if k is not None and s.expected is not None
        }

    def push(self, stream: str | None, seq: int, item: T) -> tuple[list[T], list[Gap]]:
        """Items ready for delivery now, in order, and gaps declared by this arrival."""
        state = self._streams.get(stream)
        if state is None:
            state = self._streams[stream] = _Stream()
        expected = state.expected
        if expected is None or seq == expected:
            state.expected = seq + 1
            if not state.held:
                return [item], []
            out = [item]
            self._drain_in_order(state, out)
            return out, []
        if seq < expected:
            return [item], []
        # Ahead of the expected number: hold it.
        if not state.held:
            state.held_since = self._clock()
        self._arrivals += 1
        heapq.heappush(state.held, (seq, self._arrivals, item))
        if self.max_out_of_order == 0 or self.reorder_timeout == 0 or len(state.held) > self.max_out_of_order:
            return self._give_up(stream, state)
        return [], []

    def expire(self) -> tuple[list[T], list[Gap]]:
        """Declares the gaps of streams that held messages for reorder_timeout."""
        now = self._clock()
        out: list[T] = []
        gaps: list[Gap] = []
        for stream, state in self._streams.items():
            if state.held and now - state.held_since >= self.reorder_timeout:
                items, found = self._give_up(stream, state)
                out += items
                gaps += found
        return out, gaps

    def next_deadline(self) -> float | None:
        """Clock time of the earliest expire() that would do something."""
        times = [s.held_since + self.reorder_timeout for s in self._streams.values() if s.held]
        return min(times) if times else None

    def _drain_in_order(self, state: _Stream[T], out: list[T]) -> None:
        held = state.held
        while held and held[0][0] <= (state.expected or 0):
            seq, _, item = heapq.heappop(held)
            if seq == state.expected:
                state.expected = seq + 1
            out.append(item)
        if held:
            state.held_since = self._clock()

    def _give_up(self, stream: str | None, state: _Stream[T]) -> tuple[list[T], list[Gap]]:
        first_held = state.held[0][0]
        expected = state.expected if state.expected is not None else first_held
        gaps = []
        if first_held > expected:
            gaps.append(Gap(stream, expected, first_held - 1))
            self.gaps += 1
            self.missing += first_held - expected
        state.expected = first_held
        out: list[T] = []
        self._drain_in_order(state, out)
        return out, gaps
