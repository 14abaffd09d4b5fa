"""Backoff delays of a ReconnectConfig."""

from __future__ import annotations

import random

from wse_client.types import ReconnectConfig, ReconnectMode

_FIB_CAP = 30  # fib(30) * any sane base_delay is past every max_delay


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(min(n, _FIB_CAP)):
        a, b = b, a + b
    return a


def backoff_delay(config: ReconnectConfig, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt number ``attempt`` (0-based)."""
    n = max(0, attempt)
    if config.mode is ReconnectMode.LINEAR:
        delay = config.base_delay * (n + 1)
    elif config.mode is ReconnectMode.FIBONACCI:
        delay = config.base_delay * _fib(n + 1)
    else:
        # factor**n overflows a float past ~1700 attempts: cap the exponent.
        delay = config.base_delay * config.factor ** min(n, 64)
    delay = min(delay, config.max_delay)
    if config.jitter and delay > 0:
        delay *= (rng or random).uniform(0.9, 1.1)
    return delay


def attempts_left(config: ReconnectConfig, attempts_made: int) -> bool:
    """-1 means forever; there is no hidden cap."""
    return config.max_attempts == -1 or attempts_made < config.max_attempts
