"""Priority queues, token bucket and sequencers vs the usual pure-Python ways."""

from __future__ import annotations

import heapq
import itertools
import time

from harness import Case

import wse_server

PQ = wse_server.PriorityQueue(100_000)
PMQ = wse_server.PriorityMessageQueue(100_000, batch_size=1)
HEAP: list[tuple[int, int, object]] = []
COUNTER = itertools.count()
MSG = {"t": "x"}


def ours_push_pop() -> object:
    PQ.push(5, MSG)
    return PQ.pop()


def heapq_push_pop() -> object:
    heapq.heappush(HEAP, (-5, next(COUNTER), MSG))
    return heapq.heappop(HEAP)[2]


def ours_pmq() -> object:
    PMQ.enqueue(MSG, 8)
    return PMQ.dequeue_batch()


class PyBucket:
    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity, self.rate, self.tokens, self.last = capacity, rate, capacity, time.monotonic()

    def acquire(self, n: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False


BUCKET = wse_server.TokenBucket(1e12, 1e12)
PYBUCKET = PyBucket(1e12, 1e12)
SEQ = wse_server.EventSequencer()
SEQ_COUNTER = itertools.count()


def ours_sequenced() -> object:
    return SEQ.process_sequenced_event("prices", next(SEQ_COUNTER), MSG)


def cases() -> list[Case]:
    return [
        Case("PriorityQueue push+pop", ours_push_pop, "heapq", heapq_push_pop, target_us=0.3),
        Case("PriorityMessageQueue enqueue+dequeue_batch", ours_pmq, "heapq", heapq_push_pop),
        Case(
            "TokenBucket acquire",
            lambda: BUCKET.acquire(1.0),
            "pure Python bucket",
            lambda: PYBUCKET.acquire(1.0),
        ),
        Case("EventSequencer in-order event", ours_sequenced, "-", None),
    ]
