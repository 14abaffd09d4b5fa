"""EventQueue: the bounded queue behind ``async for event in client``.

Overflow policy (types.OverflowPolicy): DROP_OLDEST (default) or DROP_NEWEST
count what they drop and the next get() returns a ``queue_overflow`` event
(payload ``{"dropped": n}``) before the events that follow, so a consumer always
learns it lost something; BLOCK makes put() wait, which stops the client reading
its socket (the server's slow-consumer policy applies from there).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import cast

from wse_client.types import OverflowPolicy, WSEEvent

log = logging.getLogger("wse_client")

_CLOSED = object()


class EventQueue:
    def __init__(self, maxsize: int, policy: OverflowPolicy = OverflowPolicy.DROP_OLDEST) -> None:
        if maxsize < 1:
            raise ValueError("EventQueue: maxsize must be >= 1")
        self.maxsize = maxsize
        self.policy = OverflowPolicy(policy)
        self._items: deque[WSEEvent | object] = deque()
        self._getter: asyncio.Future[None] | None = None
        self._putters: deque[asyncio.Future[None]] = deque()
        self.dropped = 0
        self._unreported = 0
        # BLOCK: the reader paused the socket; on_space resumes it once there is room.
        self.paused = False
        self.on_space: Callable[[], None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def _wake_getter(self) -> None:
        g = self._getter
        if g is not None and not g.done():
            g.set_result(None)

    def put_nowait(self, event: WSEEvent) -> bool:
        """False if the event (or an older one) was dropped. With BLOCK nothing is
        dropped: the caller waits in wait_space() before producing more."""
        items = self._items
        ok = True
        if len(items) >= self.maxsize and self.policy is not OverflowPolicy.BLOCK:
            self.dropped += 1
            self._unreported += 1
            if self._unreported == 1:
                log.warning(
                    "wse_client: event queue full (%d); dropping (%s)", self.maxsize, self.policy.value
                )
            if self.policy is OverflowPolicy.DROP_OLDEST:
                items.popleft()
                ok = False
            else:
                self._wake_getter()
                return False
        items.append(event)
        self._wake_getter()
        return ok

    async def wait_space(self) -> None:
        """Returns once fewer than maxsize events wait (or the queue is closed)."""
        while len(self._items) >= self.maxsize and self._items[-1] is not _CLOSED:
            fut = asyncio.get_running_loop().create_future()
            self._putters.append(fut)
            try:
                await fut
            finally:
                if fut in self._putters:
                    self._putters.remove(fut)

    async def put(self, event: WSEEvent) -> None:
        if self.policy is OverflowPolicy.BLOCK:
            await self.wait_space()
        self.put_nowait(event)

    def close(self) -> None:
        """Wakes the consumer (get() returns None once the queue is empty) and producers."""
        self._items.append(_CLOSED)
        self._wake_getter()
        while self._putters:
            fut = self._putters.popleft()
            if not fut.done():
                fut.set_result(None)

    def reopen(self) -> None:
        # In place: the dispatcher's fast path holds this deque.
        kept = [i for i in self._items if i is not _CLOSED]
        self._items.clear()
        self._items.extend(kept)

    def _pop(self) -> WSEEvent | None:
        if self._unreported:
            n, self._unreported = self._unreported, 0
            return WSEEvent(type="queue_overflow", payload={"dropped": n, "policy": self.policy.value})
        item = self._items.popleft()
        if self.paused and len(self._items) < self.maxsize:
            self.paused = False
            if self.on_space is not None:
                self.on_space()
        if self._putters:
            fut = self._putters.popleft()
            if not fut.done():
                fut.set_result(None)
        if item is _CLOSED:
            self._items.appendleft(_CLOSED)  # stays closed for later getters
            return None
        return cast(WSEEvent, item)

    def pop_fast(self) -> WSEEvent | None:
        """The next event when one waits and nothing else needs doing, else None
        (then use get()). The consumer's hot path."""
        items = self._items
        if items and not (self._unreported or self.paused or self._putters) and type(items[0]) is WSEEvent:
            return items.popleft()  # type: ignore[return-value]  # checked above (cast() costs a call)
        return None

    def get_nowait(self) -> WSEEvent | None:
        """An event, None if closed; raises asyncio.QueueEmpty when empty."""
        if not self._items and not self._unreported:
            raise asyncio.QueueEmpty
        return self._pop()

    async def get(self) -> WSEEvent | None:
        while not self._items and not self._unreported:
            fut = asyncio.get_running_loop().create_future()
            self._getter = fut
            try:
                await fut
            finally:
                self._getter = None
        return self._pop()
