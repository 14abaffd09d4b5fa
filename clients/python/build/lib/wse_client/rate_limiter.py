"""TokenBucketRateLimiter: client-side pacing of outbound messages."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucketRateLimiter:
    """``capacity`` tokens, refilled continuously at ``refill_rate`` per second.

    ``try_acquire`` never blocks; ``wait_time`` says how long until ``n`` tokens
    exist, so async callers sleep exactly that long. ``pause(seconds)`` empties the
    bucket for a while (used when the server sends rate_limit_warning).
    """

    def __init__(
        self, capacity: float = 1000, refill_rate: float = 100, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if capacity < 1 or refill_rate <= 0:
            raise ValueError("TokenBucketRateLimiter: capacity must be >= 1 and refill_rate > 0")
        self.capacity = float(capacity)
        self.refill_rate = float(refill_rate)
        self._clock = clock
        self._tokens = float(capacity)
        self._stamp = clock()
        self._paused_until = 0.0

    def _refill(self) -> float:
        now = self._clock()
        if now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.refill_rate)
            self._stamp = now
        return now

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def try_acquire(self, n: float = 1) -> bool:
        now = self._refill()
        if now < self._paused_until or self._tokens < n - 1e-9:  # float refill rounding
            return False
        self._tokens -= n
        return True

    def wait_time(self, n: float = 1) -> float:
        now = self._refill()
        pause = max(0.0, self._paused_until - now)
        missing = max(0.0, n - self._tokens)
        return max(pause, missing / self.refill_rate)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
