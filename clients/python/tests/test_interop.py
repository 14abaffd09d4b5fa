"""The same client tests against both engines, each as a separate process:
ours (``wse_server``) and the original 1.4.2 engine (a black box driven by the
same test application through the seed's public API). Where the engines
differ, the test says so; docs/PROTOCOL.md lists the differences."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from conftest import AppProcess, make_token

from wse_client import (
    AsyncWSEClient,
    ConnectionState,
    SyncWSEClient,
    WSEAuthError,
    WSEConnectionError,
    WSEEncryptionError,
    connect,
)

pytestmark = pytest.mark.interop

Engine = tuple[str, AppProcess]


async def test_connect_and_server_ready(engine: Engine) -> None:
    name, proc = engine
    async with connect(proc.url, token=make_token("interop-user")) as client:
        assert client.state is ConnectionState.CONNECTED
        assert client.connection_id
        assert client.server_details["user_id"] == "interop-user"
        # Only our server advertises server_version (and numbers envelopes per connection).
        assert ("server_version" in client.server_details) == (name == "ours")


async def test_auth_failure_raises(engine: Engine) -> None:
    name, proc = engine
    bad = make_token(secret="some-other-secret-some-other-secret")
    if name == "wse142":
        # Observed: 1.4.2 sends nothing at all (no error frame, no close) to a
        # connection with a bad or missing token. No server_ready ever comes, so
        # the attempt fails after handshake_timeout instead of hanging.
        for token in (bad, None):
            with pytest.raises(WSEConnectionError, match="no server_ready"):
                await AsyncWSEClient(proc.url, token=token, handshake_timeout=0.5).connect()
        return
    with pytest.raises(WSEAuthError) as info:
        await AsyncWSEClient(proc.url, token=bad).connect()
    assert info.value.code == "AUTH_FAILED"
    with pytest.raises(WSEAuthError) as missing:
        await AsyncWSEClient(proc.url).connect()
    assert missing.value.code == "AUTH_REQUIRED"


async def test_subscribe_receive_and_request_reply(engine: Engine) -> None:
    _, proc = engine
    async with connect(proc.url, token=make_token()) as client:
        assert await client.subscribe(["interop-news"])
        await client.send("publish", {"topic": "interop-news", "count": 3})
        events = [await client.recv(timeout=5) for _ in range(3)]
        assert [e.payload["n"] for e in events] == [0, 1, 2]
        assert {e.topic for e in events} == {"interop-news"}
        reply = await client.request("echo", {"x": [1, "two"]}, timeout=5)
        assert reply.payload == {"x": [1, "two"]}


async def test_thousand_messages_in_order(engine: Engine) -> None:
    _, proc = engine
    async with connect(proc.url, token=make_token()) as client:
        assert await client.subscribe(["interop-bulk"])
        await client.send("publish", {"topic": "interop-bulk", "count": 1000})
        got: list[int] = []
        async for event in client:
            got.append(event.payload["n"])
            if len(got) == 1000:
                break
        assert got == list(range(1000))
        # 1.4.2 numbers send_event envelopes with one process-wide counter: the client
        # does not read per-connection gaps into that, so there are none.
        assert client.stats.gaps == 0


async def test_compressed_and_msgpack_events(engine: Engine) -> None:
    _, proc = engine
    async with connect(proc.url, token=make_token()) as client:
        await client.send("big", {"size": 8000})
        big = await client.recv(timeout=5)
        assert big.type == "big_reply"
        assert len(big.payload["data"]) == 8000
    async with connect(proc.url, token=make_token(), msgpack=True) as packed:
        reply = await packed.request("echo", {"k": {"nested": True}}, timeout=5)
        assert reply.payload == {"k": {"nested": True}}
        assert reply.category is None  # it came as M: + MessagePack


async def test_encryption_where_offered(engine: Engine) -> None:
    name, proc = engine
    client = AsyncWSEClient(proc.url, token=make_token(), encryption=True)
    if name == "wse142":
        # The original engine never offers a key: the client refuses to downgrade.
        with pytest.raises(WSEEncryptionError, match="offers none"):
            await client.connect()
        return
    async with client:
        assert client.is_encrypted
        reply = await client.request("echo", {"sealed": "both ways"}, timeout=5)
        assert reply.payload == {"sealed": "both ways"}
        assert client.stats.encrypted_received >= 1


def test_sync_client_in_a_thread(engine: Engine) -> None:
    _, proc = engine
    out: list[Any] = []

    def worker() -> None:
        with SyncWSEClient(proc.url, token=make_token()) as client:
            out.append(client.subscribe("interop-sync"))
            client.send("publish", {"topic": "interop-sync", "count": 2})
            out.extend(client.recv(timeout=5).payload["n"] for _ in range(2))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    assert out == [True, 0, 1]


async def test_many_clients_at_once(engine: Engine) -> None:
    _, proc = engine
    clients = [AsyncWSEClient(proc.url, token=make_token(f"u{i}")) for i in range(5)]
    await asyncio.gather(*(c.connect() for c in clients))
    try:
        await asyncio.gather(*(c.subscribe("interop-fan") for c in clients))
        await clients[0].send("publish", {"topic": "interop-fan", "count": 10})
        for c in clients:
            assert [(await c.recv(timeout=5)).payload["n"] for _ in range(10)] == list(range(10))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
