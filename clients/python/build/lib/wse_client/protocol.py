"""MessageCodec: frames <-> envelopes (docs/PROTOCOL.md 3 and 4).

Inbound: text ``WSE{..}``/``S{..}``/``U{..}``/``{..}`` and the legacy ``PING:<ms>``
and ``PONG:<ms>`` forms; binary ``E:`` (decrypted, then decoded again), ``C:``
(inflated), ``M:`` (MessagePack), bare zlib, and prefixed JSON in a binary frame
(what the 1.4.2 engine sends). Outbound: prefixed JSON text, or ``E:``/``C:``.
Pure functions of bytes apart from the optional crypto session.
"""

from __future__ import annotations

from typing import Any

from wse_client import _json
from wse_client._spec import (
    MARKER_COMPRESSED,
    MARKER_ENCRYPTED,
    MARKER_MSGPACK,
    MESSAGE_CATEGORIES,
    PREFIX_SNAPSHOT,
    PREFIX_SYSTEM,
    PREFIX_UPDATE,
    SNAPSHOT_CONTAINS,
    SNAPSHOT_STARTS_WITH,
    SYSTEM_MESSAGE_TYPES,
)
from wse_client.compression import CompressionHandler
from wse_client.errors import WSEProtocolError
from wse_client.msgpack_handler import MsgPackHandler
from wse_client.security import SecurityManager
from wse_client.types import WSEEvent

Envelope = dict[str, Any]


def category_for(msg_type: str) -> str:
    """Category prefix of an outbound message type: the spec's table, then the server's rule."""
    cat = MESSAGE_CATEGORIES.get(msg_type)
    if cat is not None:
        return cat
    if SNAPSHOT_CONTAINS in msg_type or msg_type.startswith(SNAPSHOT_STARTS_WITH):
        return PREFIX_SNAPSHOT
    if msg_type in SYSTEM_MESSAGE_TYPES:
        return PREFIX_SYSTEM
    return PREFIX_UPDATE


def _is_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] == 0x78 and ((data[0] << 8) | data[1]) % 31 == 0


class MessageCodec:
    """Decodes frames into (envelope, category, encrypted) and encodes envelopes into frames."""

    def __init__(
        self,
        compression: CompressionHandler | None = None,
        msgpack: MsgPackHandler | None = None,
        security: SecurityManager | None = None,
        *,
        compress_outbound: bool = False,
    ) -> None:
        self.compression = compression or CompressionHandler()
        self.msgpack = msgpack
        self.security = security
        self.compress_outbound = compress_outbound
        # Set once the server confirmed encryption (server_hello): from then on every
        # outbound data frame is E: and inbound plaintext data frames are refused.
        self.encrypt_outbound = False

    # ---- inbound ----------------------------------------------------------

    def decode(self, frame: str | bytes) -> tuple[Any, str | None, bool]:
        """(envelope or list of envelopes, category, was_encrypted). Raises WSEProtocolError."""
        if isinstance(frame, str):
            body, cat = self.decode_text(frame)
            return body, cat, False
        return self.decode_binary(frame, allow_encrypted=True)

    def decode_text(self, text: str) -> tuple[Any, str | None]:
        first = text[:1]
        if first in {"U", "S"}:
            cat: str | None = first
            body = text[1:]
        elif text.startswith("WSE"):
            if text.startswith("WSE:"):
                return self._legacy(text[4:]), PREFIX_SYSTEM
            cat, body = PREFIX_SYSTEM, text[3:]
        elif first in {"{", "["}:
            cat, body = None, text
        elif text[:5].upper() in ("PING:", "PONG:"):
            return self._legacy(text), PREFIX_SYSTEM
        else:
            raise WSEProtocolError(f"text frame is not prefixed JSON: {text[:40]!r}")
        try:
            value = _json.loads(body)
        except ValueError as exc:
            raise WSEProtocolError(f"invalid JSON in text frame: {exc}") from exc
        if not isinstance(value, dict | list):
            raise WSEProtocolError(f"JSON frame holds a {type(value).__name__}, not an object")
        return value, cat

    @staticmethod
    def _legacy(text: str) -> Envelope:
        kind, _, stamp = text.partition(":")
        try:
            ms = int(stamp)
        except ValueError:
            ms = 0
        return {"t": kind.upper(), "p": {"timestamp": ms, "legacy": True}}

    def decode_binary(self, data: bytes, *, allow_encrypted: bool) -> tuple[Any, str | None, bool]:
        marker = data[:2]
        if marker == MARKER_ENCRYPTED:
            if not allow_encrypted:
                raise WSEProtocolError("E: frame nested inside an E: frame")
            if self.security is None:
                raise WSEProtocolError("E: frame on a connection without encryption")
            plain = self.security.decrypt(data[2:])
            body, cat, _ = self.decode_binary(plain, allow_encrypted=False)
            return body, cat, True
        if marker == MARKER_COMPRESSED:
            return self._text_bytes(self.compression.decompress(data[2:]))
        if marker == MARKER_MSGPACK:
            if self.msgpack is None:
                self.msgpack = MsgPackHandler()
            return self.msgpack.decode(data[2:]), None, False
        if _is_zlib_header(data):
            return self._text_bytes(self.compression.decompress(data))
        return self._text_bytes(data)

    def _text_bytes(self, data: bytes) -> tuple[Any, str | None, bool]:
        try:
            text = data.decode()
        except UnicodeDecodeError as exc:
            raise WSEProtocolError("binary frame is neither a known marker nor UTF-8 JSON") from exc
        body, cat = self.decode_text(text)
        return body, cat, False

    # ---- outbound ---------------------------------------------------------

    def encode(self, envelope: Envelope, category: str | None = None) -> str | bytes:
        cat = category if category is not None else category_for(str(envelope.get("t", "")))
        text = cat + _json.dumps(envelope)
        if self.encrypt_outbound and self.security is not None:
            return MARKER_ENCRYPTED + self.security.encrypt(text.encode())
        if self.compress_outbound:
            raw = text.encode()
            if self.compression.should_compress(raw):
                return MARKER_COMPRESSED + self.compression.compress(raw)
        return text


_tuple_new = tuple.__new__  # skips NamedTuple.__new__'s argument parsing


def to_event(envelope: Envelope, category: str | None) -> WSEEvent:
    """The WSEEvent of one decoded envelope. Short keys win over long ones. Hot path."""
    get = envelope.get
    msg_type = get("t")
    if msg_type is None:
        msg_type = get("type", "unknown")
    payload = get("p")
    if payload is None:
        payload = get("payload", {})
    if type(payload) is not dict:
        payload = {"data": payload}
    seq = get("seq")
    msg_id = get("id")
    if msg_id is not None and type(msg_id) is not str:
        msg_id = str(msg_id)
    topic = get("topic")
    version = get("v", 1)
    pri = get("pri")
    cid = get("cid")
    return _tuple_new(
        WSEEvent,
        (
            msg_type if type(msg_type) is str else str(msg_type),
            payload,
            msg_id,
            seq if type(seq) is int else None,
            get("ts"),
            version if type(version) is int else 1,
            category,
            pri if type(pri) is int else None,
            cid if cid is None or type(cid) is str else str(cid),
            get("sig"),
            topic if type(topic) is str else None,
            envelope,
        ),
    )
