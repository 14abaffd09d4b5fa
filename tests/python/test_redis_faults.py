"""Faults with real processes: redis-server killed (SIGKILL) mid-stream and
restarted on the same port, paused (SIGSTOP), restarted repeatedly under load,
and a Redis user that may not publish (the publish breaker opens)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from redis_support import Instance, Receiver, RedisServer, cmd, instances

pytestmark = pytest.mark.redis


def dlq_indices(entries: list[dict[str, str]], topic: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for e in entries:
        assert e["channel"] == f"wse:{topic}"
        out[int(json.loads(e["payload"])["i"])] = e["error"]
    return out


async def test_redis_killed_mid_stream_and_restarted(redis_server: RedisServer) -> None:
    topic = "fault:1"
    with instances(2, redis_server.url()) as (a, b):
        on_a = Receiver(a, [topic])
        on_b = Receiver(b, [topic])
        local = Receiver(a, [topic + ":local"])
        for r in (on_a, on_b, local):
            await r.open()
        a.wait_connected(subscriptions=2)
        b.wait_connected(subscriptions=1)

        a.call("stream_start", topic=topic, period_ms=2)
        await asyncio.sleep(0.5)
        killed_at = time.time()
        redis_server.kill()
        a.wait("the loss to be noticed", lambda h: not h["redis_connected"], timeout=5)
        await asyncio.sleep(1.0)  # publishes keep coming while Redis is down
        restart_at = time.time()
        redis_server.start()  # same port
        ha = a.wait_connected(subscriptions=2, timeout=15)
        hb = b.wait_connected(subscriptions=1, timeout=15)
        b_back_at = time.time()  # b has its subscription again from here on
        await asyncio.sleep(0.5)
        log = a.call("stream_stop")["log"]
        await asyncio.sleep(0.5)
        for r in (on_a, on_b, local):
            await r.close()

        entries = a.call("dlq")["entries"]
        dlq = dlq_indices(entries, topic)
        published = [int(i) for i, _, _ in log]
        sent_while_down = [int(i) for i, t, _ in log if killed_at <= t <= restart_at]
        seen_down = [int(i) for i, _, connected in log if not connected]
        ambiguous = {i for i, err in dlq.items() if "may have been delivered" in err}

        # Local delivery never stopped: every publish_local arrived, in order.
        assert [i for _, _, i in local.got] == published

        got_a = [i for _, _, i in on_a.got]
        got_b = [i for _, _, i in on_b.got]
        for got in (got_a, got_b):
            assert len(got) == len(set(got)), "duplicates"
            assert got == sorted(got), "order"
            assert not (set(got) & set(dlq)) - ambiguous, "both delivered and dead-lettered"
        # The publisher's own subscriber: nothing lost silently.
        assert set(got_a) | set(dlq) == set(published)
        # The other instance: nothing lost before the kill or once its subscription was back
        # (in between, Redis pub/sub itself cannot deliver to a connection that is not subscribed).
        for i, t, _ in log:
            if t < killed_at - 0.05 or t > b_back_at + 0.05:
                assert int(i) in got_b or int(i) in dlq, f"message {i} lost on the other instance"
        # Every publish made while Redis was down went to the dead-letter queue, and the queue
        # holds exactly the messages that were not delivered (plus those in flight at the kill,
        # marked "may have been delivered").
        assert sent_while_down, "the outage was not observed"
        assert seen_down, "the instance never reported the outage"
        assert set(sent_while_down) <= set(dlq)
        assert len(dlq) == len(set(published) - set(got_a)) + len(ambiguous & set(got_a))
        assert all(log[i][1] >= killed_at - 0.5 for i in dlq)
        assert a.health()["redis_publish_errors"] == len(dlq)
        # It reconnected by itself and says so.
        assert ha["redis_connected"]
        assert hb["redis_connected"]
        assert ha["redis_reconnect_count"] >= 1
        assert hb["redis_reconnect_count"] >= 1
        assert "Redis" in ha["redis_last_error"] or "connect" in ha["redis_last_error"]
        # After the restart, publishing works end to end again.
        a.call("publish", topics=[topic], count=1)


async def test_restarts_under_load_never_crash_or_leak(redis_server: RedisServer) -> None:
    topic = "load:1"
    with instances(2, redis_server.url()) as (a, b):
        receivers = [Receiver(a, [topic, "load:*"]), Receiver(b, ["load:*"])]
        for r in receivers:
            await r.open()
        a.wait_connected(subscriptions=2)
        b.wait_connected(subscriptions=1)
        a.call("stream_start", topic=topic, period_ms=0.2)
        b.call("publish", topics=["load:2"], count=2000)
        rss_before = [i.rss_kib() for i in (a, b)]
        for _ in range(4):
            await asyncio.sleep(0.3)
            redis_server.kill()
            b.call("publish", topics=["load:2"], count=2000)  # straight to the dead-letter ring
            await asyncio.sleep(0.2)
            redis_server.start()
            a.wait_connected(subscriptions=2, timeout=20)
            b.wait_connected(subscriptions=1, timeout=20)
        log = a.call("stream_stop")["log"]
        for inst in (a, b):
            inst.wait("the queue to drain", lambda h: h["redis_pending"] == 0, timeout=10)
        await asyncio.sleep(0.3)
        for r in receivers:
            await r.close()
        for inst, before in zip((a, b), rss_before, strict=True):
            assert inst.alive()
            h = inst.health()
            assert h["redis_connected"]
            assert h["redis_dlq_size"] <= 1000  # bounded ring
            assert h["redis_reconnect_count"] >= 4
            # 10k+ publishes and four reconnections later, memory has not grown without bound.
            assert inst.rss_kib() - before < 64 * 1024
        for r in receivers:
            for key in {(p, t) for p, t, _ in r.got}:
                seq = [i for p, t, i in r.got if (p, t) == key]
                assert len(seq) == len(set(seq)), "duplicates"
                assert seq == sorted(seq), "order"
        assert len(log) > 1000


async def test_publish_never_blocks_while_redis_is_frozen(redis_server: RedisServer) -> None:
    with instances(1, redis_server.url()) as (a,):
        r = Receiver(a, ["frozen"])
        await r.open()
        a.wait_connected(subscriptions=1)
        redis_server.pause()  # SIGSTOP: the TCP connection stays up, nothing is answered
        try:
            reply = a.call("publish", topics=["frozen"], count=5000)  # returns: nothing waits for Redis
            assert reply["sent"] == 5000
            assert a.health()["redis_pending"] > 0
        finally:
            redis_server.resume()
        a.wait("the backlog to drain", lambda h: h["redis_pending"] == 0, timeout=20)
        await asyncio.sleep(0.5)
        assert [i for _, _, i in r.got] == list(range(5000))
        await r.close()


def test_publish_retries_then_breaker_opens_when_redis_refuses(redis_server: RedisServer) -> None:
    admin = redis_server.client()
    cmd(admin, "ACL", "SETUSER", "nopub", "on", ">secret", "~*", "&*", "+@all", "-publish")
    with instances(1, redis_server.url(auth="nopub:secret@")) as (a,):
        a.wait_connected()
        # Three publishes, three attempts each (100 ms, then 200 ms apart): nine failures.
        a.call("publish", topics=["denied"], count=3)
        h = a.wait("three dead letters", lambda h: h["redis_publish_errors"] == 3, timeout=10)
        assert h["redis_publish_breaker"] == "closed"
        errors = [e["error"] for e in a.call("dlq")["entries"]]
        assert len(errors) == 3
        assert all("rejected the publish 3 times" in e and "NOPERM" in e for e in errors), errors
        # The tenth consecutive failure opens the breaker: from then on, straight to the DLQ.
        a.call("publish", topics=["denied"], count=1)
        a.wait("the breaker to open", lambda h: h["redis_publish_breaker"] == "open", timeout=10)
        a.call("publish", topics=["denied"], count=4)
        h = a.wait("every publish dead-lettered", lambda h: h["redis_publish_errors"] == 8, timeout=10)
        errors = [e["error"] for e in a.call("dlq")["entries"]]
        assert errors == ["circuit breaker open"] * 5
        assert h["redis_messages_published"] == 0
        assert "NOPERM" in h["redis_last_error"]


def test_instance_keeps_working_without_redis(tmp_path: Path) -> None:
    dead = RedisServer(tmp_path / "never")
    dead.start()
    url = dead.url()
    dead.kill()  # nothing listens there now
    inst = Instance("lonely", url)
    try:
        h = inst.wait("a failed connection attempt", lambda h: h["redis_last_error"] != "", timeout=10)
        assert not h["redis_connected"]
        inst.call("publish", topics=["x"], count=3)
        h = inst.wait("dead letters", lambda h: h["redis_dlq_size"] == 3, timeout=5)
        entries = inst.call("dlq")["entries"]
        assert [e["error"] for e in entries] == ["Redis disconnected"] * 3
        assert inst.call("dlq")["entries"] == []  # drained
        assert inst.health()["redis_dlq_size"] == 0
        inst.call("publish", topics=["y"], count=2, local=True)  # local fan-out is unaffected
    finally:
        inst.close()
