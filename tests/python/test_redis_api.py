"""The Redis side of the WSEServer API, in process: connect_redis (URLs, before
or after start, AUTH, SELECT, TLS), publish through Redis, redis_connected,
health_snapshot keys, get_dlq_entries, and the queue bound."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis_support import RedisServer, cmd, pick_port, subscribed_client
from server_support import running_server, wait_for

from wse_server import RustWSEServer, WSEServer

pytestmark = pytest.mark.redis

SEED_KEYS = {
    "connections": int,
    "inbound_queue_depth": int,
    "inbound_dropped": int,
    "redis_connected": bool,
    "redis_messages_received": int,
    "redis_messages_published": int,
    "redis_messages_delivered": int,
    "redis_messages_dropped": int,
    "redis_publish_errors": int,
    "redis_reconnect_count": int,
    "redis_dlq_size": int,
    "uptime_secs": float,
}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(Path(tmp_path_factory.mktemp("redis-api"))) as server:
        yield server


@pytest.fixture
def server() -> Iterator[WSEServer]:
    s = WSEServer("127.0.0.1", 0, io_threads=1, subscription_policy=["*"])
    yield s
    s.stop()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://localhost", "unsupported scheme 'http'"),
        ("localhost:6379", "missing scheme"),
        ("redis://", "missing host"),
        ("redis://h:70000", "port"),
        ("redis://h/zero", "db"),
        ("redis://h?tls=1", "unknown query option 'tls'"),
        ("redis://h?ssl_cert_reqs=none", "rediss://"),
        ("rediss://h?ssl_ca_certs=/nonexistent/ca.pem", "cannot load ssl_ca_certs"),
    ],
)
def test_bad_urls_raise_value_error(server: WSEServer, url: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"Redis URL|ssl_ca_certs") as info:
        server.connect_redis(url)
    assert message in str(info.value)
    assert not server.redis_connected()


def test_bad_options_raise(server: WSEServer) -> None:
    with pytest.raises(ValueError, match="max_pending"):
        server.connect_redis("redis://h", max_pending=0)
    with pytest.raises(ValueError, match="database 0"):
        server.connect_redis("redis://h/2", cluster=True)
    with pytest.raises(TypeError):
        server.connect_redis("redis://h", True)  # type: ignore[call-arg]


def test_health_snapshot_has_the_seed_keys(server: WSEServer, redis_server: RedisServer) -> None:
    h = server.health_snapshot()
    for key, kind in SEED_KEYS.items():
        assert isinstance(h[key], kind), key
    assert h["redis_mode"] == "off"
    server.start()
    server.connect_redis(redis_server.url())
    wait_for(server.redis_connected, what="Redis")
    h = server.health_snapshot()
    for key, kind in SEED_KEYS.items():
        assert isinstance(h[key], kind), key
    assert h["redis_connected"] is True
    assert h["redis_mode"] == "standalone"
    assert h["redis_nodes"] == h["redis_nodes_connected"] == 1
    assert h["redis_connect_breaker"] == h["redis_publish_breaker"] == "closed"


async def test_connect_before_start_and_publish_through_redis(redis_server: RedisServer) -> None:
    server = RustWSEServer("127.0.0.1", 0, io_threads=1, subscription_policy=["*"])
    server.connect_redis(redis_server.url())  # remembered; used by start()
    assert not server.redis_connected()
    server.start()
    try:
        wait_for(server.redis_connected, what="Redis")
        ws = await subscribed_client(server, ["api:*"])
        wait_for(lambda: server.health_snapshot()["redis_subscriptions"] == 1, what="PSUBSCRIBE")
        server.publish("api:1", "text")
        server.publish("api:2", b"\x00\x01binary")
        assert await asyncio.wait_for(ws.recv(), 5) == "text"
        assert await asyncio.wait_for(ws.recv(), 5) == b"\x00\x01binary"
        server.publish_local("api:3", "local")  # never touches Redis
        assert await asyncio.wait_for(ws.recv(), 5) == "local"
        # publish_many() with Redis: every message through Redis, in order.
        assert server.publish_many("api:4", ["m0", b"m1", "m2"]) == 3
        assert [await asyncio.wait_for(ws.recv(), 5) for _ in range(3)] == ["m0", b"m1", "m2"]
        h = server.health_snapshot()
        assert h["redis_messages_published"] == 5
        assert h["redis_messages_delivered"] == 5
        await ws.close()
        # Restart: the connection comes back with the new run.
        server.stop()
        server.start()
        wait_for(server.redis_connected, what="Redis after a restart")
    finally:
        server.stop()


async def test_publish_without_redis_is_publish_local(server: WSEServer) -> None:
    server.start()
    ws = await subscribed_client(server, ["plain"])
    server.publish("plain", "no broker")
    assert await asyncio.wait_for(ws.recv(), 5) == "no broker"
    assert server.get_dlq_entries() == []
    assert not server.redis_connected()
    await ws.close()


def test_dead_letters_drain_with_their_type(server: WSEServer) -> None:
    server.start()
    server.connect_redis(f"redis://127.0.0.1:{pick_port()}?connect_timeout=1")  # nothing listens
    wait_for(lambda: server.health_snapshot()["redis_last_error"] != "", what="a failed attempt")
    server.publish("t", "hello")
    server.publish("t", b"\xffbytes")
    wait_for(lambda: server.health_snapshot()["redis_dlq_size"] == 2, what="dead letters")
    entries = server.get_dlq_entries()
    assert entries == [
        {"channel": "wse:t", "payload": "hello", "error": "Redis disconnected"},
        {"channel": "wse:t", "payload": b"\xffbytes", "error": "Redis disconnected"},
    ]
    assert server.get_dlq_entries() == []
    h = server.health_snapshot()
    assert h["redis_publish_errors"] == 2
    assert h["redis_dlq_size"] == 0
    assert "cannot connect" in h["redis_last_error"] or "refused" in h["redis_last_error"].lower()


def test_dead_letter_ring_keeps_the_last_thousand(server: WSEServer) -> None:
    server.start()
    server.connect_redis(f"redis://127.0.0.1:{pick_port()}")
    wait_for(lambda: server.health_snapshot()["redis_last_error"] != "", what="a failed attempt")
    for i in range(1500):
        server.publish("t", str(i))
    wait_for(lambda: server.health_snapshot()["redis_publish_errors"] == 1500, what="1500 failures")
    h = server.health_snapshot()
    assert h["redis_dlq_size"] == 1000
    assert h["redis_dlq_evicted"] == 500
    assert [e["payload"] for e in server.get_dlq_entries()] == [str(i) for i in range(500, 1500)]


def test_queue_bound_sends_the_excess_to_the_dlq(server: WSEServer, redis_server: RedisServer) -> None:
    server.start()
    server.connect_redis(redis_server.url(), max_pending=100)
    wait_for(server.redis_connected, what="Redis")
    redis_server.pause()
    try:
        for i in range(1000):
            server.publish("bound", str(i))
        h = server.health_snapshot()
        assert h["redis_pending"] == 100
        assert h["redis_publish_errors"] == 900
    finally:
        redis_server.resume()
    wait_for(lambda: server.health_snapshot()["redis_messages_published"] == 100, what="the 100 queued")
    errors = {e["error"] for e in server.get_dlq_entries()}
    assert len(errors) == 1
    assert errors.pop().startswith("publish queue full")


def test_auth_user_password_and_select(tmp_path: Path) -> None:
    secured = RedisServer(tmp_path / "auth", "--requirepass", "s3cret")
    secured.start()
    try:
        cmd(secured.client(), "ACL", "SETUSER", "app", "on", ">app-pw", "~*", "&*", "+@all")
        bad = WSEServer("127.0.0.1", 0, io_threads=1)
        bad.start()
        try:
            bad.connect_redis(secured.url())  # no password
            wait_for(lambda: bad.health_snapshot()["redis_last_error"] != "", what="the refusal")
            assert not bad.redis_connected()
            assert "NOAUTH" in bad.health_snapshot()["redis_last_error"]
            bad.connect_redis(secured.url(auth=":wrong@"))
            wait_for(lambda: "WRONGPASS" in bad.health_snapshot()["redis_last_error"], what="WRONGPASS")
            assert "wrong" not in bad.health_snapshot()["redis_last_error"].replace("WRONGPASS", "")
        finally:
            bad.stop()
        for auth in (":s3cret@", "app:app-pw@", "app:app%2Dpw@"):
            good = WSEServer("127.0.0.1", 0, io_threads=1)
            good.start()
            try:
                good.connect_redis(secured.url(auth=auth) + "/5")
                wait_for(good.redis_connected, what=f"AUTH with {auth}")
                clients = secured.client().client_list()
                ours = [c for c in clients if c["name"].startswith("wse-")]
                assert len(ours) == 2
                assert {c["db"] for c in ours} == {"5"}
            finally:
                good.stop()
    finally:
        secured.stop()


def issue_cert(
    common_name: str,
    key: ec.EllipticCurvePrivateKey,
    serial: int,
    *,
    issuer: x509.Name | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    extension: x509.ExtensionType | None = None,
    critical: bool = False,
) -> x509.Certificate:
    """A certificate valid from 5 minutes ago for a day; self-signed without an issuer."""
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if extension is not None:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1, written as PEM files (and a client
    certificate from the same CA, for mutual TLS: client.pem / client.key)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = issue_cert(
        "wse test CA", ca_key, 1, extension=x509.BasicConstraints(ca=True, path_length=None), critical=True
    )
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = issue_cert("127.0.0.1", key, 2, issuer=ca.subject, issuer_key=ca_key, extension=san)
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    write_pair(cert, key, paths[1], paths[2])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = issue_cert("wse instance", client_key, 3, issuer=ca.subject, issuer_key=ca_key)
    write_pair(client, client_key, directory / "client.pem", directory / "client.key")
    return paths


def write_pair(
    cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, cert_path: Path, key_path: Path
) -> None:
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


async def test_rediss_tls_verifies_the_server(tmp_path: Path) -> None:
    ca, cert, key = make_tls_files(tmp_path)
    with RedisServer.with_tls(tmp_path / "tls", ca, cert, key, auth_clients=False) as tls:
        base = f"rediss://127.0.0.1:{tls.tls_port}"
        with running_server(io_threads=1) as untrusted:
            untrusted.connect_redis(base)  # system CAs do not know our test CA
            wait_for(lambda: "TLS" in untrusted.health_snapshot()["redis_last_error"], what="a TLS failure")
            assert not untrusted.redis_connected()
        for url in (f"{base}?ssl_ca_certs={ca}", f"{base}?ssl_cert_reqs=none"):
            with running_server(io_threads=1, subscription_policy=["*"]) as s:
                s.connect_redis(url)
                wait_for(s.redis_connected, what=f"TLS connection with {url}")
                ws = await subscribed_client(s, ["secure"])
                wait_for(lambda: s.health_snapshot()["redis_subscriptions"] == 1, what="SUBSCRIBE")
                s.publish("secure", "over TLS")
                assert await asyncio.wait_for(ws.recv(), 5) == "over TLS"
                await ws.close()


def test_rediss_client_certificate(tmp_path: Path) -> None:
    ca, cert, key = make_tls_files(tmp_path)
    with RedisServer.with_tls(tmp_path / "mtls", ca, cert, key, auth_clients=True) as tls:
        base = f"rediss://127.0.0.1:{tls.tls_port}?ssl_ca_certs={ca}"
        with running_server(io_threads=1) as without:
            without.connect_redis(base)  # Redis asks for a client certificate we do not have
            wait_for(lambda: without.health_snapshot()["redis_last_error"] != "", what="the refusal")
            assert not without.redis_connected()
        with running_server(io_threads=1) as with_cert:
            with_cert.connect_redis(
                f"{base}&ssl_certfile={tmp_path / 'client.pem'}&ssl_keyfile={tmp_path / 'client.key'}"
            )
            wait_for(with_cert.redis_connected, what="mutual TLS")
        with pytest.raises(ValueError, match="ssl_keyfile"):
            WSEServer("127.0.0.1", 0).connect_redis(
                f"{base}&ssl_certfile={tmp_path / 'client.pem'}&ssl_keyfile=/nope"
            )
