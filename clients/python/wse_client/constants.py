"""Client-side constants. Wire constants shared with the server come from
``_spec.py``, rendered from spec/protocol.json by scripts/gen_spec.py."""

from __future__ import annotations

from typing import Final

from wse_client._spec import (
    DEFAULT_HEARTBEAT_INTERVAL_MS,
    DEFAULT_JWT_COOKIE_NAME,
    DEFAULT_MAX_MESSAGE_SIZE,
    PROTOCOL_VERSION,
    RECONNECT_CLOSE_CODES,
    CloseCode,
)

CLIENT_VERSION: Final = "0.1.0"

# Handshake: how long connect() waits for server_ready, and (with encryption)
# for server_hello.
HANDSHAKE_TIMEOUT: Final = 10.0
OPEN_TIMEOUT: Final = 10.0
# Application ping every heartbeat interval; a connection that delivered nothing
# (not even a PONG) for DEAD_AFTER seconds is closed and reconnected.
HEARTBEAT_INTERVAL: Final = DEFAULT_HEARTBEAT_INTERVAL_MS / 1000
DEAD_AFTER: Final = 40.0
# Largest message accepted (after C: inflation); 16x the server's inbound cap.
MAX_MESSAGE_SIZE: Final = 16 * DEFAULT_MAX_MESSAGE_SIZE
# Duplicate window (event ids) and reorder buffer of the sequencer.
DEDUP_WINDOW: Final = 10_000
MAX_OUT_OF_ORDER: Final = 100
REORDER_TIMEOUT: Final = 0.5

# Close codes after which the client does not reconnect: the credentials or the
# request itself are wrong, retrying would only repeat the refusal.
AUTH_CLOSE_CODES: Final = frozenset({int(CloseCode.AUTH_FAILED), int(CloseCode.FORBIDDEN)})
# The spec says for each close code whether to reconnect; codes it does not name
# (1005 no status, 1006 abnormal, application codes) are treated as network loss.
FATAL_CLOSE_CODES: Final = frozenset(
    int(code) for code in CloseCode if code not in RECONNECT_CLOSE_CODES and int(code) not in AUTH_CLOSE_CODES
)

__all__ = [
    "AUTH_CLOSE_CODES",
    "CLIENT_VERSION",
    "DEAD_AFTER",
    "DEDUP_WINDOW",
    "DEFAULT_JWT_COOKIE_NAME",
    "FATAL_CLOSE_CODES",
    "HANDSHAKE_TIMEOUT",
    "HEARTBEAT_INTERVAL",
    "MAX_MESSAGE_SIZE",
    "MAX_OUT_OF_ORDER",
    "OPEN_TIMEOUT",
    "PROTOCOL_VERSION",
    "REORDER_TIMEOUT",
]
