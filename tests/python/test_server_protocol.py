"""The wire protocol of docs/PROTOCOL.md, spoken by an independent client library
(Python `websockets`) and, for malformed input, by a raw socket."""

from __future__ import annotations

import asyncio
import gc
import json
import struct
import sys
import time
import weakref
import zlib
from typing import Any

import msgpack
import pytest
from server_support import RawClient, drain_until, parse_prefixed, running_server, wait_for
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from wse_server import WSEServer


async def open_client(server: WSEServer, query: str = "") -> tuple[ClientConnection, str, dict[str, Any]]:
    ws = await connect(f"ws://127.0.0.1:{server.port}/wse{query}")
    ready = parse_prefixed(str(await ws.recv()))
    assert ready["t"] == "server_ready"
    conn_id = str(ready["p"]["details"]["connection_id"])
    drain_until(server, lambda e: e[0] == "connect" and e[1] == conn_id)
    return ws, conn_id, ready


async def recv_json(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.recv(), timeout)
    if isinstance(msg, bytes):
        if msg.startswith(b"C:"):
            msg = zlib.decompress(msg[2:]).decode()
        elif msg.startswith(b"M:"):
            return dict(msgpack.unpackb(msg[2:]))
        else:
            msg = msg.decode()
    return parse_prefixed(msg)


async def test_server_ready_first_with_seq_zero() -> None:
    with running_server() as server:
        ws, conn_id, ready = await open_client(server)
        assert ready["seq"] == 0
        assert ready["v"] == 1
        assert ready["p"]["details"]["user_id"] is None
        assert ready["p"]["details"]["max_message_size"] == 1048576
        assert ready["ts"].endswith("Z")
        assert len(ready["id"]) == 36
        assert server.get_connections() == [conn_id]
        await ws.close()


async def test_ping_pong_and_legacy_ping() -> None:
    with running_server() as server:
        ws, _, _ = await open_client(server)
        now = int(time.time() * 1000)
        await ws.send(json.dumps({"t": "ping", "p": {"timestamp": now}}))
        pong = await recv_json(ws)
        assert pong["t"] == "PONG"
        assert pong["p"]["client_timestamp"] == now
        assert pong["p"]["server_timestamp"] >= now
        assert pong["p"]["latency"] >= 0
        await ws.send('WSE{"t":"PING","p":{}}')
        assert (await recv_json(ws))["p"]["client_timestamp"] == 0
        await ws.send("PING:12345")
        assert await ws.recv() == "PONG:12345"
        latency = await ws.ping()
        assert await asyncio.wait_for(latency, 5) >= 0
        # Pings are answered natively, never delivered to the application.
        assert server.drain_inbound(10, 50) == []
        await ws.close()


async def test_inbound_kinds_and_key_normalisation() -> None:
    with running_server() as server:
        ws, conn_id, _ = await open_client(server)
        await ws.send('U{"type":"order","payload":{"qty":3}}')
        await ws.send("just some text")
        await ws.send(b"\x00\x01binary")
        await ws.send("{broken json")
        await ws.send(b"C:" + zlib.compress(b'{"t":"zipped","p":{"n":1}}'))
        events = drain_until(server, lambda e: e[0] == "msg" and e[2].get("t") == "zipped")
        kinds = [(k, d) for k, c, d in events if c == conn_id]
        assert ("msg", {"t": "order", "p": {"qty": 3}}) in kinds
        assert ("raw", "just some text") in kinds
        assert ("bin", b"\x00\x01binary") in kinds
        assert ("raw", "{broken json") in kinds
        await ws.close()
        drain_until(server, lambda e: e[0] == "disconnect" and e[1] == conn_id)


async def test_raw_text_reaches_python_unchanged_ascii_or_not_at_every_length() -> None:
    # ASCII text becomes a str by a plain copy, other text through the decoder:
    # both must give back exactly what the client sent, whatever the length and
    # wherever the first non-ASCII character is.
    texts = ["x" * n for n in (1, 15, 16, 17, 31, 33, 100)]
    texts += ["a" * at + "\u00e9" + "b" * (20 - at) for at in (0, 7, 8, 15, 16, 20)]
    texts += ["\U0001f600 tail", "plain then \u4e2d\u6587", "\x7f\x01 control bytes stay"]
    with running_server() as server:
        ws, conn_id, _ = await open_client(server)
        for text in texts:
            await ws.send(text)
        await ws.send("last")
        events = drain_until(server, lambda e: e[0] == "raw" and e[2] == "last")
        got = [d for k, c, d in events if k == "raw" and c == conn_id]
        assert got == [*texts, "last"]
        assert all(type(c) is str and c == conn_id for k, c, _ in events if k == "raw")
        await ws.close()
        drain_until(server, lambda e: e[0] == "disconnect" and e[1] == conn_id)


def test_connect_data_holds_the_cookie_header_utf8_or_not() -> None:
    # A Cookie header is bytes from the network: UTF-8 comes through as sent, a
    # byte that is not UTF-8 becomes U+FFFD (never an error, never a lost event).
    with running_server() as server:
        for raw, expected in (("note=caf\u00e9", "note=caf\u00e9"), ("bad=\udcff!", "bad=\ufffd!")):
            client = RawClient(server.port, "/wse", headers={"Cookie": raw})
            assert " 101 " in client.status_line
            events = drain_until(server, lambda e: e[0] == "connect")
            assert events[-1][2] == expected
            client.sock.close()


def expected_event_data(text: str) -> Any:
    """What drain_inbound must return for a JSON text: json.loads, then the short keys
    (`type` -> `t`, `payload` -> `p`) where the short one is absent."""
    data = json.loads(text)
    if isinstance(data, dict):
        for short, long in (("t", "type"), ("p", "payload")):
            if short not in data and long in data:
                data[short] = data.pop(long)
    return data


async def test_inbound_json_becomes_the_same_python_values_as_json_loads() -> None:
    texts = [
        '{"t":"order","p":{"qty":3,"tags":["a","b"],"price":1.25,"ok":true,"none":null}}',
        '{"type":"only-long","payload":[1,2,{"deep":{"deeper":[]}}]}',
        '{"t":"short","type":"long","p":1,"payload":2}',  # both present: nothing renamed
        '{"type":"x","t":"later-short"}',  # the short key wins even when it comes second
        '{"t":"dup","n":1,"n":2}',  # the last duplicate wins, as in json.loads
        '{"t":"\\u00e9t\\u00e9 \\ud83d\\ude00 caf\u00e9 \\n\\"q\\"","k":"\\u0000"}',
        '{"t":"ints","big":123456789012345678901234567890,"neg":-9223372036854775808,"u":18446744073709551615}',
        '{"t":"floats","a":1e300,"b":-0.0,"c":3.141592653589793}',
        '{"t":"long-key","a_key_that_is_longer_than_thirty_bytes_for_sure":1}',
        "{}",
    ]
    with running_server() as server:
        ws, conn_id, _ = await open_client(server)
        for text in texts:
            await ws.send(text)
        await ws.send('{"t":"end"}')
        events = drain_until(server, lambda e: e[0] == "msg" and e[2] == {"t": "end"})
        got = [d for k, c, d in events if c == conn_id and k == "msg"][:-1]
        assert got == [expected_event_data(t) for t in texts]
        assert [type(v) for v in got[6].values()] == [str, int, int, int]
        await ws.close()


async def test_inbound_keys_chosen_by_clients_are_not_immortal() -> None:
    # Python 3.12 makes interned strings immortal: a server that interned every
    # key a client sends would grow without bound. Cached key objects must stay
    # ordinary (collectable) strings.
    with running_server() as server:
        ws, _, _ = await open_client(server)
        for i in range(50):
            await ws.send(f'{{"t":"k","unique_key_{i}":1}}')
        events = drain_until(server, lambda e: e[0] == "msg" and "unique_key_49" in e[2])
        keys = [k for _, _, d in events if isinstance(d, dict) for k in d if k.startswith("unique_key_")]
        assert len(keys) == 50
        assert all(sys.getrefcount(k) < 1_000_000 for k in keys)
        await ws.close()


async def test_a_drained_batch_runs_no_cyclic_collection_and_leaves_the_collector_as_it_was() -> None:
    # 3,000 JSON events are 6,000 new tuples and dicts: without a pause the
    # collector (threshold 700) would start several collections inside one call.
    starts: list[bool] = []
    inside = False

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            starts.append(inside)

    with running_server(rate_limit_capacity=100_000.0, rate_limit_refill=100_000.0) as server:
        ws, _, _ = await open_client(server)
        for i in range(3000):
            await ws.send(f'{{"t":"n","i":{i}}}')
        wait_for(lambda: server.inbound_queue_depth() >= 3000, what="3,000 queued events")
        gc.callbacks.append(on_gc)
        old_threshold = gc.get_threshold()
        gc.set_threshold(700, 10, 10)
        try:
            assert gc.isenabled()
            inside = True
            events = server.drain_inbound(4096, 0)
            inside = False
            assert gc.isenabled()
            assert [d["i"] for k, _, d in events if k == "msg"] == list(range(3000))
            assert True not in starts
            # The allocations still count: the collector runs for the application's
            # own cycles between drains, without an explicit gc.collect().
            collected: list[int] = []

            class Node:
                pass

            for i in range(200):
                node = Node()
                node.self = node  # type: ignore[attr-defined]
                weakref.finalize(node, collected.append, i)
                del node
                server.drain_inbound(16, 0)
            assert collected, "no cyclic garbage was collected while draining"
            # An application that turned the collector off keeps it off.
            gc.disable()
            await ws.send('{"t":"n","i":-1}')
            drain_until(server, lambda e: e[0] == "msg" and e[2]["i"] == -1)
            assert not gc.isenabled()
            # A message with an integer wider than 64 bits is parsed by json.loads,
            # Python code that may let other threads run: it runs with the
            # collector on, and its 2,000 new lists start a collection.
            gc.enable()
            starts.clear()
            lists = ",".join(["[]"] * 2000)
            await ws.send(f'{{"t":"n","i":-2,"big":123456789012345678901234567890,"l":[{lists}]}}')
            wait_for(lambda: server.inbound_queue_depth() >= 1, what="the big message")
            inside = True
            events = server.drain_inbound(16, 1000)
            inside = False
            assert [(d["i"], d["big"], len(d["l"])) for _, _, d in events] == [
                (-2, 123456789012345678901234567890, 2000)
            ]
            assert True in starts
            assert gc.isenabled()
        finally:
            gc.enable()
            gc.set_threshold(*old_threshold)
            gc.callbacks.remove(on_gc)
        await ws.close()


async def test_client_hello_gets_server_hello() -> None:
    with running_server() as server:
        ws, conn_id, _ = await open_client(server)
        await ws.send(json.dumps({"t": "client_hello", "p": {"client_version": "9", "protocol_version": 1}}))
        hello = await recv_json(ws)
        assert hello["t"] == "server_hello"
        assert hello["seq"] == 1
        assert hello["p"]["connection_id"] == conn_id
        assert hello["p"]["protocol_version"] == 1
        assert hello["p"]["rate_limit"]["capacity"] == 10000
        drain_until(server, lambda e: e[0] == "msg" and e[2]["t"] == "client_hello")
        await ws.close()


async def test_send_event_envelope_seq_dedup_and_compression() -> None:
    with running_server() as server:
        ws, conn_id, _ = await open_client(server)
        assert server.send_event(conn_id, {"t": "price", "p": {"v": 1}}) > 0
        assert server.send_event(conn_id, {"t": "price_snapshot", "p": {}, "id": "fixed-id"}) > 0
        assert server.send_event(conn_id, {"t": "price_snapshot", "p": {}, "id": "fixed-id"}) == 0  # dedup
        assert server.send_event(conn_id, {"t": "big", "p": {"blob": "x" * 5000}}) > 0
        assert (
            server.send_event(conn_id, {"t": "big", "p": {"blob": "y" * 5000}}, compression_threshold=0) > 0
        )
        raw1 = await ws.recv()
        assert isinstance(raw1, str)
        assert raw1.startswith("U{")
        e1 = parse_prefixed(raw1)
        assert e1["seq"] == 1
        assert e1["v"] == 1
        assert e1["p"] == {"v": 1}
        assert len(e1["id"]) == 36
        raw2 = await ws.recv()
        assert isinstance(raw2, str)
        assert raw2.startswith("S{")
        e2 = parse_prefixed(raw2)
        assert e2["id"] == "fixed-id"
        assert e2["seq"] == 2
        raw3 = await ws.recv()
        assert isinstance(raw3, bytes)
        assert raw3.startswith(b"C:")
        e3 = parse_prefixed(zlib.decompress(raw3[2:]).decode())
        assert e3["seq"] == 3
        assert e3["p"]["blob"] == "x" * 5000
        raw4 = await ws.recv()
        assert isinstance(raw4, str)
        assert parse_prefixed(raw4)["seq"] == 4
        # The same id may go to another connection.
        ws2, conn2, _ = await open_client(server)
        assert server.send_event(conn2, {"t": "price_snapshot", "p": {}, "id": "fixed-id"}) > 0
        assert (await recv_json(ws2))["id"] == "fixed-id"
        await ws.close()
        await ws2.close()


async def test_msgpack_connections() -> None:
    with running_server() as server:
        ws, conn_id, ready = await open_client(server, "?format=msgpack")
        assert ready["p"]["details"]["features"]["msgpack"] is True
        server.send_event(conn_id, {"t": "tick", "p": {"b": b"\x01\x02", "n": 5}})
        raw = await ws.recv()
        assert isinstance(raw, bytes)
        assert raw.startswith(b"M:")
        event = msgpack.unpackb(raw[2:])
        assert event["t"] == "tick"
        assert event["p"] == {"b": b"\x01\x02", "n": 5}
        assert event["seq"] == 1
        await ws.send(b"M:" + msgpack.packb({"t": "up", "p": {"k": [1, 2]}}))
        await ws.send(msgpack.packb({"type": "bare", "payload": {}}))
        events = drain_until(server, lambda e: e[0] == "msg" and e[2].get("t") == "bare")
        assert ("msg", conn_id, {"t": "up", "p": {"k": [1, 2]}}) in events
        assert events[-1][2] == {"t": "bare", "p": {}}
        await ws.close()


async def test_topics_glob_and_once_per_connection() -> None:
    with running_server() as server:
        ws_a, a, _ = await open_client(server)
        ws_b, b, _ = await open_client(server)
        assert server.subscribe_connection(a, ["user:1:events", "user:*:events", "trades"])
        assert server.subscribe_connection(b, ["user:?:events"])
        assert server.get_topic_subscriber_count("user:1:events") == 1
        assert server.get_topic_subscriber_count("user:*:events") == 1
        assert server.get_connection_topics(a) == ["trades", "user:*:events", "user:1:events"]
        server.publish_local("user:1:events", '{"t":"n","p":{"i":1}}')
        server.publish_local("user:22:events", '{"t":"n","p":{"i":2}}')
        server.publish_local("trades", b"\x01binary")
        assert await ws_a.recv() == '{"t":"n","p":{"i":1}}'
        assert await ws_a.recv() == '{"t":"n","p":{"i":2}}'
        assert await ws_a.recv() == b"\x01binary"
        assert await ws_b.recv() == '{"t":"n","p":{"i":1}}'
        # a matched user:1:events twice (exact + pattern) but got it once: the next frame is a marker.
        server.broadcast("marker")
        assert await ws_a.recv() == "marker"
        assert await ws_b.recv() == "marker"
        assert server.unsubscribe_connection(a, ["user:*:events"])
        server.publish_local("user:22:events", "gone?")
        server.broadcast_all("marker2")
        assert await ws_a.recv() == "marker2"
        assert server.unsubscribe_connection(b)
        assert server.get_connection_topics(b) == []
        assert server.get_topic_subscriber_count("user:?:events") == 0
        await ws_a.close()
        wait_for(lambda: server.get_topic_subscriber_count("trades") == 0, what="unsubscribe on disconnect")
        await ws_b.close()


async def test_subscription_policy_lets_clients_subscribe() -> None:
    with running_server(subscription_policy=["prices:*", "chat:room?"]) as server:
        ws, _conn_id, _ = await open_client(server)
        request = {
            "t": "subscription_update",
            "p": {"action": "subscribe", "topics": ["prices:AAPL", "admin", "*"]},
        }
        await ws.send("WSE" + json.dumps(request))
        ack = await recv_json(ws)
        assert ack["t"] == "subscription_update"
        assert ack["p"]["success"] is False
        assert ack["p"]["success_topics"] == ["prices:AAPL"]
        assert [f["topic"] for f in ack["p"]["failed_topics"]] == ["admin", "*"]
        assert ack["p"]["active_subscriptions"] == ["prices:AAPL"]
        assert server.get_topic_subscriber_count("prices:AAPL") == 1
        server.publish_local("prices:AAPL", "p1")
        server.publish_local("admin", "nope")
        assert await ws.recv() == "p1"
        await ws.send(json.dumps({"t": "subscription_update", "p": {"action": "subscribe", "topics": []}}))
        assert (await recv_json(ws))["p"]["code"] == "INVALID_SUBSCRIPTION"
        await ws.send(json.dumps({"t": "subscription_update", "p": {"action": "wipe", "topics": ["x"]}}))
        assert (await recv_json(ws))["p"]["code"] == "INVALID_ACTION"
        await ws.send(
            json.dumps({"t": "subscription", "p": {"action": "unsubscribe", "topics": ["prices:AAPL"]}})
        )
        assert (await recv_json(ws))["p"]["active_subscriptions"] == []
        assert server.get_topic_subscriber_count("prices:AAPL") == 0
        # Handled natively: nothing reached the application.
        assert all(e[0] != "msg" for e in server.drain_inbound(50, 50))
        await ws.close()


async def test_without_policy_subscription_requests_reach_python() -> None:
    with running_server() as server:
        ws, _conn_id, _ = await open_client(server)
        await ws.send(json.dumps({"t": "subscription_update", "p": {"action": "subscribe", "topics": ["x"]}}))
        drain_until(server, lambda e: e[0] == "msg" and e[2]["t"] == "subscription_update")
        assert server.get_topic_subscriber_count("x") == 0
        await ws.close()


async def test_disconnect_with_code() -> None:
    with running_server() as server:
        ws, conn_id, _ = await open_client(server)
        assert server.disconnect(conn_id, 4000, "replaced")
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
        assert info.value.rcvd is not None
        assert info.value.rcvd.code == 4000
        assert info.value.rcvd.reason == "replaced"
        drain_until(server, lambda e: e[0] == "disconnect" and e[1] == conn_id)


async def test_rate_limit_warning() -> None:
    with running_server(rate_limit_capacity=5, rate_limit_refill=1) as server:
        ws, _conn_id, _ = await open_client(server)
        for i in range(20):
            await ws.send(json.dumps({"t": "spam", "p": {"i": i}}))
        warning = await recv_json(ws)
        assert warning["t"] == "rate_limit_warning"
        assert warning["p"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert warning["p"]["capacity"] == 5
        await asyncio.sleep(0.2)
        delivered = [e for e in server.drain_inbound(100, 50) if e[0] == "msg"]
        assert 5 <= len(delivered) <= 6
        assert server.health_snapshot()["rate_limited"] >= 14
        # ping is never rate limited
        await ws.send('{"t":"ping","p":{"timestamp":1}}')
        assert (await recv_json(ws))["t"] == "PONG"
        await ws.close()


def test_protocol_violations_close_with_the_right_code() -> None:
    cases: list[tuple[str, Any, int]] = [
        ("unmasked", lambda c: c.send_frame(1, b"hi", masked=False), 1002),
        ("bad utf-8", lambda c: c.send_frame(1, b"\xc3\x28"), 1007),
        ("rsv bit", lambda c: c.send_frame(1, b"hi", rsv=0x40), 1002),
        ("bad opcode", lambda c: c.send_frame(5, b""), 1002),
        ("too big", lambda c: c.send_frame(2, b"z" * 2048), 1009),
        ("bad close code", lambda c: c.send_frame(8, struct.pack(">H", 999)), 1002),
    ]
    with running_server(max_message_size=1024) as server:
        for name, action, expected in cases:
            client = RawClient(server.port)
            client.recv_frame()  # server_ready
            action(client)
            code, _ = client.recv_until_close()
            assert code == expected, name
            client.close()
        assert server.health_snapshot()["protocol_errors"] >= 5


def test_fragmentation_and_control_frames_between_fragments() -> None:
    with running_server() as server:
        client = RawClient(server.port)
        client.recv_frame()
        client.send_frame(1, b'{"t":"frag",', fin=False)
        client.send_frame(9, b"ping-in-between")
        client.send_frame(0, b'"p":{"x":', fin=False)
        client.send_frame(0, b"1}}")
        op, payload = client.recv_frame()
        assert (op, payload) == (10, b"ping-in-between")
        events = drain_until(server, lambda e: e[0] == "msg")
        assert events[-1][2] == {"t": "frag", "p": {"x": 1}}
        client.send_frame(8, struct.pack(">H", 1000) + b"bye")
        code, _ = client.recv_until_close()
        assert code == 1000
        client.close()


def test_inflate_bomb_closes_with_1009() -> None:
    with running_server(max_message_size=64 * 1024) as server:
        client = RawClient(server.port)
        client.recv_frame()
        bomb = zlib.compress(b"{" + b" " * (10 * 1024 * 1024) + b"}", 9)
        assert len(bomb) < 64 * 1024
        client.send_frame(2, b"C:" + bomb)
        code, _ = client.recv_until_close()
        assert code == 1009
        client.close()


def test_idle_timeout_and_heartbeat() -> None:
    with running_server(heartbeat_interval=0.2, idle_timeout=0.8) as server:
        client = RawClient(server.port)
        client.recv_frame()
        op, _ = client.recv_frame(timeout=3)
        assert op == 9  # server heartbeat ping
        code, _ = client.recv_until_close(timeout=5)
        assert code == 1001
        assert server.health_snapshot()["idle_closed"] == 1
        client.close()


def test_slow_consumer_is_closed_with_1013() -> None:
    with running_server(max_outbound_bytes=64 * 1024) as server:
        client = RawClient(server.port)
        client.recv_frame()
        conn_id = drain_until(server, lambda e: e[0] == "connect")[-1][1]
        server.subscribe_connection(conn_id, ["flood"])
        client.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
        blob = "x" * 16384
        for _ in range(2000):  # ~32 MiB towards a client that never reads
            server.publish_local("flood", blob)
            if server.health_snapshot()["slow_consumer_closed"]:
                break
        wait_for(lambda: server.health_snapshot()["slow_consumer_closed"] == 1, what="slow consumer close")
        wait_for(lambda: server.get_connection_count() == 0, what="slow consumer gone")
        drain_until(server, lambda e: e[0] == "disconnect")
        client.close()


def test_slow_consumer_drop_policy_keeps_connection() -> None:
    with running_server(max_outbound_bytes=64 * 1024, slow_consumer="drop") as server:
        client = RawClient(server.port)
        client.recv_frame()
        conn_id = drain_until(server, lambda e: e[0] == "connect")[-1][1]
        server.subscribe_connection(conn_id, ["flood"])
        blob = "x" * 16384
        for _ in range(2000):
            server.publish_local("flood", blob)
        wait_for(lambda: server.health_snapshot()["slow_consumer_dropped"] > 0, what="drops")
        assert server.get_connection_count() == 1
        client.close()


async def test_many_messages_in_order() -> None:
    with running_server() as server:
        ws, conn_id, _ = await open_client(server)
        server.subscribe_connection(conn_id, ["seq"])
        for i in range(5000):
            server.publish_local("seq", f'{{"seq":{i}}}')
        for i in range(5000):
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["seq"] == i
        await ws.close()


async def test_publish_many_delivers_each_message_once_in_order() -> None:
    with running_server(io_threads=2) as server:  # subscribers on both I/O threads
        ws_a, a, _ = await open_client(server)
        ws_b, b, _ = await open_client(server)
        server.subscribe_connection(a, ["room:1", "room:*"])  # two matches: still one copy each
        server.subscribe_connection(b, ["room:?"])
        before = int(server.health_snapshot()["deliveries"])
        # ~200 KB: more than one 64 KiB shared buffer, text and binary mixed.
        burst: list[str | bytes | bytearray | memoryview] = [
            f'{{"seq":{i},"pad":"{"x" * 90}"}}' for i in range(2000)
        ]
        burst += [b"\x00bin", bytearray(b"\x01array"), memoryview(b"\x02view")]
        assert server.publish_many("room:1", burst) == 2003
        assert server.publish_many("room:1", []) == 0
        for ws in (ws_a, ws_b):
            got = [await asyncio.wait_for(ws.recv(), 5) for _ in range(2003)]
            assert [json.loads(m)["seq"] for m in got[:2000]] == list(range(2000))
            assert got[2000:] == [b"\x00bin", b"\x01array", b"\x02view"]

        def delivered() -> int:
            return int(server.health_snapshot()["deliveries"]) - before

        wait_for(lambda: delivered() == 2 * 2003, what="deliveries counted")
        # An invalid item anywhere: a TypeError naming it, and nothing published.
        with pytest.raises(TypeError, match="item 1 must be str or bytes"):
            server.publish_many("room:1", ["never", 5])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="not a single str"):
            server.publish_many("room:1", "abc")
        with pytest.raises(TypeError, match="publish_many"):
            server.publish_many("room:1", None)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="non-empty"):
            server.publish_many("", ["x"])
        server.publish_local("room:1", "marker")
        for ws in (ws_a, ws_b):
            assert await asyncio.wait_for(ws.recv(), 5) == "marker"
        await ws_a.close()
        await ws_b.close()
    with pytest.raises(RuntimeError, match="not running"):
        server.publish_many("room:1", ["x"])
