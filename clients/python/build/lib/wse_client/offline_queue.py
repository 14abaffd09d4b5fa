"""OfflineQueue: messages sent while disconnected, replayed after reconnect."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    envelope: dict[str, Any]
    queued_at: float


class OfflineQueue:
    """Bounded FIFO. When full the oldest message is dropped (and counted), so the
    newest intent survives; messages older than ``max_age`` seconds are dropped at
    replay (a stale command is worse than none). ``max_size=0`` disables queueing:
    send() while disconnected then raises WSEConnectionError."""

    def __init__(self, max_size: int = 1000, max_age: float = 300.0) -> None:
        if max_size < 0 or max_age <= 0:
            raise ValueError("OfflineQueue: max_size >= 0 and max_age > 0")
        self.max_size = max_size
        self.max_age = max_age
        self._items: deque[QueuedMessage] = deque()
        self.dropped = 0

    @property
    def enabled(self) -> bool:
        return self.max_size > 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, envelope: dict[str, Any]) -> None:
        if len(self._items) >= self.max_size:
            self._items.popleft()
            self.dropped += 1
        self._items.append(QueuedMessage(envelope, time.monotonic()))

    def take_all(self) -> list[dict[str, Any]]:
        """Removes and returns the messages still fresh, oldest first."""
        now = time.monotonic()
        fresh = []
        while self._items:
            msg = self._items.popleft()
            if now - msg.queued_at <= self.max_age:
                fresh.append(msg.envelope)
            else:
                self.dropped += 1
        return fresh

    def push_front(self, envelopes: list[dict[str, Any]]) -> None:
        """Puts back messages whose replay failed, ahead of newer ones."""
        now = time.monotonic()
        for env in reversed(envelopes):
            self._items.appendleft(QueuedMessage(env, now))
        while len(self._items) > self.max_size:
            self._items.pop()
            self.dropped += 1

    def clear(self) -> None:
        self._items.clear()
