"""The client's pure parts: codec, sequencer, backoff, breaker, pool, monitor, queues."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import zlib

import msgpack
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wse_client import (
    CircuitBreaker,
    ConnectionPool,
    EventSequencer,
    Gap,
    LoadBalancingStrategy,
    NetworkMonitor,
    OfflineQueue,
    OverflowPolicy,
    ReconnectConfig,
    ReconnectMode,
    TokenBucketRateLimiter,
    WSEEvent,
)
from wse_client.compression import CompressionHandler
from wse_client.errors import WSEEncryptionError, WSEProtocolError
from wse_client.event_queue import EventQueue
from wse_client.protocol import MessageCodec, category_for, to_event
from wse_client.reconnect import attempts_left, backoff_delay
from wse_client.security import SecurityManager


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---- codec -----------------------------------------------------------------------


def test_prefixes_plain_json_arrays_and_legacy_text() -> None:
    codec = MessageCodec()
    assert codec.decode('WSE{"t":"a"}') == ({"t": "a"}, "WSE", False)
    assert codec.decode('S{"t":"s"}') == ({"t": "s"}, "S", False)
    assert codec.decode('U{"t":"u"}') == ({"t": "u"}, "U", False)
    assert codec.decode('{"t":"x"}') == ({"t": "x"}, None, False)
    assert codec.decode('U[{"t":"a"},{"t":"b"}]')[0] == [{"t": "a"}, {"t": "b"}]
    assert codec.decode("PONG:123")[0] == {"t": "PONG", "p": {"timestamp": 123, "legacy": True}}
    assert codec.decode("WSE:PING:9")[0]["t"] == "PING"
    # The 1.4.2 engine sends prefixed JSON in binary frames.
    assert codec.decode(b'U{"t":"bin"}') == ({"t": "bin"}, "U", False)
    for bad in ("hello", "U{not json", 'U"str"', "X{}"):
        with pytest.raises(WSEProtocolError):
            codec.decode(bad)
    with pytest.raises(WSEProtocolError):
        codec.decode(b"\xff\xfe")


def test_compressed_msgpack_and_bare_zlib_frames() -> None:
    codec = MessageCodec()
    text = 'U{"t":"big","p":{"d":"' + "x" * 5000 + '"}}'
    assert codec.decode(b"C:" + zlib.compress(text.encode()))[0]["p"]["d"] == "x" * 5000
    assert codec.decode(zlib.compress(text.encode()))[1] == "U"
    packed = msgpack.packb({"t": "m", "p": {"k": [1, 2]}, "seq": 4})
    assert codec.decode(b"M:" + packed) == ({"t": "m", "p": {"k": [1, 2]}, "seq": 4}, None, False)
    with pytest.raises(WSEProtocolError):
        codec.decode(b"M:" + msgpack.packb([1, 2]))
    with pytest.raises(WSEProtocolError):
        codec.decode(b"C:not zlib at all")


def test_inflation_is_capped() -> None:
    codec = MessageCodec(CompressionHandler(max_size=10_000))
    bomb = b"C:" + zlib.compress(b"U" + b" " * 1_000_000)
    with pytest.raises(WSEProtocolError, match="inflates beyond"):
        codec.decode(bomb)


def test_outbound_categories_and_compression() -> None:
    assert category_for("client_hello") == "WSE"
    assert category_for("subscription_update") == "WSE"
    assert category_for("sync_request") == "S"
    assert category_for("user_snapshot") == "S"
    assert category_for("order_placed") == "U"
    codec = MessageCodec(CompressionHandler(threshold=100), compress_outbound=True)
    assert codec.encode({"t": "x", "p": {}}) == 'U{"t":"x","p":{}}'
    big = codec.encode({"t": "x", "p": {"d": "y" * 500}})
    assert isinstance(big, bytes)
    assert big.startswith(b"C:")
    assert zlib.decompress(big[2:]).startswith(b'U{"t":"x"')


def _server_side(client: SecurityManager) -> tuple[str, AESGCM]:
    """An independent server half of the exchange, with cryptography directly."""
    private = ec.generate_private_key(ec.SECP256R1())
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), client.public_key_bytes)
    shared = private.exchange(ec.ECDH(), peer)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wse-encryption", info=b"aes-gcm-key").derive(
        shared
    )
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    pub = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.b64encode(pub).decode(), AESGCM(key)


def test_encrypted_frames_both_ways() -> None:
    security = SecurityManager()
    server_pub, server_aes = _server_side(security)
    security.derive(server_pub)
    codec = MessageCodec(security=security)
    codec.encrypt_outbound = True
    frame = codec.encode({"t": "hello", "p": {"a": 1}})
    assert isinstance(frame, bytes)
    assert frame.startswith(b"E:")
    assert server_aes.decrypt(frame[2:14], frame[14:], None) == b'U{"t":"hello","p":{"a":1}}'
    nonce = b"\x01" * 12
    inbound = b"E:" + nonce + server_aes.encrypt(nonce, b'WSE{"t":"server_said"}', None)
    assert codec.decode(inbound) == ({"t": "server_said"}, "WSE", True)
    # The plaintext of an E: frame may itself be a C: body.
    compressed = b"C:" + zlib.compress(b'U{"t":"zipped"}')
    assert codec.decode(b"E:" + nonce + server_aes.encrypt(nonce, compressed, None))[0] == {"t": "zipped"}
    tampered = bytearray(inbound)
    tampered[-1] ^= 1
    with pytest.raises(WSEEncryptionError, match="authentication"):
        codec.decode(bytes(tampered))
    with pytest.raises(WSEEncryptionError, match="too short"):
        codec.decode(b"E:short")
    with pytest.raises(WSEProtocolError, match="nested"):
        codec.decode(b"E:" + nonce + server_aes.encrypt(nonce, b"E:" + b"x" * 30, None))
    with pytest.raises(WSEProtocolError, match="without encryption"):
        MessageCodec().decode(inbound)
    with pytest.raises(WSEEncryptionError, match="invalid"):
        SecurityManager().derive(base64.b64encode(b"\x04" + b"\x01" * 64).decode())


def test_to_event_normalises_payload_and_keys() -> None:
    env = {"type": "a", "payload": 5, "seq": 3, "id": 7, "cid": "c", "topic": "t", "pri": 8}
    ev = to_event(env, "U")
    assert ev.raw is env
    assert ev._replace(raw=None) == WSEEvent(
        type="a",
        payload={"data": 5},
        id="7",
        sequence=3,
        category="U",
        correlation_id="c",
        topic="t",
        priority=8,
    )
    assert to_event({"t": "b", "seq": "x"}, None).sequence is None


# ---- sequencer ----------------------------------------------------------------------


def test_first_messages_of_a_stream_are_never_held() -> None:
    seq: EventSequencer[str] = EventSequencer(reorder_timeout=1.0)
    # The original client waited for 0; a connection starting at 1 (or 57) must flow.
    assert seq.push(None, 57, "a") == (["a"], [])
    assert seq.push(None, 58, "b") == (["b"], [])
    assert seq.push("prices", 1, "p1") == (["p1"], [])


def test_reorder_fills_a_hole_and_late_messages_pass() -> None:
    clock = FakeClock()
    seq: EventSequencer[int] = EventSequencer(reorder_timeout=1.0, clock=clock)
    assert seq.push("t", 0, 0) == ([0], [])
    assert seq.push("t", 2, 2) == ([], [])
    assert seq.push("t", 3, 3) == ([], [])
    assert seq.push("t", 1, 1) == ([1, 2, 3], [])
    assert seq.position("t") == 3
    assert seq.push("t", 1, 99) == ([99], [])  # late/replayed: delivered, not swallowed


def test_gaps_are_declared_after_the_timeout_or_the_buffer_limit() -> None:
    clock = FakeClock()
    seq: EventSequencer[int] = EventSequencer(max_out_of_order=3, reorder_timeout=0.5, clock=clock)
    seq.push(None, 10, 10)
    assert seq.push(None, 14, 14) == ([], [])
    assert seq.next_deadline() == pytest.approx(100.5)
    clock.now += 0.6
    assert seq.expire() == ([14], [Gap(None, 11, 13)])
    assert (seq.gaps, seq.missing) == (1, 3)
    # Buffer limit: the fourth held message gives up at once.
    for n in (20, 21, 22):
        assert seq.push(None, n, n) == ([], [])
    assert seq.push(None, 23, 23) == ([20, 21, 22, 23], [Gap(None, 15, 19)])
    assert Gap(None, 15, 19).count == 5


def test_duplicate_window_is_bounded() -> None:
    seq: EventSequencer[int] = EventSequencer(window_size=3)
    assert not seq.is_duplicate("a")
    assert seq.is_duplicate("a")
    for x in "bcd":
        seq.is_duplicate(x)
    assert not seq.is_duplicate("a")  # evicted
    assert seq.duplicates == 1


def test_reset_stream_returns_what_was_held_and_restarts_the_baseline() -> None:
    seq: EventSequencer[int] = EventSequencer(reorder_timeout=5)
    seq.push(None, 0, 0)
    seq.push(None, 5, 5)
    assert seq.reset_stream(None) == [5]
    assert seq.push(None, 0, 0) == ([0], [])
    seq.push("a", 4, 4)
    assert seq.positions() == {"a": 4}


# ---- backoff, breaker, pool, monitor, limiter --------------------------------------------


def test_backoff_modes_caps_and_infinite_attempts() -> None:
    cfg = ReconnectConfig(base_delay=1.0, max_delay=30.0, factor=1.5, jitter=False)
    assert [backoff_delay(cfg, n) for n in range(4)] == [1.0, 1.5, 2.25, 3.375]
    assert backoff_delay(cfg, 10_000) == 30.0  # no overflow
    lin = ReconnectConfig(mode=ReconnectMode.LINEAR, base_delay=2.0, jitter=False)
    assert [backoff_delay(lin, n) for n in range(3)] == [2.0, 4.0, 6.0]
    fib = ReconnectConfig(mode=ReconnectMode.FIBONACCI, base_delay=1.0, jitter=False)
    assert [backoff_delay(fib, n) for n in range(6)] == [1, 1, 2, 3, 5, 8]
    jittered = ReconnectConfig(base_delay=10.0, max_delay=10.0)
    rng = random.Random(1)
    assert all(9.0 <= backoff_delay(jittered, 0, rng) <= 11.0 for _ in range(100))
    assert attempts_left(ReconnectConfig(max_attempts=-1), 10**9)
    assert not attempts_left(ReconnectConfig(max_attempts=3), 3)
    assert not attempts_left(ReconnectConfig(max_attempts=0), 0)
    with pytest.raises(ValueError, match="factor"):
        ReconnectConfig(factor=0.5)
    with pytest.raises(ValueError, match="max_attempts"):
        ReconnectConfig(max_attempts=-2)


def test_circuit_breaker_opens_half_opens_and_closes() -> None:
    clock = FakeClock()
    cb = CircuitBreaker(failure_threshold=3, reset_timeout=10.0, success_threshold=2, clock=clock)
    for _ in range(3):
        assert cb.allow()
        cb.record_failure()
    assert not cb.allow()
    assert cb.retry_in() == pytest.approx(10.0)
    clock.now += 10
    assert cb.state.value == "half_open"
    cb.record_failure()  # a failed probe reopens at once
    assert not cb.allow()
    clock.now += 10
    cb.record_success()
    states = [cb.state.value]
    cb.record_success()
    states.append(cb.state.value)
    assert states == ["half_open", "closed"]
    assert cb.times_opened == 2


def test_pool_strategies_scores_and_failover() -> None:
    a, b, c = "ws://a:1/wse", "ws://b:1/wse", "ws://c:1/wse"
    rr = ConnectionPool([a, b, c], LoadBalancingStrategy.ROUND_ROBIN)
    assert [rr.select_endpoint() for _ in range(4)] == [a, b, c, a]
    lc = ConnectionPool([a, b], LoadBalancingStrategy.LEAST_CONNECTIONS)
    lc.add_connection(a)
    assert lc.select_endpoint() == b
    wr = ConnectionPool([a, b], rng=random.Random(7))
    wr.record_failure(a)  # a failed just now: skipped while b is healthy (failover)
    assert {wr.select_endpoint() for _ in range(50)} == {b}
    stats = {s["url"]: s for s in wr.get_stats()}
    assert stats[a]["score"] == 75.0
    assert stats[a]["failures"] == 1
    wr.record_success(a, latency_ms=5.0)
    assert {s["url"]: s for s in wr.get_stats()}[a]["score"] == 85.0
    with pytest.raises(ValueError, match="ws://"):
        ConnectionPool(["http://x"])
    with pytest.raises(ValueError, match="at least one"):
        ConnectionPool([])


def test_network_monitor_grades_quality() -> None:
    mon = NetworkMonitor(window_size=10)
    assert mon.quality.value == "unknown"
    for ms in (10, 12, 11, 13):
        mon.ping_sent()
        mon.record_latency(ms)
    assert mon.latency_ms == pytest.approx(11.5)
    assert mon.jitter_ms == pytest.approx((2 + 1 + 2) / 3)
    grades = [mon.quality.value]
    for ms in (400, 20, 380):
        mon.record_latency(ms)
    grades.append(mon.quality.value)
    assert grades == ["excellent", "poor"]
    lossy = NetworkMonitor()
    for _ in range(11):
        lossy.ping_sent()
    for _ in range(5):
        lossy.record_latency(10)
    assert lossy.packet_loss == pytest.approx(50.0)


def test_token_bucket_paces_and_pauses() -> None:
    clock = FakeClock()
    tb = TokenBucketRateLimiter(capacity=2, refill_rate=10, clock=clock)
    assert tb.try_acquire()
    assert tb.try_acquire()
    assert not tb.try_acquire()
    assert tb.wait_time() == pytest.approx(0.1)
    clock.now += 0.1
    assert tb.try_acquire()
    tb.pause(2.0)
    clock.now += 1.0
    assert not tb.try_acquire()
    assert tb.wait_time() == pytest.approx(1.0)


# ---- queues -------------------------------------------------------------------------


async def test_event_queue_overflow_is_reported_never_silent() -> None:
    q = EventQueue(2, OverflowPolicy.DROP_OLDEST)
    for n in range(4):
        q.put_nowait(WSEEvent(type="e", payload={"n": n}))
    first = await q.get()
    assert first is not None
    assert first.type == "queue_overflow"
    assert first.payload["dropped"] == 2
    rest = [await q.get(), await q.get()]
    assert [e.payload["n"] for e in rest if e] == [2, 3]
    newest = EventQueue(1, OverflowPolicy.DROP_NEWEST)
    newest.put_nowait(WSEEvent(type="e", payload={"n": 0}))
    newest.put_nowait(WSEEvent(type="e", payload={"n": 1}))
    assert [(e.type if e else None) for e in (await newest.get(), await newest.get())] == [
        "queue_overflow",
        "e",
    ]


async def test_event_queue_block_policy_waits_for_the_consumer() -> None:
    q = EventQueue(1, OverflowPolicy.BLOCK)
    await q.put(WSEEvent(type="a", payload={}))
    second = asyncio.create_task(q.put(WSEEvent(type="b", payload={})))
    await asyncio.sleep(0.01)
    assert not second.done()
    got = await q.get()
    assert got is not None
    assert got.type == "a"
    await asyncio.wait_for(second, 1)
    q.close()
    got = await q.get()
    assert got is not None
    assert got.type == "b"
    assert await q.get() is None
    assert q.dropped == 0


def test_offline_queue_bounds_and_expiry() -> None:
    q = OfflineQueue(max_size=2, max_age=60)
    for n in range(3):
        q.put({"t": "m", "n": n})
    assert q.dropped == 1
    assert [m["n"] for m in q.take_all()] == [1, 2]
    q.push_front([{"t": "m", "n": 9}])
    assert len(q) == 1
    with pytest.raises(ValueError, match="max_size"):
        OfflineQueue(max_size=-1)


def test_codec_and_dispatcher_survive_hostile_frames() -> None:
    """Mutated and random frames: the codec raises only WSEError subclasses and the
    dispatcher (which catches them) never raises at all."""
    import asyncio  # noqa: PLC0415
    import json  # noqa: PLC0415

    from wse_client import AsyncWSEClient  # noqa: PLC0415
    from wse_client.errors import WSEError  # noqa: PLC0415

    seeds: list[str | bytes] = [
        'U{"t":"a","p":{"x":1},"id":"i","seq":3,"topic":"t"}',
        'WSE{"t":"server_hello","p":{"features":{}}}',
        'U{"t":"batch","p":{"messages":[{"t":"a","p":{}}]}}',
        "PING:12",
        b"C:" + zlib.compress(b'U{"t":"z","p":{}}'),
        b"M:" + msgpack.packb({"t": "m", "p": {"a": [1]}}),
    ]
    rng = random.Random(5)
    codec = MessageCodec()

    class FakeWebSocket:
        async def send(self, message: str | bytes) -> None:
            assert isinstance(message, str | bytes)  # PING replies

    class Session:
        codec = MessageCodec()
        encrypted = False
        native_dialect = True
        ws = FakeWebSocket()

    async def run() -> None:
        client = AsyncWSEClient("ws://127.0.0.1:1/", queue_size=100)
        dispatch = client._dispatch
        for i in range(4000):
            base = seeds[i % len(seeds)]
            raw = bytearray(base.encode() if isinstance(base, str) else base)
            for _ in range(rng.randint(1, 4)):
                op = rng.random()
                pos = rng.randrange(len(raw) + 1)
                if op < 0.4 and raw:
                    raw[min(pos, len(raw) - 1)] = rng.randrange(256)
                elif op < 0.7:
                    raw[pos:pos] = bytes([rng.randrange(256)])
                else:
                    del raw[pos : pos + rng.randint(1, 3)]
            frame: str | bytes = bytes(raw)
            if isinstance(base, str):
                with contextlib.suppress(UnicodeDecodeError):
                    frame = bytes(raw).decode()
            with contextlib.suppress(WSEError):
                codec.decode(frame)
            dispatch.on_frame(Session(), frame)  # type: ignore[arg-type]
        await asyncio.sleep(0)  # let the PING replies run
        assert json.dumps(client.stats.as_dict())
        assert client.stats.decode_errors > 100

    asyncio.run(run())
