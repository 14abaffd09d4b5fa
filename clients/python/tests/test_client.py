"""The async client against our standalone server, in-process (real sockets, the
test application on a thread)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import pytest
from conftest import SECRET, InProcess, free_port, in_process, make_token

from wse_client import (
    AsyncWSEClient,
    CircuitBreaker,
    ConnectionState,
    LoadBalancingStrategy,
    OverflowPolicy,
    ReconnectConfig,
    SyncWSEClient,
    WSEAuthError,
    WSEConnectionError,
    WSEEvent,
    WSETimeoutError,
    connect,
)

FAST = ReconnectConfig(base_delay=0.05, max_delay=0.2, jitter=False)


def app_messages(env: InProcess, msg_type: str) -> list[dict[str, Any]]:
    with env.app.lock:
        return [
            d for k, _, d in env.app.received if k == "msg" and isinstance(d, dict) and d.get("t") == msg_type
        ]


async def until(predicate: Any, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_connect_handshake_and_properties(ours: InProcess) -> None:
    async with connect(ours.url, token=make_token("alice")) as client:
        assert client.is_connected
        assert client.state is ConnectionState.CONNECTED
        # The server registers the connection just after writing server_ready.
        await until(lambda: client.connection_id in ours.server.get_connections(), what="registration")
        assert client.server_details["user_id"] == "alice"
        await until(lambda: bool(app_messages(ours, "client_hello")), what="client_hello")
        hello = app_messages(ours, "client_hello")[0]
        assert hello["p"]["connection_id"] == client.connection_id
        assert hello["p"]["protocol_version"] == 1
    assert client.state.value == "disconnected"
    await until(lambda: not ours.server.get_connections(), what="server-side close")


async def test_awaitable_connect_and_bad_urls(ours: InProcess) -> None:
    client = await connect(ours.url, token=make_token())
    assert client.is_connected
    await client.close()
    with pytest.raises(ValueError, match="ws://"):
        AsyncWSEClient("http://127.0.0.1:1/", token="x")
    with pytest.raises(ValueError, match="url"):
        AsyncWSEClient()


async def test_auth_failure_raises_and_is_not_retried(ours: InProcess) -> None:
    client = AsyncWSEClient(
        ours.url, token=make_token(secret="wrong-secret-wrong-secret-wrong!"), reconnect=FAST
    )
    with pytest.raises(WSEAuthError) as info:
        await client.connect()
    assert info.value.code == "AUTH_FAILED"
    assert client.state is ConnectionState.ERROR
    with pytest.raises(WSEAuthError, match="AUTH_REQUIRED"):
        await AsyncWSEClient(ours.url).connect()
    await asyncio.sleep(0.2)
    assert ours.server.health_snapshot()["auth_failures"] == 2  # no retry behind our back


async def test_http_401_mode_raises_auth_error() -> None:
    with in_process(auth_reject_http=True) as env, pytest.raises(WSEAuthError, match="HTTP 401"):
        await AsyncWSEClient(env.url, token="garbage").connect()


async def test_subscribe_and_receive_then_unsubscribe(ours: InProcess) -> None:
    async with connect(ours.url, token=make_token()) as client:
        assert await client.subscribe(["news", "sport"])
        assert client.subscribed_topics == ["news", "sport"]
        assert sorted(ours.server.get_connection_topics(str(client.connection_id))) == ["news", "sport"]
        ours.server.publish_local("news", 'U{"t":"headline","p":{"title":"hi"}}')
        event = await client.recv(timeout=5)
        assert (event.type, event.payload, event.category) == ("headline", {"title": "hi"}, "U")
        assert await client.unsubscribe("sport")
        assert ours.server.get_connection_topics(str(client.connection_id)) == ["news"]
        with pytest.raises(WSETimeoutError):
            await client.recv(timeout=0.05)


async def test_thousand_messages_in_order_with_ids_and_sequences(ours: InProcess) -> None:
    async with connect(ours.url, token=make_token()) as client:
        await client.subscribe("bulk")
        await client.send("publish", {"topic": "bulk", "count": 1000})
        got = []
        async for event in client:
            got.append(event)
            if len(got) == 1000:
                break
    assert [e.payload["n"] for e in got] == list(range(1000))
    assert [e.sequence for e in got] == list(range(1000))
    assert {e.topic for e in got} == {"bulk"}
    assert len({e.id for e in got}) == 1000
    assert client.stats.gaps == 0


async def test_request_reply_batch_and_callbacks(ours: InProcess) -> None:
    client = AsyncWSEClient(ours.url, token=make_token())
    typed: list[WSEEvent] = []
    seen: list[str] = []
    done = asyncio.Event()

    @client.on("batch_ack")
    async def on_batch(event: WSEEvent) -> None:
        typed.append(event)
        done.set()

    client.on_any(lambda e: seen.append(e.type))
    async with client:
        reply = await client.request("echo", {"q": 42}, timeout=5)
        assert reply.type == "echo_reply"
        assert reply.payload == {"q": 42}
        assert reply.correlation_id is not None
        assert await client.send_batch([("a", {"x": 1}), ("b", {"y": 2})])
        await asyncio.wait_for(done.wait(), 5)
        assert typed[0].payload == {"count": 2, "types": ["a", "b"]}
        assert "batch_ack" in seen
        assert "echo_reply" not in seen  # a reply goes to its request only
        with pytest.raises(WSETimeoutError):
            await client.request("nobody_answers", {}, timeout=0.2)


async def test_server_compression_is_inflated(ours: InProcess) -> None:
    async with connect(ours.url, token=make_token()) as client:
        await client.send("big", {"size": 20000})
        event = await client.recv(timeout=5)
        assert event.type == "big_reply"
        assert len(event.payload["data"]) == 20000
        assert ours.server.health_snapshot()["bytes_sent"] < 10000  # it travelled as C: + zlib
        compressed = AsyncWSEClient(ours.url, token=make_token(), compress_outbound=True)
        async with compressed:
            reply = await compressed.request("echo", {"blob": "abc" * 2000}, timeout=5)
            assert reply.payload["blob"] == "abc" * 2000


async def test_msgpack_connection(ours: InProcess) -> None:
    async with connect(ours.url, token=make_token(), msgpack=True) as client:
        reply = await client.request("echo", {"list": [1, 2, 3], "nested": {"a": None}}, timeout=5)
        assert reply.category is None  # M: frames carry no category prefix
        assert reply.payload == {"list": [1, 2, 3], "nested": {"a": None}}
        assert reply.sequence is not None


async def test_encryption_round_trip_both_directions_and_fan_out(ours: InProcess) -> None:
    enc = AsyncWSEClient(ours.url, token=make_token(), encryption=True)
    plain = AsyncWSEClient(ours.url, token=make_token())
    async with enc, plain:
        assert enc.is_encrypted
        assert not plain.is_encrypted
        assert enc.server_details["features"]["encryption"] is True
        reply = await enc.request("echo", {"secret": "s3cr3t"}, timeout=5)
        assert reply.payload == {"secret": "s3cr3t"}
        # The application saw the decrypted message.
        assert any(m["p"] == {"secret": "s3cr3t"} for m in app_messages(ours, "echo"))
        # A shared fan-out frame: sealed for the encrypted subscriber only.
        await enc.subscribe("room")
        await plain.subscribe("room")
        ours.server.publish_local("room", 'U{"t":"said","p":{"text":"hello"}}')
        for c in (enc, plain):
            event = await c.recv(timeout=5)
            assert event.payload == {"text": "hello"}
        # Several messages in one shared buffer (publish_many(), and runs of publishes
        # the I/O thread merges): each one reaches the encrypted client sealed on its own.
        burst = [f'U{{"t":"n","p":{{"n":{n}}}}}' for n in range(40)]
        for text in burst[:20]:
            ours.server.publish_local("room", text)
        assert ours.server.publish_many("room", burst[20:]) == 20
        for c in (enc, plain):
            got = [(await c.recv(timeout=5)).payload["n"] for _ in range(40)]
            assert got == list(range(40))
        assert enc.stats.encrypted_received >= 43
        assert plain.stats.encrypted_received == 0
        assert enc.stats.plaintext_refused == 0


async def test_encryption_refused_when_the_server_does_not_offer_it() -> None:
    from wse_client import WSEEncryptionError  # noqa: PLC0415

    with in_process(encryption=False) as env:
        with pytest.raises(WSEEncryptionError, match="offers none"):
            await AsyncWSEClient(env.url, token=make_token(), encryption=True).connect()
        await until(lambda: not env.server.get_connections(), what="the refused connection to close")


async def test_rate_limit_warning_is_surfaced() -> None:
    with in_process(rate_limit_capacity=5, rate_limit_refill=1) as env:
        async with connect(env.url, token=make_token()) as client:
            for n in range(20):
                client._outbox.paused_until = 0  # push past the pause the warning imposes
                await client.send("flood", {"n": n})
            event = await client.recv(timeout=5)
            while event.type != "rate_limit_warning":
                event = await client.recv(timeout=5)
            assert event.payload["code"] == "RATE_LIMIT_EXCEEDED"
            assert client.stats.rate_limit_warnings == 1
            assert client._outbox.paused_until > time.monotonic()


async def test_reconnect_resubscribes_and_replays_the_offline_queue() -> None:
    port = free_port()
    first = in_process(port=port)
    first.__enter__()
    url = f"ws://127.0.0.1:{port}/wse"
    client = AsyncWSEClient(
        url, token=make_token(), reconnect=FAST, circuit_breaker=CircuitBreaker(failure_threshold=1000)
    )
    states: list[ConnectionState] = []
    client.on_state_change(states.append)
    await client.connect()
    try:
        await client.subscribe("alerts")
        old_id = client.connection_id
        await asyncio.to_thread(first.__exit__, None, None, None)  # stop(): close 1012, reconnect
        await until(lambda: client.state is ConnectionState.RECONNECTING, what="reconnecting")
        assert await client.send("echo", {"while": "offline"})  # queued
        assert client.offline_queue_size == 1
        with in_process(port=port) as second:
            await client.wait_connected(10)
            assert client.connection_id != old_id
            await until(lambda: bool(app_messages(second, "echo")), what="offline replay")
            assert app_messages(second, "echo")[0]["p"] == {"while": "offline"}
            await until(lambda: second.server.get_connection_topics(str(client.connection_id)) == ["alerts"])
            second.server.publish_local("alerts", 'U{"t":"alert","p":{}}')
            reply = await client.recv(timeout=5)
            while reply.type != "alert":
                reply = await client.recv(timeout=5)
            assert client.stats.reconnects == 1
            assert client.stats.offline_replayed == 1
            assert ConnectionState.RECONNECTING in states
            await client.close()  # before the server stops (its stop() blocks this loop)
    finally:
        await client.close()


async def test_server_disconnect_with_1000_ends_the_stream(ours: InProcess) -> None:
    async with connect(ours.url, token=make_token(), reconnect=FAST) as client:
        await client.send("bye")
        events = [e async for e in client]
        assert events == []
        assert client.state is ConnectionState.DISCONNECTED
        assert client.stats.reconnects == 0


async def test_failover_to_the_next_endpoint_and_circuit_breaker(ours: InProcess) -> None:
    dead = f"ws://127.0.0.1:{free_port()}/wse"
    client = AsyncWSEClient(
        endpoints=[dead, ours.url], load_balancing=LoadBalancingStrategy.ROUND_ROBIN, token=make_token()
    )
    async with client:
        assert client.endpoint == ours.url
        stats = {s["url"]: s for s in client.pool.get_stats()}
        assert stats[dead]["failures"] == 1
        assert stats[ours.url]["active"] == 1
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=60)
    lonely = AsyncWSEClient(dead, token="t", circuit_breaker=breaker)
    for _ in range(2):
        with pytest.raises(WSEConnectionError):
            await lonely.connect()
    assert not breaker.allow()
    assert breaker.retry_in() > 50


async def test_dead_connection_is_detected_and_replaced(ours: InProcess) -> None:
    """A peer that accepts the upgrade, says server_ready, then goes silent."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    held: list[socket.socket] = []

    def serve() -> None:
        import base64  # noqa: PLC0415
        import hashlib  # noqa: PLC0415

        conn, _ = silent.accept()
        held.append(conn)
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(4096)
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key")
        )
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        ready = b'WSE{"t":"server_ready","p":{"details":{"connection_id":"silent"}}}'
        conn.sendall(bytes([0x81, len(ready)]) + ready)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = AsyncWSEClient(
        endpoints=[f"ws://127.0.0.1:{port}/wse", ours.url],
        load_balancing=LoadBalancingStrategy.ROUND_ROBIN,
        token=make_token(),
        heartbeat_interval=0.1,
        dead_after=0.5,
        reconnect=FAST,
    )
    try:
        await client.connect()
        assert client.connection_id == "silent"
        await until(lambda: client.endpoint == ours.url, timeout=10, what="failover after the dead peer")
        assert client.stats.reconnects == 1
        await until(lambda: client.network.samples > 0, timeout=5, what="a PONG from the live server")
        assert client.network.latency_ms is not None
    finally:
        await client.close()
        for s in held:
            s.close()
        silent.close()


def test_sync_client_in_a_plain_thread(ours: InProcess) -> None:
    results: list[Any] = []

    def worker() -> None:
        with SyncWSEClient(ours.url, token=make_token("sync-user")) as client:
            assert client.subscribe(["jobs"])
            ours.server.publish_local("jobs", 'U{"t":"job","p":{"id":7}}')
            results.append(client.recv(timeout=5))
            results.append(client.request("echo", {"k": "v"}, timeout=5).payload)
            try:
                client.recv(timeout=0.05)
            except WSETimeoutError as exc:
                results.append(exc)
            results.append(client.get_stats()["messages_received"])

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert results[0].type == "job"
    assert results[0].payload == {"id": 7}
    assert results[1] == {"k": "v"}
    assert isinstance(results[2], WSETimeoutError)
    assert results[3] >= 1
    assert SECRET  # the fixture's secret signed the token


def test_sync_client_auth_error_and_not_connected() -> None:
    with in_process() as env:
        client = SyncWSEClient(env.url, token="bad")
        with pytest.raises(WSEAuthError):
            client.connect()
        client.close()
        with pytest.raises(WSEConnectionError, match="connect"):
            SyncWSEClient(env.url).send("x")


async def test_block_overflow_pushes_back_without_loss(ours: InProcess) -> None:
    client = AsyncWSEClient(ours.url, token=make_token(), queue_size=8, overflow=OverflowPolicy.BLOCK)
    async with client:
        await client.subscribe("slow")
        await client.send("publish", {"topic": "slow", "count": 300, "size": 200})
        got: list[int] = []
        async for event in client:
            assert event.type == "pub"
            got.append(event.payload["n"])
            if len(got) % 50 == 0:
                await asyncio.sleep(0.05)  # a slow consumer: the socket is paused meanwhile
                assert client.queue_size <= 8 + 1
            if len(got) == 300:
                break
        assert got == list(range(300))
        assert client.stats.queue_dropped == 0


async def test_drop_oldest_overflow_is_reported(ours: InProcess) -> None:
    client = AsyncWSEClient(ours.url, token=make_token(), queue_size=10)
    async with client:
        await client.subscribe("burst")
        await client.send("publish", {"topic": "burst", "count": 100})
        await until(lambda: client.stats.messages_received >= 100, what="the burst")
        first = await client.recv(timeout=5)
        assert first.type == "queue_overflow"
        assert first.payload["dropped"] == 90
        rest = [(await client.recv(timeout=5)).payload["n"] for _ in range(10)]
        assert rest == list(range(90, 100))  # the newest survive
        assert client.stats.queue_dropped == 90


async def test_bad_encrypted_frames_get_a_clear_error(ours: InProcess) -> None:
    async with connect(ours.url, token=make_token(), encryption=True) as enc:
        session = enc._session
        assert session is not None
        await session.ws.send(b"E:" + b"\x00" * 40)  # right size, wrong tag
        error = await enc.recv(timeout=5)
        assert error.type == "error"
        assert error.payload["code"] == "ENCRYPTION_FAILED"
        assert "decrypt" in error.payload["message"]
        # The connection is still usable.
        assert (await enc.request("echo", {"ok": 1}, timeout=5)).payload == {"ok": 1}
    async with connect(ours.url, token=make_token()) as plain:
        session = plain._session
        assert session is not None
        await session.ws.send(b"E:" + b"\x00" * 40)
        error = await plain.recv(timeout=5)
        assert error.payload["code"] == "ENCRYPTION_FAILED"
        assert "without encryption" in error.payload["message"]


async def test_encryption_with_msgpack_and_compression(ours: InProcess) -> None:
    """Compression and MessagePack happen before encryption: an E: frame may hold C: or M:."""
    async with connect(ours.url, token=make_token(), encryption=True) as enc:
        await enc.send("big", {"size": 30000})
        big = await enc.recv(timeout=5)
        assert big.type == "big_reply"
        assert len(big.payload["data"]) == 30000
    async with connect(ours.url, token=make_token(), encryption=True, msgpack=True) as packed:
        reply = await packed.request("echo", {"m": [1, 2]}, timeout=5)
        assert reply.payload == {"m": [1, 2]}
        assert reply.category is None  # it was M: inside E:
        assert packed.stats.encrypted_received >= 1
        assert packed.stats.plaintext_refused == 0


@pytest.mark.parametrize("code", [4401, 4403])
async def test_auth_close_mid_session_raises_and_stops(ours: InProcess, code: int) -> None:
    client = AsyncWSEClient(ours.url, token=make_token(), reconnect=FAST)
    await client.connect()
    try:
        await until(lambda: client.connection_id in ours.server.get_connections(), what="registration")
        ours.server.disconnect(str(client.connection_id), code, "credentials revoked")
        with pytest.raises(WSEAuthError) as info:
            async for _ in client:
                pass
        assert info.value.close_code == code
        assert client.state is ConnectionState.ERROR
        await asyncio.sleep(0.3)
        assert client.stats.reconnects == 0  # never retried
        with pytest.raises(WSEAuthError):
            await client.send("anything")
    finally:
        await client.close()


async def test_origin_refused_with_http_403_is_an_auth_error() -> None:
    with in_process(allowed_origins=["https://app.example"]) as env:
        with pytest.raises(WSEAuthError, match="HTTP 403"):
            await AsyncWSEClient(
                env.url, token=make_token(), extra_headers={"Origin": "https://evil"}
            ).connect()
        ok = AsyncWSEClient(env.url, token=make_token(), extra_headers={"Origin": "https://app.example"})
        async with ok:
            assert ok.is_connected
