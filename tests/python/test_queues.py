"""PriorityQueue, PriorityMessageQueue, TokenBucket: seed snippets and behaviour."""

from __future__ import annotations

import heapq
import random
import threading
import time

import pytest

from wse_server import (
    PriorityMessageQueue,
    PriorityQueue,
    RustPriorityMessageQueue,
    RustPriorityQueue,
    RustTokenBucket,
    TokenBucket,
)


def test_seed_priority_queue_snippet() -> None:
    q = RustPriorityQueue(max_size=500)
    assert q.push(priority=10, message={"action": "alert"}) is True  # returns True
    q.push(priority=5, message={"action": "update"})
    msg = q.pop()  # returns {"action": "alert"} (priority 10 first)
    assert msg == {"action": "alert"}
    batch = q.drain(50)  # up to 50 messages in priority order
    assert batch == [{"action": "update"}]
    assert q.len() == 0  # current size
    assert q.is_full() is False  # True if at capacity
    q.clear()  # empty the queue


def test_priority_queue_matches_heapq_order() -> None:
    q = PriorityQueue(10_000)
    ref: list[tuple[int, int, int]] = []
    rng = random.Random(7)
    for i in range(5000):
        p = rng.randint(0, 20)
        assert q.push(p, i)
        heapq.heappush(ref, (-p, i, i))  # higher priority first, FIFO among equals
    assert q.drain(10_000) == [heapq.heappop(ref)[2] for _ in range(5000)]
    assert q.pop() is None


def test_priority_queue_capacity_and_errors() -> None:
    q = PriorityQueue(2)
    assert q.push(1, "a")
    assert q.push(1, "b")
    assert q.is_full()
    assert not q.push(9, "c")
    assert len(q) == 2
    with pytest.raises(ValueError, match="max_size"):
        PriorityQueue(0)
    with pytest.raises(TypeError):
        q.push("high", "x")  # type: ignore[arg-type]


def test_seed_priority_message_queue_snippet() -> None:
    q = RustPriorityMessageQueue(max_size=1000, batch_size=10)
    assert q.enqueue({"trade": "AAPL"}, priority=8) is True  # returns True if accepted
    q.enqueue({"heartbeat": True}, priority=1)  # BACKGROUND priority
    batch = q.dequeue_batch()  # list of (priority, message) tuples
    assert batch == [(8, {"trade": "AAPL"}), (1, {"heartbeat": True})]
    assert q.size == 0  # current message count (property)
    stats = q.get_stats()  # detailed statistics dict
    q.clear()  # empty all queues and reset stats
    assert set(stats) == {
        "size",
        "capacity",
        "utilization_percent",
        "priority_distribution",
        "priority_queue_depths",
        "dropped_by_priority",
        "total_dropped",
        "backpressure",
        "oldest_message_age",
        "processing_rate",
    }


def test_priority_snapping_and_batches() -> None:
    q = PriorityMessageQueue(max_size=100, batch_size=3)
    for p, expect in [(9, 10), (7, 8), (6, 5), (4, 5), (2, 3), (0, 1), (50, 10), (-3, 1)]:
        q.enqueue(p, priority=p)
        assert q.dequeue_batch() == [(expect, p)]
    for i in range(5):
        q.enqueue(f"n{i}")
    q.enqueue("crit", priority=10)
    assert q.dequeue_batch() == [(10, "crit"), (5, "n0"), (5, "n1")]
    assert q.dequeue_batch() == [(5, "n2"), (5, "n3"), (5, "n4")]
    assert q.dequeue_batch() == []


def test_smart_dropping_and_stats() -> None:
    q = PriorityMessageQueue(max_size=4, batch_size=10)
    q.enqueue("bg", priority=1)
    q.enqueue("low", priority=3)
    q.enqueue("high", priority=8)
    q.enqueue("crit", priority=10)
    time.sleep(0.01)
    assert q.enqueue("normal", priority=5)  # evicts BACKGROUND
    assert q.enqueue("normal2", priority=5)  # evicts LOW
    assert q.enqueue("bg2", priority=1)  # evicts the oldest NORMAL (the lowest level queued)
    assert q.enqueue("high2", priority=8)  # evicts bg2: BACKGROUND goes first
    stats = q.get_stats()
    assert stats["dropped_by_priority"] == {10: 0, 8: 0, 5: 1, 3: 1, 1: 2}
    assert stats["total_dropped"] == 4
    assert stats["size"] == 4
    assert stats["capacity"] == 4
    assert stats["utilization_percent"] == 100.0
    assert stats["backpressure"] is True
    assert stats["priority_distribution"] == {10: 1, 8: 2, 5: 1, 3: 0, 1: 0}
    assert stats["priority_queue_depths"]["priority_8_depth"] == 2
    assert stats["oldest_message_age"] >= 0.01
    types = {"size": int, "capacity": int, "utilization_percent": float, "total_dropped": int,
             "backpressure": bool, "oldest_message_age": float, "processing_rate": float}  # fmt: skip
    for key, kind in types.items():
        assert type(stats[key]) is kind, key
    assert stats["processing_rate"] == 0.0  # reserved by the seed
    assert all(type(k) is int and type(v) is int for k, v in stats["priority_distribution"].items())
    assert set(stats["priority_queue_depths"]) == {f"priority_{p}_depth" for p in (10, 8, 5, 3, 1)}
    assert q.enqueue("high3", priority=8)  # evicts the last NORMAL
    assert not q.enqueue("high4", priority=8)  # only HIGH and CRITICAL left: refused
    assert not q.enqueue("crit2", priority=10)  # even CRITICAL never evicts HIGH
    assert q.get_stats()["dropped_by_priority"] == {10: 1, 8: 1, 5: 2, 3: 1, 1: 2}
    assert [m for _, m in q.dequeue_batch()] == ["crit", "high", "high2", "high3"]
    q.clear()
    assert q.get_stats()["total_dropped"] == 0
    assert q.get_stats()["dropped_by_priority"] == {10: 0, 8: 0, 5: 0, 3: 0, 1: 0}
    assert q.get_stats()["oldest_message_age"] is None


def test_dropping_order_background_low_normal() -> None:
    """Full queue: BACKGROUND is evicted first, then LOW, then NORMAL, oldest first in a level."""
    q = PriorityMessageQueue(max_size=6, batch_size=10)
    for name, prio in [("n1", 5), ("l1", 3), ("b1", 1), ("n2", 5), ("l2", 3), ("b2", 1)]:
        assert q.enqueue(name, priority=prio)
    for i in range(6):
        assert q.enqueue(f"h{i}", priority=8)
    # Evicted in order b1, b2, l1, l2, n1, n2: only the HIGH arrivals remain.
    assert q.get_stats()["dropped_by_priority"] == {10: 0, 8: 0, 5: 2, 3: 2, 1: 2}
    assert [m for _, m in q.dequeue_batch()] == [f"h{i}" for i in range(6)]
    q2 = PriorityMessageQueue(max_size=2)
    q2.enqueue("n", priority=5)
    q2.enqueue("b", priority=1)
    assert q2.enqueue("b-new", priority=1)  # evicts the older BACKGROUND
    assert q2.enqueue("l", priority=3)  # evicts b-new
    assert q2.dequeue_batch() == [(5, "n"), (3, "l")]


def test_seed_token_bucket_snippet() -> None:
    # 100 requests per second, start full
    bucket = RustTokenBucket(capacity=100.0, refill_rate=100.0)
    accepted = sum(1 for _ in range(150) if bucket.acquire(1.0))
    assert 100 <= accepted <= 102
    assert bucket.tokens < 2  # current token count after refill (property)
    bucket.reset()  # refill to capacity
    assert bucket.tokens == pytest.approx(100.0, abs=0.5)


def test_token_bucket_refill_and_validation() -> None:
    b = TokenBucket(capacity=10, refill_rate=1000, initial_tokens=0)
    assert not b.acquire(1)
    time.sleep(0.02)  # ~20 tokens of refill, capped at 10
    assert b.tokens == pytest.approx(10, abs=0.01)
    assert b.acquire(10)
    assert not b.acquire(5)
    slow = TokenBucket(capacity=5, refill_rate=0)
    assert all(slow.acquire() for _ in range(5))
    assert not slow.acquire()
    for bad in ({"capacity": 0, "refill_rate": 1}, {"capacity": 1, "refill_rate": -1},
                {"capacity": 1, "refill_rate": 1, "initial_tokens": 2}):  # fmt: skip
        with pytest.raises(ValueError, match=r"capacity|refill_rate|initial_tokens"):
            TokenBucket(**bad)
    with pytest.raises(ValueError, match="tokens"):
        b.acquire(-1)


def test_thread_safety_smoke() -> None:
    q = PriorityQueue(100_000)
    bucket = TokenBucket(capacity=1e9, refill_rate=0)

    def worker(base: int) -> None:
        for i in range(5000):
            q.push(i % 7, base + i)
            bucket.acquire(1)

    threads = [threading.Thread(target=worker, args=(k * 10_000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert q.len() == 20_000
    assert len(set(q.drain(20_000))) == 20_000
    assert bucket.tokens == pytest.approx(1e9 - 20_000)
