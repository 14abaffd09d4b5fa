"""wse_client: the Python client of WSE (async and sync, reconnecting, encrypted).

from wse_client import connect

async with connect("ws://localhost:5006/wse", token="<jwt>") as client:
    await client.subscribe(["notifications"])
    async for event in client:
        print(event.type, event.payload)
"""

from wse_client.circuit_breaker import BreakerState, CircuitBreaker
from wse_client.client import AsyncWSEClient, connect
from wse_client.connection_pool import ConnectionPool
from wse_client.constants import CLIENT_VERSION
from wse_client.errors import (
    WSEAuthError,
    WSECircuitBreakerError,
    WSEConnectionError,
    WSEEncryptionError,
    WSEError,
    WSEProtocolError,
    WSERateLimitError,
    WSETimeoutError,
)
from wse_client.event_sequencer import EventSequencer
from wse_client.network_monitor import NetworkMonitor
from wse_client.offline_queue import OfflineQueue
from wse_client.rate_limiter import TokenBucketRateLimiter
from wse_client.sync_client import SyncWSEClient
from wse_client.types import (
    ConnectionQuality,
    ConnectionState,
    ConnectionStats,
    Gap,
    LoadBalancingStrategy,
    MessagePriority,
    OverflowPolicy,
    ReconnectConfig,
    ReconnectMode,
    WSEEvent,
)

__version__ = CLIENT_VERSION

__all__ = [
    "AsyncWSEClient",
    "BreakerState",
    "CircuitBreaker",
    "ConnectionPool",
    "ConnectionQuality",
    "ConnectionState",
    "ConnectionStats",
    "EventSequencer",
    "Gap",
    "LoadBalancingStrategy",
    "MessagePriority",
    "NetworkMonitor",
    "OfflineQueue",
    "OverflowPolicy",
    "ReconnectConfig",
    "ReconnectMode",
    "SyncWSEClient",
    "TokenBucketRateLimiter",
    "WSEAuthError",
    "WSECircuitBreakerError",
    "WSEConnectionError",
    "WSEEncryptionError",
    "WSEError",
    "WSEEvent",
    "WSEProtocolError",
    "WSERateLimitError",
    "WSETimeoutError",
    "__version__",
    "connect",
]
