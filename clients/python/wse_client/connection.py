"""One WebSocket session: open it, run the WSE handshake, hand it to the client.

open_session() dials one URL and returns once the connection is usable:
server_ready received (its details kept), client_hello sent and, with
encryption, server_hello received and the AES key agreed. Frames that arrive
during the handshake are kept in ``Session.early`` for the client to process
in order. Errors: WSEAuthError (4401/4403, HTTP 401/403, AUTH_* error frame),
WSEEncryptionError, WSETimeoutError, WSEConnectionError for everything else.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from wse_client.compression import CompressionHandler
from wse_client.constants import (
    AUTH_CLOSE_CODES,
    CLIENT_VERSION,
    DEFAULT_JWT_COOKIE_NAME,
    HANDSHAKE_TIMEOUT,
    MAX_MESSAGE_SIZE,
    OPEN_TIMEOUT,
    PROTOCOL_VERSION,
)
from wse_client.errors import (
    WSEAuthError,
    WSEConnectionError,
    WSEEncryptionError,
    WSEError,
    WSEProtocolError,
    WSETimeoutError,
)
from wse_client.msgpack_handler import MsgPackHandler
from wse_client.protocol import MessageCodec
from wse_client.security import SecurityManager
from wse_client.transport import ConnectionLost, WebSocket, open_websocket

log = logging.getLogger("wse_client")

_AUTH_ERROR_CODES = frozenset(
    {"AUTH_REQUIRED", "AUTH_FAILED", "AUTH_EXPIRED", "FORBIDDEN", "ORIGIN_NOT_ALLOWED"}
)


@dataclass(frozen=True, slots=True)
class SessionOptions:
    token: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    encryption: bool = False
    msgpack: bool = False
    compression: bool = True
    compress_outbound: bool = False
    open_timeout: float = OPEN_TIMEOUT
    handshake_timeout: float = HANDSHAKE_TIMEOUT
    max_message_size: int = MAX_MESSAGE_SIZE


@dataclass(slots=True)
class Session:
    url: str
    ws: WebSocket
    codec: MessageCodec
    details: dict[str, Any]
    connection_id: str | None
    user_id: str | None
    native_dialect: bool  # our server: per-connection seq from 0, server_hello, acks
    encrypted: bool
    handshake_ms: float
    early: list[str | bytes] = field(default_factory=list)
    server_hello: dict[str, Any] | None = None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_envelope(msg_type: str, payload: Any = None, **extra: Any) -> dict[str, Any]:
    env: dict[str, Any] = {"t": msg_type, "p": {} if payload is None else payload}
    env["id"] = str(uuid.uuid4())
    env["ts"] = now_iso()
    env["v"] = PROTOCOL_VERSION
    for key, value in extra.items():
        if value is not None:
            env[key] = value
    return env


def session_url(url: str, opts: SessionOptions) -> str:
    """The URL with our query parameters added (existing ones are kept and win)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise WSEConnectionError(f"invalid URL {url!r}: {exc}") from exc
    if parts.scheme not in ("ws", "wss"):
        raise WSEConnectionError(f"URL must start with ws:// or wss://, got {url!r}")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    ours = {
        "client_version": CLIENT_VERSION,
        "protocol_version": str(PROTOCOL_VERSION),
        "compression": "true" if opts.compression else "false",
        "encryption": "true" if opts.encryption else "false",
    }
    if opts.msgpack:
        ours["format"] = "msgpack"
    for key, value in ours.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def auth_headers(opts: SessionOptions) -> list[tuple[str, str]]:
    headers = list(opts.extra_headers)
    if opts.token and opts.token != "cookie":
        headers.append(("Authorization", f"Bearer {opts.token}"))
        headers.append(("Cookie", f"{DEFAULT_JWT_COOKIE_NAME}={opts.token}"))
    return headers


def _auth_error_from(env: dict[str, Any]) -> WSEAuthError | None:
    if env.get("t") != "error":
        return None
    p = env.get("p") if isinstance(env.get("p"), dict) else {}
    assert isinstance(p, dict)
    code = str(p.get("code", ""))
    if code in _AUTH_ERROR_CODES:
        return WSEAuthError(f"authentication failed: {code}: {p.get('message', '')}", code=code)
    return None


def _closed_error(exc: ConnectionLost, during: str) -> WSEConnectionError:
    if exc.code in AUTH_CLOSE_CODES:
        return WSEAuthError(
            f"authentication failed: server closed with {exc.code} {exc.reason!r}", close_code=exc.code
        )
    return WSEConnectionError(f"connection closed during {during} (code {exc.code})")


async def _recv_envelope(
    session_ws: WebSocket, codec: MessageCodec, deadline: float, during: str
) -> tuple[str | bytes, dict[str, Any] | None]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    try:
        frame = await asyncio.wait_for(session_ws.recv(), remaining)
    except ConnectionLost as exc:
        raise _closed_error(exc, during) from exc
    try:
        body, _, _ = codec.decode(frame)
    except WSEError:
        return frame, None
    return frame, body if isinstance(body, dict) else None


async def open_session(url: str, opts: SessionOptions) -> Session:
    full_url = session_url(url, opts)
    started = time.monotonic()
    try:
        ws = await open_websocket(
            full_url,
            headers=auth_headers(opts),
            max_size=opts.max_message_size,
            open_timeout=opts.open_timeout,
            user_agent=f"wse-client/{CLIENT_VERSION}",
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise WSEAuthError(f"authentication failed: HTTP {status}", code=f"HTTP_{status}") from exc
        raise WSEConnectionError(f"{url}: upgrade refused with HTTP {status}") from exc
    except (InvalidHandshake, InvalidURI) as exc:
        raise WSEConnectionError(f"{url}: WebSocket handshake failed: {exc}") from exc
    except TimeoutError as exc:
        raise WSETimeoutError(f"{url}: no WebSocket upgrade within {opts.open_timeout}s") from exc
    except ConnectionLost as exc:
        raise WSEConnectionError(f"{url}: connection closed during the upgrade (code {exc.code})") from exc
    except OSError as exc:
        raise WSEConnectionError(f"{url}: cannot connect: {exc}") from exc
    try:
        return await _handshake(url, ws, opts, started)
    except BaseException:
        ws.abort()
        raise


async def _handshake(url: str, ws: WebSocket, opts: SessionOptions, started: float) -> Session:
    codec = MessageCodec(
        CompressionHandler(max_size=opts.max_message_size),
        MsgPackHandler() if opts.msgpack else None,
        compress_outbound=opts.compress_outbound,
    )
    security = SecurityManager() if opts.encryption else None
    deadline = time.monotonic() + opts.handshake_timeout  # from the completed upgrade
    early: list[str | bytes] = []
    ready: dict[str, Any] | None = None
    try:
        while ready is None:
            frame, env = await _recv_envelope(ws, codec, deadline, "the handshake")
            if env is not None:
                if (auth := _auth_error_from(env)) is not None:
                    raise auth
                if env.get("t") == "server_ready":
                    ready = env
                    continue
            early.append(frame)
    except TimeoutError:
        # server_ready opens every usable connection (PROTOCOL.md 2.3). A server that
        # never sends it is not ready for us (the 1.4.2 engine stays silent to a
        # connection without credentials), so this attempt fails.
        raise WSETimeoutError(f"{url}: no server_ready within {opts.handshake_timeout}s") from None
    p = ready.get("p") if isinstance(ready.get("p"), dict) else {}
    assert isinstance(p, dict)
    details = p.get("details") if isinstance(p.get("details"), dict) else p
    assert isinstance(details, dict)
    conn_id = details.get("connection_id", p.get("connection_id"))
    user_id = details.get("user_id")
    hello_p: dict[str, Any] = {
        "client_version": CLIENT_VERSION,
        "protocol_version": PROTOCOL_VERSION,
        "features": {
            "compression": opts.compression,
            "encryption": opts.encryption,
            "msgpack": opts.msgpack,
            "batching": True,
            "offline_queue": True,
            "health_check": True,
        },
        "connection_id": conn_id,
    }
    if security is not None:
        server_key = details.get("encryption_public_key") or p.get("encryption_public_key")
        if not isinstance(server_key, str) or not server_key:
            raise WSEEncryptionError(
                f"{url}: encryption was requested but the server offers none "
                "(no encryption_public_key in server_ready)"
            )
        security.derive(server_key)
        hello_p["encryption_public_key"] = security.public_key_b64
        codec.security = security
    await ws.send(codec.encode(new_envelope("client_hello", hello_p, pri=10)))
    session = Session(
        url=url,
        ws=ws,
        codec=codec,
        details=details,
        connection_id=str(conn_id) if conn_id is not None else None,
        user_id=str(user_id) if user_id is not None else None,
        native_dialect="server_version" in details,
        encrypted=False,
        handshake_ms=0.0,
        early=early,
    )
    if security is not None:
        await _await_encrypted_hello(session, deadline)
    session.handshake_ms = (time.monotonic() - started) * 1000
    return session


async def _await_encrypted_hello(session: Session, deadline: float) -> None:
    """Waits for server_hello; it must confirm encryption. Plaintext frames before it are kept."""
    try:
        while True:
            frame, env = await _recv_envelope(session.ws, session.codec, deadline, "the key exchange")
            if env is None:
                session.early.append(frame)
                continue
            t = env.get("t")
            p = env.get("p") if isinstance(env.get("p"), dict) else {}
            assert isinstance(p, dict)
            if t == "error" and p.get("code") == "ENCRYPTION_FAILED":
                raise WSEEncryptionError(f"{session.url}: server refused our key: {p.get('message')}")
            if t != "server_hello":
                session.early.append(frame)
                continue
            features = p.get("features") if isinstance(p.get("features"), dict) else {}
            assert isinstance(features, dict)
            if features.get("encryption") is not True:
                raise WSEEncryptionError(f"{session.url}: server_hello does not confirm encryption")
            session.server_hello = env
            session.encrypted = True
            session.codec.encrypt_outbound = True
            return
    except TimeoutError:
        raise WSEEncryptionError(f"{session.url}: no server_hello to confirm encryption") from None
    except WSEProtocolError as exc:
        raise WSEEncryptionError(f"{session.url}: key exchange failed: {exc}") from exc
