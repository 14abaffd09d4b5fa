"""Public value types: events, states, priorities and configuration records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple


class WSEEvent(NamedTuple):
    """One message received from the server. Immutable (a named tuple: building
    one costs a fraction of a frozen dataclass, which matters per message).

    ``payload`` is always a dict: a non-dict ``p`` is wrapped as ``{"data": value}``.
    ``raw`` is the decoded envelope, for keys this class does not name.
    """

    type: str
    payload: dict[str, Any]
    id: str | None = None
    sequence: int | None = None
    timestamp: str | None = None
    version: int = 1
    category: str | None = None  # "WSE", "S" or "U"; None for M: frames and bare JSON
    priority: int | None = None
    correlation_id: str | None = None
    signature: str | None = None
    topic: str | None = None
    raw: dict[str, Any] | None = None

    def __repr__(self) -> str:  # without ``raw``, which repeats the rest
        return (
            f"WSEEvent(type={self.type!r}, payload={self.payload!r}, id={self.id!r}, "
            f"sequence={self.sequence!r}, topic={self.topic!r}, category={self.category!r})"
        )


class ConnectionState(StrEnum):
    PENDING = "pending"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DEGRADED = "degraded"
    DISCONNECTED = "disconnected"
    ERROR = "error"


class ConnectionQuality(StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    UNKNOWN = "unknown"


class MessagePriority(IntEnum):
    CRITICAL = 10
    HIGH = 8
    NORMAL = 5
    LOW = 3
    BACKGROUND = 1


class ReconnectMode(StrEnum):
    EXPONENTIAL = "exponential"
    LINEAR = "linear"
    FIBONACCI = "fibonacci"
    ADAPTIVE = "adaptive"  # exponential, plus the circuit breaker's cool-down


class LoadBalancingStrategy(StrEnum):
    WEIGHTED_RANDOM = "weighted-random"
    LEAST_CONNECTIONS = "least-connections"
    ROUND_ROBIN = "round-robin"


class OverflowPolicy(StrEnum):
    """What the event queue does when ``queue_size`` events are waiting.

    DROP_OLDEST (default) keeps the newest events and reports the loss with a
    ``queue_overflow`` event; DROP_NEWEST keeps the oldest; BLOCK stops reading the
    socket until the consumer catches up (nothing is lost in the client; the
    server's slow-consumer policy then applies).
    """

    DROP_OLDEST = "drop-oldest"
    DROP_NEWEST = "drop-newest"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class ReconnectConfig:
    """Backoff between connection attempts.

    ``max_attempts=-1`` retries forever (really: there is no hidden cap);
    ``0`` never reconnects. Delay of attempt n (0-based): exponential/adaptive
    ``base_delay * factor**n``, linear ``base_delay * (n + 1)``, fibonacci
    ``base_delay * fib(n + 1)``, capped at ``max_delay``; ``jitter`` spreads it by
    +-10 % so that many clients do not reconnect in lockstep.
    """

    mode: ReconnectMode = ReconnectMode.EXPONENTIAL
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_attempts: int = -1
    factor: float = 1.5
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("ReconnectConfig: base_delay and max_delay must be >= 0")
        if self.factor < 1.0:
            raise ValueError("ReconnectConfig: factor must be >= 1.0")
        if self.max_attempts < -1:
            raise ValueError("ReconnectConfig: max_attempts must be -1 (infinite), 0 or positive")


@dataclass(frozen=True, slots=True)
class Gap:
    """Messages of one stream that never arrived (``first``..``last`` inclusive).

    ``stream`` is the topic for topic sequences, ``None`` for the connection's own
    sequence. Delivered as a ``gap`` event and to ``on_gap`` callbacks.
    """

    stream: str | None
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


@dataclass(slots=True)
class ConnectionStats:
    """Counters of one client, across reconnections."""

    messages_received: int = 0
    messages_sent: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0
    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    duplicates_dropped: int = 0
    gaps: int = 0
    messages_missing: int = 0
    queue_dropped: int = 0
    offline_queued: int = 0
    offline_replayed: int = 0
    offline_dropped: int = 0
    rate_limit_warnings: int = 0
    decode_errors: int = 0
    encrypted_received: int = 0
    plaintext_refused: int = 0
    endpoint: str | None = None
    connection_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
