"""CircuitBreaker: stops connect storms against a server that keeps failing.

CLOSED: attempts pass; ``failure_threshold`` consecutive failures open it.
OPEN: attempts are refused for ``reset_timeout`` seconds.
HALF_OPEN: one probe at a time; ``success_threshold`` successes close it, a
failure opens it again. Not thread-safe: one event loop owns it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        success_threshold: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or success_threshold < 1:
            raise ValueError("CircuitBreaker: thresholds must be >= 1")
        if reset_timeout < 0:
            raise ValueError("CircuitBreaker: reset_timeout must be >= 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.success_threshold = success_threshold
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._successes = 0
        self._opened_at = 0.0
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_timeout:
            self._state = BreakerState.HALF_OPEN
            self._successes = 0
        return self._state

    def allow(self) -> bool:
        """May an attempt be made now?"""
        return self.state is not BreakerState.OPEN

    def retry_in(self) -> float:
        """Seconds until the next attempt is allowed (0 when allowed now)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.reset_timeout - (self._clock() - self._opened_at))

    def record_success(self) -> None:
        if self.state is BreakerState.HALF_OPEN:
            self._successes += 1
            if self._successes >= self.success_threshold:
                self._state = BreakerState.CLOSED
        self._failures = 0

    def record_failure(self) -> None:
        state = self.state
        self._failures += 1
        if state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()
            self.times_opened += 1

    def reset(self) -> None:
        self._state = BreakerState.CLOSED
        self._failures = self._successes = 0
