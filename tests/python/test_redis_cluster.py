"""A real 3-master Redis Cluster: sharded pub/sub (SSUBSCRIBE / SPUBLISH routed
by slot) carries the messages of three WSE instances, glob patterns travel on
pattern lanes announced through the registry, every subscriber gets each
message exactly once, and a slot that moves to another master is followed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_support import (
    Instance,
    Receiver,
    RedisCluster,
    cmd,
    instances,
    publish_and_check,
    settle,
    subscribed_client,
)
from server_support import wait_for

from wse_server import WSEServer

pytestmark = pytest.mark.redis

TOPICS = ["user:1:events", "user:2:events", "prices:AAPL", "prices:MSFT", "news", "nobody"]
PLAN: list[list[list[str]]] = [
    [["user:1:events"], ["user:1:events", "user:*:events"], ["prices:*", "*:AAPL"]],
    [["news"], ["user:*:events"], ["prices:MSFT", "news"]],
    [["prices:AAPL", "prices:MSFT", "user:2:events"], ["never:published"], ["*"]],
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    c = RedisCluster(Path(tmp_path_factory.mktemp("redis-cluster")))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def all_patterns() -> set[str]:
    return {t for plan in PLAN for topics in plan for t in topics if "*" in t or "?" in t}


def local_topics(plan: list[list[str]]) -> set[str]:
    return {t for topics in plan for t in topics}


async def test_cluster_sharded_pubsub_exactly_once(cluster: RedisCluster) -> None:
    count = 100
    # Each instance is given a different node: the rest of the cluster is discovered.
    insts = [Instance(f"i{n}", node.url()) for n, node in enumerate(cluster.nodes)]
    try:
        receivers = [
            Receiver(inst, topics) for inst, plan in zip(insts, PLAN, strict=True) for topics in plan
        ]
        for r in receivers:
            await r.open()
        patterns = all_patterns()
        for inst, plan in zip(insts, PLAN, strict=True):
            # Its channels and pattern lanes, plus the registry channel; and every fleet pattern known.
            inst.wait(
                "subscriptions and the fleet's patterns",
                lambda h, plan=plan: (
                    h["redis_connected"]
                    and h["redis_subscriptions"] == len(local_topics(plan)) + 1
                    and h["redis_cluster_patterns"] == len(patterns)
                ),
                timeout=15,
            )
        h = insts[0].health()
        assert h["redis_mode"] == "cluster"
        assert h["redis_nodes"] == 3
        assert h["redis_nodes_connected"] == 3

        # Interest-based: the masters hold exactly the channels the instances need, spread by slot.
        wanted = {f"wse:{t}" for plan in PLAN for t in local_topics(plan)} | {"{wse}:patterns"}
        per_node = cluster.shard_channels()
        assert set().union(*per_node) == wanted
        assert sum(1 for chans in per_node if chans) >= 2

        await publish_and_check(insts, receivers, TOPICS, count)
        for inst in insts:
            h = inst.health()
            assert h["redis_messages_published"] == count * len(TOPICS)
            assert h["redis_publish_errors"] == 0
        # Copies of one message arriving through several lanes were recognised.
        assert insts[0].health()["redis_duplicates_suppressed"] > 0
    finally:
        for inst in insts:
            inst.close()


async def test_cluster_follows_a_moved_slot(cluster: RedisCluster) -> None:
    topic = "moving:1"
    channel = f"wse:{topic}"
    with instances(2, cluster.url()) as (a, b):
        r = Receiver(b, [topic])
        await r.open()
        a.wait_connected(subscriptions=1)
        b.wait_connected(subscriptions=2)
        slot = int(cmd(cluster.nodes[0].client(), "CLUSTER", "KEYSLOT", channel))
        ids = {}
        owner = None
        for n in cluster.nodes:
            c = n.client()
            ids[n.port] = cmd(c, "CLUSTER", "MYID").decode()
            if channel.encode() in cmd(c, "PUBSUB", "SHARDCHANNELS"):
                owner = n
        assert owner is not None
        target = next(n for n in cluster.nodes if n is not owner)
        a.call("publish", topics=[topic], count=20)
        cmd(target.client(), "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[owner.port])
        cmd(owner.client(), "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target.port])
        # While the slot migrates, Redis serves sharded channels from the old owner
        # (SPUBLISH is never ASK-redirected): publishes in this window arrive too.
        a.call("publish", topics=[topic], count=20)
        await settle([r], {id(r): 40})
        for n in cluster.nodes:
            cmd(n.client(), "CLUSTER", "SETSLOT", slot, "NODE", ids[target.port])
        # The old owner dropped the subscription (sunsubscribe); the broker follows the slot.
        b.wait(
            "the subscription on the new owner",
            lambda h: h["redis_subscriptions"] == 2 and h["redis_connected"],
            timeout=15,
        )
        for _ in range(100):
            if channel.encode() in cmd(target.client(), "PUBSUB", "SHARDCHANNELS"):
                break
            await asyncio.sleep(0.05)
        assert channel.encode() in cmd(target.client(), "PUBSUB", "SHARDCHANNELS")
        a.call("publish", topics=[topic], count=20)  # a's table is stale: MOVED, then the new owner
        await settle([r], {id(r): 60})
        got = [i for _, _, i in r.got]
        assert got == list(range(60))
        assert a.health()["redis_publish_errors"] == 0
        await r.close()


async def test_cluster_survives_a_master_failover(tmp_path: Path) -> None:
    """A master is killed; its replica takes over the slots; both instances follow the
    new topology by themselves: the subscription is re-homed and publishes reach it."""
    c = RedisCluster(tmp_path / "failover", replicas=1, node_timeout_ms=1000)
    try:
        c.start()
        topic = "failover:1"
        channel = f"wse:{topic}"
        slot = int(cmd(c.nodes[0].client(), "CLUSTER", "KEYSLOT", channel))
        with instances(2, c.url()) as (a, b):
            r = Receiver(b, [topic])
            await r.open()
            b.wait_connected(subscriptions=2)
            a.call("publish", topics=[topic], count=20)
            await settle([r], {id(r): 20})

            victim = next(n for n in c.nodes if n.port == c.owner_port(slot, c.nodes[0]))
            heir = c.replicas[c.nodes.index(victim)]
            witness = next(n for n in c.nodes if n is not victim)
            victim.kill()
            for _ in range(300):  # node timeout 1 s, then the election
                if c.owner_port(slot, witness) == heir.port:
                    break
                await asyncio.sleep(0.05)
            assert c.owner_port(slot, witness) == heir.port, "the replica did not take over"

            for inst in (a, b):
                inst.wait(
                    "the new topology",
                    lambda h: h["redis_connected"] and h["redis_nodes"] == h["redis_nodes_connected"] == 3,
                    timeout=15,  # well before the periodic refresh (30 s): the lost link asked
                )
            for _ in range(200):
                if channel.encode() in cmd(heir.client(), "PUBSUB", "SHARDCHANNELS"):
                    break
                await asyncio.sleep(0.05)
            assert channel.encode() in cmd(heir.client(), "PUBSUB", "SHARDCHANNELS")
            a.call("publish", topics=[topic], count=20)
            await settle([r], {id(r): 40})
            assert [i for _, _, i in r.got] == list(range(40))
            assert a.health()["redis_publish_errors"] == 0
            await r.close()
    finally:
        c.stop()


async def test_cluster_announces_globs_subscribed_before_redis(cluster: RedisCluster) -> None:
    """A glob subscribed before the broker knew it talks to a cluster is announced once it
    does, so publishers on other instances send its pattern-lane copy."""
    slot = int(cmd(cluster.nodes[0].client(), "CLUSTER", "KEYSLOT", "{wse}:patterns"))
    seed = next(n for n in cluster.nodes if n.port == cluster.owner_port(slot, cluster.nodes[0]))
    a = WSEServer("127.0.0.1", 0, io_threads=1, subscription_policy=["*"])
    b = WSEServer("127.0.0.1", 0, io_threads=1)
    a.start()
    b.start()
    try:
        ws = await subscribed_client(a, ["early:*"])
        a.connect_redis(seed.url())  # the registry's own node: no later link comes up for it
        b.connect_redis(cluster.url())
        wait_for(
            lambda: (
                a.redis_connected()
                and b.redis_connected()
                and b.health_snapshot()["redis_cluster_patterns"] == 1
            ),
            timeout=10,
            what="b to learn a's glob",
        )
        b.publish("early:1", "hello")
        assert await asyncio.wait_for(ws.recv(), 5) == "hello"
        await ws.close()
    finally:
        a.stop()
        b.stop()
