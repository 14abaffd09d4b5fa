"""Tiny timing harness for the utility micro-benchmarks.

Each ``bench_<concern>.py`` module in this folder defines ``cases() -> list[Case]``.
A case pairs our native call with the usual pure-Python way of doing the same
thing; ``run_utils.py`` times both in the same process, one after the other,
and reports microseconds per call and the speedup ratio.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    utility: str  # what is measured, e.g. "JWT HS256 decode"
    ours: Callable[[], object]  # one call of our implementation
    baseline_name: str  # e.g. "PyJWT 2.x"
    baseline: Callable[[], object] | None  # one call of the usual Python way
    target_us: float | None = None  # the per-call target, if any
    note: str = ""


def time_per_call(fn: Callable[[], object], min_time: float = 0.2, repeats: int = 5) -> float:
    """Best-of-`repeats` seconds per call, each repeat running for about `min_time`."""
    # Calibrate the loop count so one repeat takes roughly min_time.
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / 4 or n >= 1 << 24:
            break
        n *= 4
    loops = max(1, int(n * (min_time / max(elapsed, 1e-9))))
    best = float("inf")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            best = min(best, (time.perf_counter() - start) / loops)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best
