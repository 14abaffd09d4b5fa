"""Raw `wse:` channels: payloads without our header, as WSE 1.4 instances and
PubSubBus processes publish them, and the raw_compat mode that speaks that
format (PSUBSCRIBE wse:*, raw payloads). Includes the original engine
(wse-server 1.4.2, a black-box peer) on the same Redis."""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from redis_support import Receiver, RedisServer, assert_exactly_once, instances, pick_port, settle
from websockets.asyncio.client import connect

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
PEER_PYTHON = ROOT / "build" / "peers" / "wse142" / "bin" / "python"


def body(pub: str, topic: str, i: int) -> str:
    return json.dumps({"pub": pub, "topic": topic, "i": i})


async def test_raw_publishes_reach_interest_subscribers_exactly_once(redis_server: RedisServer) -> None:
    client = redis_server.client()
    with instances(1, redis_server.url()) as (inst,):
        overlap = Receiver(inst, ["room:1", "room:*", "r??m:1"])  # three subscriptions match room:1
        plain = Receiver(inst, ["room:*"])
        await overlap.open()
        await plain.open()
        inst.wait_connected(subscriptions=3)
        for i in range(100):
            # What a PubSubBus (or WSE 1.4) does: PUBLISH wse:<topic> <raw JSON>.
            assert client.publish("wse:room:1", body("bus", "room:1", i)) == 3
        published = [("bus", "room:1", i) for i in range(100)]
        await settle([overlap, plain], {id(overlap): 100, id(plain): 100})
        assert_exactly_once(overlap, published)
        assert_exactly_once(plain, published)
        h = inst.health()
        assert h["redis_messages_received"] == 300
        assert h["redis_duplicates_suppressed"] == 200
        await overlap.close()
        await plain.close()


async def test_raw_compat_mode_speaks_the_1_4_wire(redis_server: RedisServer) -> None:
    client = redis_server.client()
    listener = client.pubsub()  # type: ignore[no-untyped-call]
    listener.psubscribe("wse:*")
    assert listener.get_message(timeout=2)["type"] == "psubscribe"
    with instances(2, redis_server.url(), raw_compat=True) as (a, b):
        on_a = Receiver(a, ["c:1", "c:*"])
        on_b = Receiver(b, ["c:1"])
        await on_a.open()
        await on_b.open()
        for inst in (a, b):
            h = inst.wait_connected(subscriptions=1)  # PSUBSCRIBE wse:* only, whatever the clients want
            assert h["redis_mode"] == "compat"
        assert client.pubsub_channels("wse:*") == []
        a.call("publish", topics=["c:1"], count=30)
        published = [(a.name, "c:1", i) for i in range(30)]
        await settle([on_a, on_b], {id(on_a): 30, id(on_b): 30})
        assert_exactly_once(on_a, published)
        assert_exactly_once(on_b, published)
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 5
        while len(seen) < 30 and time.monotonic() < deadline:
            m = listener.get_message(timeout=0.5)
            if m and m["type"] == "pmessage":
                seen.append(m)
        # Raw payloads, byte for byte: what 1.4 subscribers and PubSubBus handlers expect.
        assert [m["data"].decode() for m in seen] == [body(a.name, "c:1", i) for i in range(30)]
        assert {m["channel"] for m in seen} == {b"wse:c:1"}
        await on_a.close()
        await on_b.close()
    listener.close()


PEER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from wse_server._wse_accel import RustWSEServer
    port, url = int(sys.argv[1]), sys.argv[2]
    s = RustWSEServer("127.0.0.1", port, max_connections=100)
    s.enable_drain_mode()
    s.start()
    deadline = time.time() + 10
    while not s.is_running() and time.time() < deadline:
        time.sleep(0.01)
    s.connect_redis(url)
    while not s.redis_connected() and time.time() < deadline:
        time.sleep(0.01)
    print(json.dumps({"ready": s.is_running() and s.redis_connected()}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "subscribe_all":
            n = 0
            end = time.time() + 5
            while n < cmd["count"] and time.time() < end:
                for kind, conn, _ in s.drain_inbound(64, 50):
                    if kind == "connect":
                        s.subscribe_connection(conn, cmd["topics"])
                        n += 1
        elif cmd["op"] == "broadcast":
            for i in range(cmd["count"]):
                s.broadcast(cmd["topic"], json.dumps({"pub": "peer", "topic": cmd["topic"], "i": i}))
        elif cmd["op"] == "stop":
            s.stop()
            print(json.dumps({"ok": True}), flush=True)
            break
        print(json.dumps({"ok": True}), flush=True)
    """
)


async def test_interoperates_with_the_original_engine(redis_server: RedisServer, tmp_path: Path) -> None:
    if not PEER_PYTHON.exists():
        pytest.skip("the original engine peer (build/peers/wse142) is not installed: run `make setup`")
    peer_port = pick_port()
    script = tmp_path / "peer.py"
    script.write_text(PEER_SCRIPT)
    peer = subprocess.Popen(
        [str(PEER_PYTHON), str(script), str(peer_port), redis_server.url()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert peer.stdin is not None
    assert peer.stdout is not None

    def call(op: str, **args: object) -> None:
        assert peer.stdin is not None
        assert peer.stdout is not None
        peer.stdin.write(json.dumps({"op": op, **args}) + "\n")
        peer.stdin.flush()
        assert json.loads(peer.stdout.readline())["ok"]

    try:
        assert json.loads(peer.stdout.readline())["ready"]
        with instances(1, redis_server.url(), raw_compat=True) as (ours,):
            mine = Receiver(ours, ["mix:*"])
            await mine.open()
            ours.wait_connected(subscriptions=1)
            # (The original engine leaves this close handshake unanswered: do not wait the default 10 s.)
            async with connect(f"ws://127.0.0.1:{peer_port}/", close_timeout=0.5) as theirs:
                call("subscribe_all", topics=["mix:*"], count=1)
                # Ours -> the original's subscriber.
                ours.call("publish", topics=["mix:1"], count=20)
                got: list[int] = []
                deadline = time.monotonic() + 10
                while len(got) < 20 and time.monotonic() < deadline:
                    try:
                        frame = await asyncio.wait_for(theirs.recv(), 1)
                    except TimeoutError:
                        continue
                    text = frame.decode() if isinstance(frame, bytes) else frame
                    if '"pub"' in text:
                        got.append(json.loads(text)["i"])
                assert got == list(range(20))
                # The original's broadcast -> our subscriber, exactly once.
                call("broadcast", topic="mix:2", count=20)
                published = [("peer", "mix:2", i) for i in range(20)] + [
                    (ours.name, "mix:1", i) for i in range(20)
                ]
                await settle([mine], {id(mine): 40})
                assert_exactly_once(mine, published)
            await mine.close()
        call("stop")
    finally:
        if peer.poll() is None:
            peer.kill()
        peer.wait(timeout=10)
        peer.stdin.close()
        peer.stdout.close()
