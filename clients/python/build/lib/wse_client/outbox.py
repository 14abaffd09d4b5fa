"""Outbox: pacing of outbound messages and the offline queue.

Pacing: a server ``rate_limit_warning`` pauses sends for its ``retry_after``;
an optional client-side token bucket spaces them further. Offline: messages
sent while the client is reconnecting wait in a bounded OfflineQueue and are
replayed, in order, once the next connection is up. Owned by the client's
event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from wse_client.errors import WSEConnectionError
from wse_client.offline_queue import OfflineQueue
from wse_client.rate_limiter import TokenBucketRateLimiter
from wse_client.transport import ConnectionLost
from wse_client.types import ConnectionStats


class Outbox:
    def __init__(
        self, stats: ConnectionStats, offline_size: int, rate_limiter: TokenBucketRateLimiter | None
    ) -> None:
        self.stats = stats
        self.rate_limiter = rate_limiter
        self.offline = OfflineQueue(max(offline_size, 1))
        self.offline_enabled = offline_size > 0
        self.paused_until = 0.0

    def __len__(self) -> int:
        return len(self.offline) if self.offline_enabled else 0

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)
        if self.rate_limiter is not None:
            self.rate_limiter.pause(seconds)

    async def pace(self) -> None:
        """Waits while sends are paused or the token bucket is empty."""
        wait = self.paused_until - time.monotonic()
        limiter = self.rate_limiter
        if limiter is not None:
            wait = max(wait, limiter.wait_time())
        if wait > 0:
            await asyncio.sleep(wait)
        if limiter is not None:
            while not limiter.try_acquire():
                await asyncio.sleep(limiter.wait_time())

    def hold(self, envelope: dict[str, Any]) -> None:
        """Keeps a message for the next connection. WSEConnectionError if disabled."""
        if not self.offline_enabled:
            raise WSEConnectionError("not connected and the offline queue is disabled")
        self.offline.put(envelope)
        self.stats.offline_queued += 1
        self.stats.offline_dropped = self.offline.dropped

    async def replay(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Sends the held messages in order; on a lost connection the rest waits again."""
        pending = self.offline.take_all()
        self.stats.offline_dropped = self.offline.dropped
        for i, envelope in enumerate(pending):
            try:
                await send(envelope)
            except ConnectionLost:
                self.offline.push_front(pending[i:])
                return
            self.stats.offline_replayed += 1
