"""The transport's own framing (wse_client.frames.scan in wse_client.transport):
the same messages, replies and close codes as websockets' parser, for any split
of the byte stream.

The fuzz cases drive the real WebSocket protocol object over a real socket pair:
the opening handshake is answered by websockets' ServerProtocol, then random
streams of frames (whole, fragmented, control, 7/16/64-bit lengths, a fatal
frame at the end of some) are fed in random pieces; what the client delivers and
writes back (pongs, close frames) must equal what websockets' ClientProtocol
does with the same stream fed in one piece. The last tests run against a real
websockets server, over TCP and over TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import random
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection, serve
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from wse_client.frames import BAD_UTF8, FAIL, HANDOFF, NEED, scan
from wse_client.transport import ConnectionLost, Message, WebSocket, open_websocket

LIMIT = 1 << 17  # max_size of the fuzzed connections


# ---- scan, the pure part ----------------------------------------------------------


def frame(opcode: int, data: bytes, fin: bool = True) -> bytes:
    return Frame(Opcode(opcode), data, fin).serialize(mask=False)


def test_scan_takes_whole_data_frames_and_says_what_it_needs() -> None:
    big = bytes(range(256)) * 300  # 76,800 bytes: a 64-bit length
    buf = frame(1, "héllo".encode()) + frame(2, b"\x00\x01") + frame(1, b"x" * 300) + frame(2, big)
    out: list[Message] = []
    assert scan(buf, 0, None, False, out) == (len(buf), NEED, 2)
    assert out == ["héllo", b"\x00\x01", "x" * 300, big]
    out = []
    assert scan(buf[:-1], 0, None, False, out) == (len(buf) - len(big) - 10, NEED, len(big) + 10)
    assert out == ["héllo", b"\x00\x01", "x" * 300]
    # Header first (2, 4 or 10 bytes), then the whole frame.
    assert scan(frame(1, b"hello")[:1], 0, None, False, []) == (0, NEED, 2)
    assert scan(frame(1, b"hello")[:3], 0, None, False, []) == (0, NEED, 7)
    assert scan(frame(1, b"x" * 300)[:3], 0, None, False, []) == (0, NEED, 4)
    assert scan(frame(1, b"x" * 300)[:5], 0, None, False, []) == (0, NEED, 304)
    assert scan(frame(2, big)[:9], 0, None, False, []) == (0, NEED, 10)
    assert scan(frame(2, big)[:11], 0, None, False, []) == (0, NEED, len(big) + 10)
    assert scan(frame(2, big), 0, len(big), False, [])[1] == NEED  # the limit is inclusive
    assert scan(frame(2, big), 0, len(big) - 1, False, []) == (0, FAIL, 0)


def test_scan_hands_control_frames_and_fragments_to_the_protocol() -> None:
    ping = frame(9, b"p")
    out: list[Message] = []
    assert scan(frame(1, b"a") + ping + frame(1, b"b"), 0, None, False, out) == (3, HANDOFF, 3)
    assert out == ["a"]
    assert scan(frame(1, b"start", fin=False), 0, None, False, [])[1:] == (HANDOFF, 7)
    assert scan(frame(0, b"more"), 0, None, True, [])[1:] == (HANDOFF, 6)
    assert scan(ping, 0, None, True, [])[1:] == (HANDOFF, 3)
    assert scan(ping[:2], 0, None, True, [])[1:] == (NEED, 3)
    assert scan(frame(8, b"\x03\xe8"), 0, None, False, [])[1:] == (HANDOFF, 4)


@pytest.mark.parametrize(
    ("raw", "fragmented", "limit"),
    [
        (b"\x81\x85mask" + b"hello", False, None),  # masked by a server
        (b"\x83\x00", False, None),  # reserved data opcode
        (b"\x8b\x00", False, None),  # reserved control opcode
        (b"\xc1\x01a", False, None),  # RSV1 without an extension
        (b"\x89\x7e\x00\x80" + b"p" * 128, False, None),  # control frame over 125 bytes
        (b"\x09\x01p", False, None),  # fragmented control frame
        (b"\x80\x01a", False, None),  # continuation outside a message
        (b"\x81\x01a", True, None),  # a new message inside a fragmented one
        (b"\x82\x7f" + struct.pack("!Q", 1 << 40), False, 1 << 20),  # over the limit: at once
    ],
)
def test_scan_fails_frames_invalid_from_their_header(raw: bytes, fragmented: bool, limit: int | None) -> None:
    assert scan(raw, 0, limit, fragmented, []) == (0, FAIL, 0)
    out: list[Message] = []
    ok = frame(0 if fragmented else 1, b"ok", fin=False) if fragmented else frame(1, b"ok")
    pos, verdict, _ = scan(ok + raw, 0, limit, fragmented, out)
    if not fragmented:
        assert (pos, verdict, out) == (len(ok), FAIL, ["ok"])


def test_scan_reports_text_that_is_not_utf8() -> None:
    out: list[Message] = []
    assert scan(frame(1, b"fine") + b"\x81\x01\xff", 0, None, False, out) == (6, BAD_UTF8, 3)
    assert out == ["fine"]


# ---- the transport against websockets' parser, fuzzed --------------------------------


def text_of(rng: random.Random, size: int) -> bytes:
    """UTF-8 of about ``size`` bytes, multi-byte characters included."""
    unit = "".join(rng.choice('aZ0 {}"é€\U0001f600\u0800') for _ in range(32))
    return (unit * (size // 64 + 1)).encode()[: max(size, 0)].decode(errors="ignore").encode()


def length_of(rng: random.Random) -> int:
    return rng.choice([0, 1, 5, 60, 125, 126, 127, 200, 1000, 65535, 65536, 70000, rng.randrange(300)])


FATAL = [
    b"\x81\x85mask" + b"hello",
    b"\x83\x00",
    b"\xc1\x01a",
    b"\x89\x7e\x00\x80" + b"p" * 128,
    b"\x09\x01p",
    b"\x80\x01a",
    b"\x82\x7f" + struct.pack("!Q", LIMIT + 1),
    frame(1, b"open", fin=False) + frame(1, b"a whole message inside a fragmented one"),
    frame(2, b"open", fin=False) + frame(9, b"ping") + frame(2, b"binary inside a fragmented one"),
]


def stream_of(rng: random.Random) -> bytes:
    """Random frames a server may send; about one stream in four ends in a fatal frame."""
    out = bytearray()
    for _ in range(rng.randint(1, 25)):
        kind = rng.random()
        if kind < 0.35:
            out += frame(1, text_of(rng, length_of(rng) // 2))
        elif kind < 0.6:
            out += frame(2, rng.randbytes(length_of(rng)))
        elif kind < 0.75:  # fragmented, with control frames between the fragments
            text = rng.random() < 0.5
            data = text_of(rng, 300) if text else rng.randbytes(300)
            cuts = sorted(rng.sample(range(1, len(data)), rng.randint(1, 3)))
            pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
            for i, piece in enumerate(pieces):
                out += frame((1 if text else 2) if i == 0 else 0, piece, fin=i == len(pieces) - 1)
                if rng.random() < 0.3:
                    out += frame(9, rng.randbytes(rng.randrange(126)))
        elif kind < 0.9:
            out += frame(rng.choice([9, 10]), rng.randbytes(rng.randrange(126)))
        elif kind < 0.93:  # a fragmented message over the size limit in total
            out += frame(2, b"a" * (LIMIT // 2 + 1), fin=False) + frame(0, b"b" * (LIMIT // 2 + 1))
        elif kind < 0.96:  # a close: what follows is discarded
            out += frame(8, struct.pack("!H", 1000) + b"bye") + frame(1, b"after the close")
    end = rng.random()
    if end < 0.25:
        out += rng.choice(FATAL) + frame(1, b"after a fatal frame")
    elif end < 0.3:
        out += frame(2, b"truncated")[:-3]  # the stream ends inside a frame
    return bytes(out)


def pieces_of(rng: random.Random, data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        n = rng.choice([1, 2, 3, 7, 64, 1000, 65536, len(data)])
        out.append(data[pos : pos + n])
        pos += n
    return out


@dataclass
class Outcome:
    messages: list[Message] = field(default_factory=list)
    replies: list[tuple[Opcode, bytes]] = field(default_factory=list)  # frames the client wrote


def reference(stream: bytes) -> tuple[Outcome, ClientProtocol]:
    """websockets' ClientProtocol with the same stream in one piece."""
    client = ClientProtocol(parse_uri("ws://fuzz/"), max_size=LIMIT)
    client.send_request(client.connect())
    server = ServerProtocol()
    server.receive_data(b"".join(client.data_to_send()))
    server.send_response(server.accept(server.events_received()[0]))  # type: ignore[arg-type]
    client.receive_data(b"".join(server.data_to_send()) + stream)
    outcome = Outcome()
    parts: list[bytes] = []
    text = False
    for event in client.events_received():
        if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            if event.opcode is not Opcode.CONT:
                text = event.opcode is Opcode.TEXT
            parts.append(bytes(event.data))
            if event.fin:
                data = b"".join(parts)
                outcome.messages.append(data.decode() if text else data)
                parts = []
    client.receive_eof()
    outcome.replies = written(server, b"".join(client.data_to_send()))
    return outcome, client


def written(server: ServerProtocol, data: bytes) -> list[tuple[Opcode, bytes]]:
    server.receive_data(data)
    return [(e.opcode, bytes(e.data)) for e in server.events_received() if isinstance(e, Frame)]


def drain(sock: socket.socket) -> bytes:
    out = bytearray()
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return bytes(out)
        if not chunk:
            return bytes(out)
        out += chunk


async def ours(rng: random.Random, stream: bytes) -> tuple[Outcome, ClientProtocol]:
    """Our transport on a real socket pair, the stream in random pieces."""
    mine, peer = socket.socketpair()
    peer.setblocking(False)
    protocol = ClientProtocol(parse_uri("ws://fuzz/"), max_size=LIMIT)
    protocol.send_request(protocol.connect())
    outcome = Outcome()
    loop = asyncio.get_running_loop()
    _, ws = await loop.create_connection(lambda: WebSocket(protocol), sock=mine)
    try:
        ws.set_handler(outcome.messages.extend)
        await asyncio.sleep(0)
        server = ServerProtocol()
        server.receive_data(drain(peer))
        server.send_response(server.accept(server.events_received()[0]))  # type: ignore[arg-type]
        head = b"".join(server.data_to_send())
        # The handshake's end and the first frames may share a read, or not.
        for piece in pieces_of(rng, head + stream):
            ws.data_received(piece)
        ws.eof_received()
        await asyncio.sleep(0)
        outcome.replies = written(server, drain(peer))
        return outcome, protocol
    finally:
        ws.abort()
        peer.close()


async def test_transport_framing_equals_websockets_parser_for_any_split() -> None:
    rng = random.Random(2024)
    for case in range(250):
        stream = stream_of(rng)
        expected, ref = reference(stream)
        got, protocol = await ours(rng, stream)
        assert got.messages == expected.messages, f"case {case}"
        assert got.replies == expected.replies, f"case {case}"
        sent = (protocol.close_sent.code if protocol.close_sent else None, protocol.close_rcvd)
        assert sent == (ref.close_sent.code if ref.close_sent else None, ref.close_rcvd), f"case {case}"


# ---- against a real websockets server --------------------------------------------------


@dataclass
class Peer:
    url: str
    closed: list[int | None]


@contextlib.asynccontextmanager
async def peer_with(script: Callable[[ServerConnection], Awaitable[None]]) -> AsyncIterator[Peer]:
    closed: list[int | None] = []

    async def handler(conn: ServerConnection) -> None:
        await script(conn)
        await conn.wait_closed()
        closed.append(conn.close_code)

    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield Peer(f"ws://127.0.0.1:{port}/", closed)


async def received(ws: WebSocket, count: int) -> list[Message]:
    got: list[Message] = []
    got.extend(ws.set_handler(got.extend))  # those that came before, then the rest
    for _ in range(500):
        if len(got) >= count:
            break
        await asyncio.sleep(0.01)
    return got


async def test_fragments_pings_and_large_frames_from_a_websockets_server() -> None:
    big = bytes(range(256)) * 400  # 102,400 bytes: a 64-bit length

    async def script(conn: ServerConnection) -> None:
        await conn.send("first")
        await conn.send(["frag", "mented ", "é"])  # an iterable: one message in fragments
        await asyncio.wait_for(await conn.ping(b"are you there"), 5)  # our pong answers it
        await conn.send(big)
        await conn.send("x" * 40_000)  # a 16-bit length
        await conn.close(4000, "done")

    async with peer_with(script) as peer:
        ws = await open_websocket(peer.url, max_size=1 << 20)
        got = await received(ws, 4)
        assert got == ["first", "fragmented é", big, "x" * 40_000]
        assert await asyncio.wait_for(ws.closed, 5) == (4000, "done")
        await ws.close()


async def test_invalid_utf8_and_oversized_messages_close_with_their_codes() -> None:
    async def bad_text(conn: ServerConnection) -> None:
        await conn.send("fine")
        await conn.send(b"\xc3\x28 not utf-8", text=True)

    async def too_big(conn: ServerConnection) -> None:
        await conn.send("fine")
        await conn.send("y" * 2000)

    for script, code, max_size in ((bad_text, 1007, 1 << 20), (too_big, 1009, 1000)):
        async with peer_with(script) as peer:
            ws = await open_websocket(peer.url, max_size=max_size)
            got = await received(ws, 1)
            await asyncio.wait_for(ws.closed, 5)
            assert got == ["fine"]
            for _ in range(200):
                if peer.closed:
                    break
                await asyncio.sleep(0.01)
            assert peer.closed == [code]
            with pytest.raises(ConnectionLost):
                await ws.send("after the failure")
            ws.abort()


def tls_contexts(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts around a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    client = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
    return server, client


async def test_messages_split_across_tls_records(tmp_path: Path) -> None:
    """Over TLS, reads end where decrypted records end, not where frames do."""
    rng = random.Random(9)
    messages: list[Message] = [
        text_of(rng, n).decode() if i % 2 else rng.randbytes(n)
        for i, n in enumerate(rng.choice([10, 125, 126, 5000, 16_384, 40_000, 70_000]) for _ in range(60))
    ]
    server_ctx, client_ctx = tls_contexts(tmp_path)

    async def handler(conn: ServerConnection) -> None:
        for message in messages:
            await conn.send(message)
        await conn.close(1000, "all sent")

    async with serve(handler, "127.0.0.1", 0, ssl=server_ctx, compression=None, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        ws = await open_websocket(f"wss://127.0.0.1:{port}/", max_size=1 << 20, ssl_context=client_ctx)
        got = await received(ws, len(messages))
        assert await asyncio.wait_for(ws.closed, 5) == (1000, "all sent")
        assert got == messages
        await ws.close()
