"""Three WSE instances in separate processes on one real redis-server, with real
WebSocket clients spread across them: every message reaches every subscriber
exactly once (publisher-local and multi-pattern subscribers included), in
per-publisher order, and each instance subscribes only to what its clients need."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_support import (
    Receiver,
    RedisServer,
    assert_exactly_once,
    instances,
    publish_and_check,
    settle,
    wants,
)

pytestmark = pytest.mark.redis

TOPICS = ["room:1", "room:2", "news", "other"]
PLAN: list[list[list[str]]] = [
    # instance 0: exact only; exact + glob overlapping; three overlapping globs
    [["room:1"], ["room:1", "room:*"], ["*:1", "room:?", "room:*"]],
    # instance 1
    [["room:2"], ["room:*"], ["news"]],
    # instance 2: several exact; a topic nobody publishes; a glob with '*' inside
    [["room:1", "news", "room:2"], ["nothing:here"], ["r*m:1"]],
]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(Path(tmp_path_factory.mktemp("redis-scaleout"))) as server:
        yield server


def distinct(plan: list[list[str]]) -> set[str]:
    return {t for topics in plan for t in topics}


async def test_three_instances_deliver_exactly_once_everywhere(redis_server: RedisServer) -> None:
    count = 200
    with instances(3, redis_server.url()) as insts:
        receivers = [
            Receiver(inst, topics) for inst, plan in zip(insts, PLAN, strict=True) for topics in plan
        ]
        for r in receivers:
            await r.open()
        for inst, plan in zip(insts, PLAN, strict=True):
            inst.wait_connected(subscriptions=len(distinct(plan)))

        await publish_and_check(insts, receivers, TOPICS, count)

        healths = [i.health() for i in insts]
        for h in healths:
            assert h["redis_mode"] == "standalone"
            assert h["redis_messages_published"] == count * len(TOPICS)
            assert h["redis_publish_errors"] == 0
            assert h["redis_dlq_size"] == 0
        # Interest-based routing: an instance is sent only what its subscriptions match,
        # Redis sending one notification per matching subscription (the broker drops the copies).
        for inst_plan, h in zip(PLAN, healths, strict=True):
            subs = distinct(inst_plan)
            notifications = sum(
                len(insts) * count * sum(1 for s in subs if wants([s], topic)) for topic in TOPICS
            )
            wanted = sum(len(insts) * count for topic in TOPICS if wants(sorted(subs), topic))
            assert h["redis_messages_received"] == notifications
            assert h["redis_messages_delivered"] == wanted
            assert h["redis_duplicates_suppressed"] == notifications - wanted
        # "other" has no subscriber anywhere: nobody was sent it.
        assert healths[0]["redis_duplicates_suppressed"] > 0


async def test_redis_subscriptions_follow_client_interest(redis_server: RedisServer) -> None:
    client = redis_server.client()
    with instances(1, redis_server.url()) as (inst,):
        inst.wait_connected(subscriptions=0)
        assert client.pubsub_channels("wse:*") == []
        first = Receiver(inst, ["solo:1", "solo:*"])
        second = Receiver(inst, ["solo:1"])
        await first.open()
        await second.open()
        inst.wait_connected(subscriptions=2)
        assert client.pubsub_channels("wse:*") == [b"wse:solo:1"]
        assert client.pubsub_numpat() == 1
        await first.close()  # solo:1 still wanted by `second`; solo:* by nobody
        inst.wait_connected(subscriptions=1)
        assert client.pubsub_channels("wse:*") == [b"wse:solo:1"]
        assert client.pubsub_numpat() == 0
        await second.close()
        inst.wait_connected(subscriptions=0)
        assert client.pubsub_channels("wse:*") == []


async def test_publisher_local_subscriber_gets_its_own_message_once(redis_server: RedisServer) -> None:
    with instances(2, redis_server.url()) as (a, b):
        mine = Receiver(a, ["self:*", "self:x"])
        theirs = Receiver(b, ["self:x"])
        await mine.open()
        await theirs.open()
        a.wait_connected(subscriptions=2)
        b.wait_connected(subscriptions=1)
        a.call("publish", topics=["self:x"], count=50)
        published = [(a.name, "self:x", n) for n in range(50)]
        await settle([mine, theirs], {id(mine): 50, id(theirs): 50})
        assert_exactly_once(mine, published)
        assert_exactly_once(theirs, published)
        await mine.close()
        await theirs.close()
