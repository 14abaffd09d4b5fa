"""Generated from spec/protocol.json by scripts/gen_spec.py. Do not edit."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

PROTOCOL_VERSION: Final = 1
SERVER_VERSION: Final = "0.1.0"

# Category prefixes of JSON text messages.
PREFIX_SYSTEM: Final = "WSE"
PREFIX_SNAPSHOT: Final = "S"
PREFIX_UPDATE: Final = "U"

# Two-byte markers that open binary frames.
MARKER_COMPRESSED: Final = b"C:"
MARKER_MSGPACK: Final = b"M:"
MARKER_ENCRYPTED: Final = b"E:"

SYSTEM_MESSAGE_TYPES: Final = frozenset({"server_ready", "server_hello", "client_hello_ack", "connection_state_change", "subscription_update", "error", "pong", "PONG"})
SNAPSHOT_CONTAINS: Final = "_snapshot"
SNAPSHOT_STARTS_WITH: Final = "snapshot_"
MESSAGE_TYPES: Final = frozenset({"server_ready", "server_hello", "client_hello", "ping", "PING", "PONG", "pong", "subscription_update", "subscription", "rate_limit_warning", "error", "sync_request", "snapshot_complete", "heartbeat", "batch"})
MESSAGE_CATEGORIES: Final[dict[str, str]] = {"server_ready": "WSE", "server_hello": "WSE", "client_hello": "WSE", "ping": "WSE", "PING": "WSE", "PONG": "WSE", "pong": "WSE", "subscription_update": "WSE", "subscription": "WSE", "rate_limit_warning": "U", "error": "WSE", "sync_request": "S", "snapshot_complete": "S", "heartbeat": "U", "batch": "U"}


class CloseCode(IntEnum):
    """WebSocket close codes used by WSE (docs/PROTOCOL.md)."""

    NORMAL = 1000  # normal closure (disconnect() default, client close)
    GOING_AWAY = 1001  # idle timeout: nothing received for idle_timeout
    PROTOCOL_ERROR = 1002  # RFC 6455 violation (bad frame, unmasked client frame, bad control frame)
    UNSUPPORTED_DATA = 1003  # data type the endpoint cannot accept
    INVALID_PAYLOAD = 1007  # text frame that is not valid UTF-8
    POLICY_VIOLATION = 1008  # generic policy violation
    MESSAGE_TOO_BIG = 1009  # message over max_message_size
    INTERNAL_ERROR = 1011  # the server hit an unexpected condition
    SERVICE_RESTART = 1012  # server stop(): reconnect with backoff
    TRY_AGAIN_LATER = 1013  # slow consumer (outbound queue over its byte cap) or overload
    AUTH_FAILED = 4401  # missing, invalid or expired token; get a new token before retrying
    FORBIDDEN = 4403  # authenticated but not allowed (origin, policy)
    RATE_LIMITED = 4429  # closed for sustained abuse of the rate limit


RECONNECT_CLOSE_CODES: Final = frozenset({CloseCode.GOING_AWAY, CloseCode.INTERNAL_ERROR, CloseCode.SERVICE_RESTART, CloseCode.TRY_AGAIN_LATER, CloseCode.RATE_LIMITED})

# Error codes carried in error messages (p.code), with recoverability.
ERROR_AUTH_REQUIRED: Final = "AUTH_REQUIRED"
ERROR_AUTH_FAILED: Final = "AUTH_FAILED"
ERROR_FORBIDDEN: Final = "FORBIDDEN"
ERROR_MESSAGE_TOO_LARGE: Final = "MESSAGE_TOO_LARGE"
ERROR_INVALID_MESSAGE: Final = "INVALID_MESSAGE"
ERROR_INVALID_SUBSCRIPTION: Final = "INVALID_SUBSCRIPTION"
ERROR_INVALID_ACTION: Final = "INVALID_ACTION"
ERROR_SUBSCRIPTION_FAILED: Final = "SUBSCRIPTION_FAILED"
ERROR_RATE_LIMIT_EXCEEDED: Final = "RATE_LIMIT_EXCEEDED"
ERROR_ENCRYPTION_FAILED: Final = "ENCRYPTION_FAILED"
ERROR_SERVER_ERROR: Final = "SERVER_ERROR"
ERROR_RECOVERABLE: Final[dict[str, bool]] = {"AUTH_REQUIRED": False, "AUTH_FAILED": False, "FORBIDDEN": False, "MESSAGE_TOO_LARGE": False, "INVALID_MESSAGE": True, "INVALID_SUBSCRIPTION": True, "INVALID_ACTION": True, "SUBSCRIPTION_FAILED": True, "RATE_LIMIT_EXCEEDED": True, "ENCRYPTION_FAILED": False, "SERVER_ERROR": True}

# Priority levels.
PRIORITY_CRITICAL: Final = 10
PRIORITY_HIGH: Final = 8
PRIORITY_NORMAL: Final = 5
PRIORITY_LOW: Final = 3
PRIORITY_BACKGROUND: Final = 1

# Defaults (each is documented where it is configured).
DEFAULT_PORT: Final = 5006
DEFAULT_MAX_CONNECTIONS: Final = 1000
DEFAULT_MAX_MESSAGE_SIZE: Final = 1048576
DEFAULT_COMPRESSION_THRESHOLD: Final = 1024
DEFAULT_COMPRESSION_LEVEL: Final = 1
DEFAULT_HEARTBEAT_INTERVAL_MS: Final = 15000
DEFAULT_IDLE_TIMEOUT_MS: Final = 90000
DEFAULT_MAX_INBOUND_QUEUE_SIZE: Final = 131072
DEFAULT_JWT_COOKIE_NAME: Final = "access_token"
DEFAULT_JWT_QUERY_PARAM: Final = "token"
DEFAULT_JWT_NBF_LEEWAY_S: Final = 300
DEFAULT_REDIS_CHANNEL_PREFIX: Final = "wse:"
