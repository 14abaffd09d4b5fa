"""WSEServer's Python API: lifecycle, argument checking, the HTTP side of the port."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from server_support import RawClient, drain_until, http_get, running_server, wait_for
from websockets.asyncio.client import ClientConnection, connect

import wse_server
from wse_server import WSEServer
from wse_server._wse_accel import RustWSEServer


def test_seed_names_are_aliases() -> None:
    assert RustWSEServer is WSEServer
    assert wse_server.RustWSEServer is WSEServer
    assert "WSEServer" in wse_server.__all__
    assert "RustWSEServer" in wse_server.__all__


def test_seed_constructor_signature_runs_unchanged() -> None:
    server = WSEServer(
        "127.0.0.1",
        0,
        max_connections=10000,
        jwt_secret=b"your-secret-key",
        jwt_issuer="your-app",
        jwt_audience="your-api",
    )
    assert not server.is_running()
    assert server.port == 0


def test_calls_before_start_are_clear() -> None:
    server = WSEServer("127.0.0.1", 0)
    assert server.get_connection_count() == 0
    assert server.get_connections() == []
    assert server.inbound_queue_depth() == 0
    assert server.inbound_dropped_count() == 0
    assert server.drain_inbound(10, 0) == []
    assert server.health_snapshot()["running"] is False
    with pytest.raises(RuntimeError, match="not running"):
        server.send("x", "hi")
    with pytest.raises(RuntimeError, match="not running"):
        server.publish_local("t", "hi")
    with pytest.raises(RuntimeError, match="not running"):
        server.subscribe_connection("x", ["t"])
    server.stop()  # harmless


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_connections": 0}, "max_connections"),
        ({"max_message_size": 10}, "max_message_size"),
        ({"slow_consumer": "explode"}, "slow_consumer"),
        ({"heartbeat_interval": -1.0}, "heartbeat_interval"),
        ({"compression_level": 12}, "compression_level"),
        ({"jwt_secret": b""}, "jwt_secret"),
        ({"rate_limit_refill": -5.0}, "rate_limit_refill"),
    ],
)
def test_bad_options_raise_value_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WSEServer("127.0.0.1", 0, **kwargs)  # type: ignore[arg-type]


def test_bad_argument_types() -> None:
    with pytest.raises(TypeError):
        WSEServer("127.0.0.1", 0, jwt_secret=123)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="port"):
        WSEServer("127.0.0.1", 70000)
    with running_server() as server:
        with pytest.raises(TypeError, match="list of str"):
            server.subscribe_connection("c", "single-topic")
        with pytest.raises(TypeError):
            server.subscribe_connection("c", [1])  # type: ignore[list-item]
        with pytest.raises(TypeError):
            server.send("c", b"bytes are not text")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            server.send_event("c", ["not", "a", "dict"])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="'t'"):
            server.send_event("c", {"p": 1})
        with pytest.raises(ValueError, match="max_count"):
            server.drain_inbound(0, 0)
        with pytest.raises(ValueError, match="close code"):
            server.disconnect("c", 999)


def test_unknown_connection_results() -> None:
    with running_server() as server:
        assert server.send("nope", "x") is False
        assert server.send_bytes("nope", b"x") is False
        assert server.send_event("nope", {"t": "x"}) == 0
        assert server.subscribe_connection("nope", ["a"]) is False
        assert server.unsubscribe_connection("nope") is False
        assert server.disconnect("nope") is False
        assert server.get_connection_topics("nope") == []


def test_start_twice_and_port_in_use() -> None:
    with running_server() as server:
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
        other = WSEServer("127.0.0.1", server.port)
        with pytest.raises(RuntimeError, match="cannot listen"):
            other.start()
        assert not other.is_running()


def test_stop_and_restart() -> None:
    server = WSEServer("127.0.0.1", 0, io_threads=1)
    server.start()
    port = server.port
    client = RawClient(port)
    assert client.status_line.startswith("HTTP/1.1 101")
    drain_until(server, lambda e: e[0] == "connect")
    server.stop()
    code, _ = client.recv_until_close()
    assert code == 1012
    client.close()
    assert not server.is_running()
    events = server.drain_inbound(10, 0)
    assert [e[0] for e in events] == ["disconnect"]
    server.start()
    try:
        assert server.is_running()
        again = RawClient(server.port)
        assert again.status_line.startswith("HTTP/1.1 101")
        again.close()
    finally:
        server.stop()


def test_health_and_metrics_endpoints() -> None:
    with running_server() as server:
        client = RawClient(server.port)
        drain_until(server, lambda e: e[0] == "connect")
        status, body = http_get(server.port, "/health")
        assert status == 200
        health = json.loads(body)
        assert health["status"] == "ok"
        assert health["connections"] == 1
        status, body = http_get(server.port, "/metrics")
        assert status == 200
        assert "# TYPE wse_connections gauge" in body
        assert "wse_connections 1" in body
        status, _ = http_get(server.port, "/elsewhere")
        assert status == 404
        client.close()


def test_handshake_errors_are_http_statuses() -> None:
    with running_server() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
            )
            reply = s.recv(4096)
        assert reply.startswith(b"HTTP/1.1 426")
        assert b"Sec-WebSocket-Version: 13" in reply
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01 garbage that is not http\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 400")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nX: " + b"a" * 9000)
            assert s.recv(4096).startswith(b"HTTP/1.1 431")
        assert server.health_snapshot()["handshakes_rejected"] >= 3


def test_max_connections_answers_503() -> None:
    with running_server(max_connections=2) as server:
        a, b = RawClient(server.port), RawClient(server.port)
        assert a.status_line.startswith("HTTP/1.1 101")
        assert b.status_line.startswith("HTTP/1.1 101")
        c = RawClient(server.port)
        assert c.status_line.startswith("HTTP/1.1 503")
        a.close()
        wait_for(lambda: server.get_connection_count() == 1, what="slot release")
        d = RawClient(server.port)
        assert d.status_line.startswith("HTTP/1.1 101")
        for x in (b, c, d):
            x.close()


def test_allowed_origins() -> None:
    with running_server(allowed_origins=["https://app.example"]) as server:
        ok = RawClient(server.port, headers={"Origin": "https://app.example"})
        assert ok.status_line.startswith("HTTP/1.1 101")
        bad = RawClient(server.port, headers={"Origin": "https://evil.example"})
        assert bad.status_line.startswith("HTTP/1.1 403")
        ok.close()
        bad.close()


def test_callbacks_mode() -> None:
    got: list[tuple[str, object]] = []
    server = WSEServer("127.0.0.1", 0, io_threads=1)
    server.set_callbacks(
        lambda cid, info: got.append(("connect", info)),
        lambda cid, data: got.append(("msg", data)),
        lambda cid: got.append(("disconnect", None)),
    )
    with pytest.raises(TypeError, match="callable"):
        server.set_callbacks(1, 2, 3)  # type: ignore[arg-type]
    server.start()
    try:
        client = RawClient(server.port)
        client.recv_frame()  # server_ready
        client.send_frame(1, b'{"t":"hello","p":{"n":1}}')
        wait_for(lambda: ("msg", {"t": "hello", "p": {"n": 1}}) in got, what="on_message")
        client.close()
        wait_for(lambda: ("disconnect", None) in got, what="on_disconnect")
        assert got[0][0] == "connect"
    finally:
        server.stop()


async def test_send_many_queues_each_pair_in_order() -> None:
    with running_server(io_threads=2) as server:  # connections on both I/O threads
        clients = [await connect(f"ws://127.0.0.1:{server.port}/") for _ in range(4)]
        for c in clients:
            await c.recv()  # server_ready
        wait_for(lambda: server.get_connection_count() == 4, what="four connections")
        ids = server.get_connections()
        batch: list[tuple[str, str | bytes]] = []
        for n in range(50):
            for conn_id in ids:
                batch.append((conn_id, f"{conn_id}:{n}"))
        batch.append((ids[0], b"\x00binary"))
        batch.append(("unknown-connection", "dropped"))
        assert server.send_many(batch) == 201
        assert server.send_many([]) == 0
        owner: dict[str, ClientConnection] = {}  # conn_id -> its client
        for c in clients:
            got = [await asyncio.wait_for(c.recv(), 5) for _ in range(50)]
            conn_id = str(got[0]).split(":")[0]
            owner[conn_id] = c
            assert got == [f"{conn_id}:{n}" for n in range(50)]  # each connection's frames in list order
        assert sorted(owner) == sorted(ids)
        assert await asyncio.wait_for(owner[ids[0]].recv(), 5) == b"\x00binary"
        # A run for one connection (the same conn_id object, as drain_inbound() gives it)
        # leaves as one buffer: still every message, in order, text and binary alike.
        run: list[tuple[str, str | bytes | bytearray]] = [(ids[1], f"run:{n}") for n in range(10)]
        run += [(ids[1], b"bin"), (ids[1], bytearray(b"array")), (ids[1], "last"), (ids[2], "other")]
        assert server.send_many(run) == 14
        got = [await asyncio.wait_for(owner[ids[1]].recv(), 5) for _ in range(13)]
        assert got == [f"run:{n}" for n in range(10)] + [b"bin", b"array", "last"]
        assert await asyncio.wait_for(owner[ids[2]].recv(), 5) == "other"
        # An invalid item anywhere: a TypeError and nothing sent.
        with pytest.raises(TypeError):
            server.send_many([(ids[3], "never"), (ids[3], 1.5)])  # type: ignore[list-item]
        assert server.send_many([(ids[3], "after the error")]) == 1
        assert await asyncio.wait_for(owner[ids[3]].recv(), 5) == "after the error"
        with pytest.raises(TypeError, match="item 1 must be a"):
            server.send_many([(ids[0], "ok"), (ids[0],)])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="data must be str or bytes"):
            server.send_many([(ids[0], 5)])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="conn_id"):
            server.send_many([(1, "x")])  # type: ignore[list-item]
        with pytest.raises(TypeError):
            server.send_many(None)  # type: ignore[arg-type]
        for c in clients:
            await c.close()
    with pytest.raises(RuntimeError, match="not running"):
        server.send_many([("x", "y")])
