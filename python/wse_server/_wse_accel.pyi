"""Native core of WSE (private; import from wse_server instead)."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias

__all__: list[str] = [
    "PriorityQueue",
    "PriorityMessageQueue",
    "RustPriorityQueue",
    "RustPriorityMessageQueue",
    "TokenBucket",
    "RustTokenBucket",
    "Sequencer",
    "EventSequencer",
    "RustSequencer",
    "RustEventSequencer",
    "compress",
    "rust_compress",
    "decompress",
    "rust_decompress",
    "should_compress",
    "rust_should_compress",
    "CompressionManager",
    "RustCompressionManager",
    "aes_gcm_encrypt",
    "rust_aes_gcm_encrypt",
    "aes_gcm_decrypt",
    "rust_aes_gcm_decrypt",
    "ecdh_generate_keypair",
    "rust_ecdh_generate_keypair",
    "ecdh_derive_shared_secret",
    "rust_ecdh_derive_shared_secret",
    "hmac_sha256",
    "rust_hmac_sha256",
    "sha256",
    "rust_sha256",
    "sign_message",
    "rust_sign_message",
    "jwt_encode",
    "rust_jwt_encode",
    "jwt_decode",
    "rust_jwt_decode",
    "match_event",
    "rust_match_event",
    "transform_event",
    "rust_transform_event",
    "WSEServer",
    "RustWSEServer",
]

class PriorityQueue:
    """
    Bounded priority queue of any objects: higher priority first, FIFO among equals.
    """

    def __init__(self, max_size: int = 1000) -> None:
        """ValueError unless max_size > 0."""

    def push(self, priority: int, message: Any) -> bool:
        """Adds a message; False when the queue is full."""

    def pop(self) -> Any:
        """The highest-priority message, or None when empty."""

    def drain(self, max_count: int) -> list[Any]:
        """Up to max_count messages in order."""

    def len(self) -> int:
        """Current number of messages."""

    def __len__(self) -> int: ...
    def is_full(self) -> bool: ...
    def is_empty(self) -> bool: ...
    def clear(self) -> None: ...

class PriorityMessageQueue:
    """
    Five-level message queue (10, 8, 5, 3, 1) with smart dropping when full and batch dequeue.
    Other priorities snap to the nearest level (ties go up). When full, the oldest message of the
    lowest non-empty level among BACKGROUND/LOW/NORMAL is evicted to make room; when only HIGH and
    CRITICAL messages are queued the arrival is refused. HIGH and CRITICAL are never evicted.
    """

    def __init__(self, max_size: int = 1000, batch_size: int = 10) -> None: ...
    def enqueue(self, message: Any, priority: int = 5) -> bool:
        """True if accepted (possibly after evicting a lower message)."""

    def dequeue_batch(self) -> list[tuple[int, Any]]:
        """
        Up to batch_size (priority, message) tuples, highest level first, FIFO within a level.
        """

    @property
    def size(self) -> int:
        """Current number of messages."""

    def __len__(self) -> int: ...
    def clear(self) -> None:
        """Empties the queue and resets the drop counters."""

    def get_stats(self) -> dict[str, Any]:
        """
        size, capacity, utilization_percent, priority_distribution, priority_queue_depths,
        dropped_by_priority, total_dropped, backpressure, oldest_message_age, processing_rate.
        """

RustPriorityQueue: TypeAlias = PriorityQueue

RustPriorityMessageQueue: TypeAlias = PriorityMessageQueue

class TokenBucket:
    """
    Token bucket rate limiter with continuous time-based refill (monotonic clock).
    """

    def __init__(self, capacity: float, refill_rate: float, initial_tokens: float | None = None) -> None:
        """
        capacity > 0 tokens, refill_rate >= 0 tokens per second, initial_tokens defaults to capacity.
        """

    def acquire(self, tokens: float = 1.0) -> bool:
        """
        Takes `tokens` if available and returns True; otherwise leaves the bucket as is.
        """

    @property
    def tokens(self) -> float:
        """Tokens available now (after refill)."""

    @property
    def capacity(self) -> float: ...
    @property
    def refill_rate(self) -> float: ...
    def reset(self) -> None:
        """Refills to capacity."""

RustTokenBucket: TypeAlias = TokenBucket

class Sequencer:
    """Monotonic counter with sliding-window duplicate detection."""

    def __init__(self, window_size: int = 10000) -> None: ...
    def next_seq(self) -> int:
        """Increments and returns the counter (1, 2, ...)."""

    def get_current_seq(self) -> int: ...
    def is_duplicate(self, event_id: str | int) -> bool:
        """
        True if the id is in the window; otherwise records it and returns False.
        """

    def cleanup(self, max_age_secs: float = 300.0) -> None:
        """Forgets ids recorded more than max_age_secs ago."""

    def seen_count(self) -> int: ...

class EventSequencer:
    """
    Per-topic ordered delivery with out-of-order buffering and gap detection
    (see docs/UTILITIES.md for the exact rules).
    """

    def __init__(self, window_size: int = 10000, max_out_of_order: int = 100) -> None: ...
    def next_seq(self) -> int: ...
    def get_current_sequence(self) -> int: ...
    def is_duplicate(self, event_id: str | int) -> bool: ...
    def process_sequenced_event(self, topic: str, sequence: int, event: Any) -> list[Any] | None:
        """
        Events to deliver now, in order, or None when the event was buffered or rejected.
        """

    def reset_sequence(self, topic: str | None = None) -> None:
        """Forgets one topic, or all topics when topic is None."""

    def get_sequence_stats(self) -> dict[str, Any]: ...
    def get_buffer_stats(self) -> dict[str, Any]: ...
    def cleanup(self) -> None:
        """
        Drops buffered events older than 5 minutes, forgets idle topics, trims the id window.
        """

RustSequencer: TypeAlias = Sequencer

RustEventSequencer: TypeAlias = EventSequencer

def compress(data: bytes | bytearray | memoryview, level: int = 6) -> bytes:
    """zlib stream (RFC 1950) of data at level 0-9 (ValueError otherwise)."""

def decompress(data: bytes | bytearray | memoryview, max_size: int = 67108864) -> bytes:
    """
    Inflates a zlib stream. ValueError for corrupt or truncated data, or when the output would
    exceed max_size bytes (decompression bombs).
    """

def should_compress(data: bytes | bytearray | memoryview, threshold: int = 1024) -> bool:
    """len(data) > threshold."""

class CompressionManager:
    """
    zlib compression and msgpack packing with statistics. Not thread-safe beyond
    the GIL (each call is atomic).
    """

    def __init__(
        self, threshold: int = 1024, compression_level: int = 6, max_decompressed_size: int = 67108864
    ) -> None: ...
    def should_compress(self, data: bytes | bytearray | memoryview) -> bool: ...
    def compress(self, data: bytes | bytearray | memoryview, level: int | None = None) -> bytes: ...
    def decompress(self, data: bytes | bytearray | memoryview) -> bytes:
        """
        ValueError for corrupt data or output over max_decompressed_size (counted as a failure).
        """

    def pack_msgpack(self, obj: Any) -> bytes: ...
    def unpack_msgpack(self, data: bytes | bytearray | memoryview) -> Any:
        """ValueError for invalid msgpack."""

    def pack_event(self, event: Any, use_msgpack: bool = True) -> bytes:
        """
        msgpack, or compact JSON (UUID/datetime/Decimal/Enum converted) with use_msgpack=False.
        """

    def unpack_event(self, data: bytes | bytearray | memoryview, is_msgpack: bool = True) -> Any:
        """
        Inverse of pack_event. With is_msgpack, data that is not one complete msgpack object is
        decoded as JSON (the fallback); ValueError when neither decodes.
        """

    def get_stats(self) -> dict[str, Any]: ...
    def reset_stats(self) -> None: ...

rust_compress = compress

rust_decompress = decompress

rust_should_compress = should_compress

RustCompressionManager: TypeAlias = CompressionManager

def aes_gcm_encrypt(key: bytes | bytearray | memoryview, plaintext: bytes | bytearray | memoryview) -> bytes:
    """
    AES-256-GCM: returns nonce(12) || ciphertext || tag(16) with a random nonce.
    ValueError if the key is not 32 bytes.
    """

def aes_gcm_decrypt(key: bytes | bytearray | memoryview, data: bytes | bytearray | memoryview) -> bytes:
    """
    Inverse of aes_gcm_encrypt. ValueError for input shorter than 28 bytes or a key that is not
    32 bytes; RuntimeError when authentication fails (tampered, truncated or wrong key).
    """

def ecdh_generate_keypair() -> tuple[bytes, bytes]:
    """
    A fresh P-256 key pair: (private 32-byte scalar, public 65-byte uncompressed SEC1).
    """

def ecdh_derive_shared_secret(
    private_key: bytes | bytearray | memoryview, peer_public_key: bytes | bytearray | memoryview
) -> bytes:
    """
    ECDH on P-256, then HKDF-SHA256(salt=b'wse-encryption', info=b'aes-gcm-key') to a 32-byte
    AES key. ValueError for a malformed private key or a peer key not on the curve.
    """

def hmac_sha256(key: bytes | bytearray | memoryview, data: bytes | bytearray | memoryview) -> bytes:
    """HMAC-SHA256 (32 bytes)."""

def sha256(data: bytes | bytearray | memoryview) -> str:
    """SHA-256 as a lowercase hex string."""

def sign_message(payload_json: str, secret: bytes | bytearray | memoryview) -> str:
    """Hex HMAC-SHA256(secret, hex SHA-256 of the UTF-8 payload)."""

rust_aes_gcm_encrypt = aes_gcm_encrypt

rust_aes_gcm_decrypt = aes_gcm_decrypt

rust_ecdh_generate_keypair = ecdh_generate_keypair

rust_ecdh_derive_shared_secret = ecdh_derive_shared_secret

rust_hmac_sha256 = hmac_sha256

rust_sha256 = sha256

rust_sign_message = sign_message

def jwt_encode(claims: dict[str, Any], secret: bytes | str, algorithm: str = "HS256") -> str:
    """
    Signs claims (serialized with sorted keys) as an HS256 JWT. ValueError for another algorithm,
    TypeError for claims that cannot be serialized.
    """

def jwt_decode(
    token: str | bytes,
    secret: bytes | str,
    algorithm: str = "HS256",
    issuer: str | None = None,
    audience: str | None = None,
) -> dict[str, Any] | None:
    """
    Verifies an HS256 JWT and returns its claims, or None on any failure: bad format or
    signature, another algorithm, missing or past exp, nbf more than 5 minutes ahead, and iss/aud
    mismatch when issuer/audience are given (aud may be a string or a list).
    """

rust_jwt_encode = jwt_encode

rust_jwt_decode = jwt_decode

def match_event(event: dict[str, Any], criteria: dict[str, Any]) -> bool:
    """
    MongoDB-style filter: dotted paths (list indexes allowed), implicit AND, $and/$or, and the
    operators $eq $ne $gt $gte $lt $lte $in $nin $exists $regex (RE2, search, $options i/m/s)
    $contains $startswith $endswith $not. Incomparable values do not match; an unknown operator,
    a non-list $in/$nin/$and/$or or an invalid regex raises ValueError.
    """

def transform_event(
    event: dict[str, Any], sequence: int, event_type_map: dict[str, str] | None = None
) -> dict[str, Any]:
    """
    Wraps a domain event in the wire envelope: t (mapped or lower-cased type), p (JSON-safe
    payload), id (event_id or a new UUIDv7), ts (ISO-8601 UTC), seq, v=1, original_event_type when
    mapped, cid/pri/trace_id when given (also from _metadata). Envelopes are returned unchanged.
    """

rust_match_event = match_event

rust_transform_event = transform_event

class WSEServer:
    """
    The standalone WebSocket server: accept, upgrade, JWT, framing, ping/pong, rate limiting,
    compression and topic fan-out run on native I/O threads; Python steers it and drains
    inbound events in batches. See docs/PROTOCOL.md for the wire protocol and README.md
    for every option and its default.
    """

    def __init__(
        self,
        host: str,
        port: int,
        max_connections: int = 1000,
        jwt_secret: bytes | str | None = None,
        jwt_issuer: str | None = None,
        jwt_audience: str | None = None,
        max_inbound_queue_size: int = 131072,
        *,
        io_threads: int = 0,
        max_message_size: int = 1048576,
        max_outbound_bytes: int = 4194304,
        slow_consumer: str = "close",
        heartbeat_interval: float = 15.0,
        idle_timeout: float = 90.0,
        rate_limit_capacity: float = 10000.0,
        rate_limit_refill: float = 10000.0,
        compression_level: int = 1,
        subscription_policy: Sequence[str] | None = None,
        allowed_origins: Sequence[str] = [],
        auth_reject_http: bool = False,
        handshake_timeout: float = 10.0,
        coalesce_bursts: bool = True,
        encryption: bool = True,
    ) -> None:
        """
        Creates a stopped server. Raises ValueError on an invalid option. jwt_secret (bytes or str)
        enables HS256 JWT checks on upgrade; port 0 picks a free port (see .port after start()).
        encryption=True offers ECDH + AES-GCM to clients that connect with ?encryption=true.
        """

    def start(self) -> None:
        """
        Binds, listens and starts the I/O threads. RuntimeError if already running or the port is taken.
        """

    def stop(self) -> None:
        """
        Graceful stop: close frames (1012) to every client, flush, join the threads. Idempotent.
        start() may be called again afterwards.
        """

    def is_running(self) -> bool: ...
    @property
    def port(self) -> int:
        """The bound port (0 before start())."""

    def enable_drain_mode(self) -> None:
        """
        Deliver inbound events through drain_inbound() only, never through callbacks (the default
        when no callbacks are set).
        """

    def set_callbacks(
        self,
        on_connect: Callable[[str, Any], object],
        on_message: Callable[[str, Any], object],
        on_disconnect: Callable[[str], object],
    ) -> None:
        """
        Callback mode: on_connect(conn_id, user_id_or_cookie), on_message(conn_id, dict|str|bytes),
        on_disconnect(conn_id), called from one native thread holding the GIL.
        """

    def drain_inbound(self, max_count: int = 256, timeout_ms: int = 50) -> list[tuple[str, str, Any]]:
        """
        Waits up to timeout_ms (GIL released) for events, then returns up to max_count tuples
        (kind, conn_id, data), kind in auth_connect/connect/msg/raw/bin/disconnect; [] on timeout.
        """

    def send(self, conn_id: str, text: str) -> bool:
        """
        Queues one text frame, verbatim. False if the connection is unknown or closed.
        """

    def send_many(self, messages: Iterable[tuple[str, str | bytes | bytearray | memoryview]]) -> int:
        """
        Queues many frames in one call: (conn_id, data) pairs, str data as a text frame, bytes as
        binary, each connection's in list order. Pairs for unknown or closed connections are skipped.
        Returns how many were queued.
        """

    def send_bytes(self, conn_id: str, data: bytes | bytearray | memoryview) -> bool:
        """
        Queues one binary frame, verbatim. False if the connection is unknown or closed.
        """

    def send_event(self, conn_id: str, event: dict[str, Any], compression_threshold: int = 1024) -> int:
        """
        Wraps the event in the envelope (id, ts, per-connection seq, v), picks its category prefix,
        compresses above compression_threshold (C:) or packs msgpack (M:) for ?format=msgpack clients.
        Returns the payload bytes queued; 0 for an unknown connection or an id already sent to it.
        """

    def broadcast(self, data: str | bytes) -> None:
        """
        Sends str (text frame) or bytes (binary frame) to every open connection.
        """

    def broadcast_all(self, data: str | bytes) -> None:
        """Alias of broadcast()."""

    def broadcast_all_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """broadcast() for bytes."""

    def publish_local(self, topic: str, data: str | bytes) -> None:
        """
        Delivers data (str -> text frame, bytes -> binary) to every subscriber of topic on this
        instance, exact or glob, once per connection. The frame is built once and shared.
        """

    def broadcast_local(self, topic: str, data: str | bytes) -> None:
        """Alias of publish_local()."""

    def publish(self, topic: str, data: str | bytes) -> None:
        """
        After connect_redis(): publishes on the Redis channel wse:<topic> so every instance (this one
        included) delivers it exactly once to its subscribers. Never blocks: when Redis cannot take it,
        the message goes to the dead-letter queue (get_dlq_entries()). Without Redis: publish_local().
        """

    def publish_many(self, topic: str, messages: Sequence[str | bytes | bytearray | memoryview]) -> int:
        """
        publish() for many messages on one topic, in order, in one call: without Redis they are
        framed back to back into shared buffers of up to 64 KiB (one queue entry per subscriber per
        buffer). Nothing is published if an item is not str or bytes. Returns the message count.
        """

    def connect_redis(
        self, url: str, *, cluster: bool | None = None, raw_compat: bool = False, max_pending: int = 1000000
    ) -> None:
        """
        Scales out through Redis: redis://[[user]:password@]host[:port][/db] or rediss:// (TLS; options
        ssl_ca_certs, ssl_cert_reqs, ssl_certfile, ssl_keyfile, ssl_check_hostname, connect_timeout).
        Returns at once; the connection is made in the background, before or after start().
        cluster=None asks the server (Redis Cluster -> sharded pub/sub); True/False forces the mode.
        raw_compat=True speaks WSE 1.4's wire format (PSUBSCRIBE wse:*, raw payloads). max_pending caps
        the publishes queued towards Redis. ValueError for a bad URL or option.
        """

    def redis_connected(self) -> bool:
        """True while every Redis connection the broker needs is up."""

    def get_dlq_entries(self) -> list[dict[str, Any]]:
        """
        Removes and returns the dead letters, oldest first: {channel, payload, error} dicts (payload
        is bytes for binary publishes). At most the last 1000 are kept.
        """

    def subscribe_connection(self, conn_id: str, topics: Sequence[str]) -> bool:
        """
        Subscribes a connection to topics ('*' and '?' globs allowed). False if the connection is unknown.
        """

    def unsubscribe_connection(self, conn_id: str, topics: Sequence[str] | None = None) -> bool:
        """Removes the given topics, or all of them when topics is None."""

    def get_topic_subscriber_count(self, topic: str) -> int:
        """
        Connections subscribed to exactly this topic string (a pattern counts under its own text).
        """

    def get_connection_topics(self, conn_id: str) -> list[str]:
        """Sorted topics of a connection ([] if unknown)."""

    def get_connection_count(self) -> int: ...
    def get_connections(self) -> list[str]:
        """conn_ids of the open connections."""

    def disconnect(self, conn_id: str, code: int = 1000, reason: str = "") -> bool:
        """
        Closes a connection with a close frame. False if unknown. ValueError for an invalid code.
        """

    def health_snapshot(self) -> dict[str, Any]:
        """
        Counters: the seed's keys (connections, inbound_*, redis_*, uptime_secs) and ours.
        """

    def inbound_queue_depth(self) -> int: ...
    def inbound_dropped_count(self) -> int: ...

RustWSEServer: TypeAlias = WSEServer
