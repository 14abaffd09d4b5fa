"""The client's heartbeat: an application ping every interval (the PONGs feed the
NetworkMonitor), and dead-connection detection: a connection that delivered
nothing at all for ``dead_after`` seconds is aborted, so the supervisor
reconnects. Liveness is read from the inbound byte counter, so the per-message
path pays nothing for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from wse_client.connection import Session
from wse_client.errors import WSEError
from wse_client.network_monitor import NetworkMonitor
from wse_client.transport import ConnectionLost
from wse_client.types import ConnectionStats

log = logging.getLogger("wse_client")


async def heartbeat(
    session: Session,
    *,
    interval: float,
    dead_after: float,
    stats: ConnectionStats,
    network: NetworkMonitor,
    send: Callable[[dict[str, Any]], Awaitable[None]],
    current: Callable[[], bool],
) -> None:
    """Runs while ``current()`` (the session is the client's); returns after an abort."""
    seen = stats.bytes_received
    last_change = time.monotonic()
    while current():
        await asyncio.sleep(interval)
        now = time.monotonic()
        if stats.bytes_received != seen:
            seen = stats.bytes_received
            last_change = now
        elif now - last_change > dead_after:
            log.warning("wse_client: nothing received for %.0fs; dropping the connection", dead_after)
            session.ws.abort()
            return
        network.ping_sent()
        with contextlib.suppress(ConnectionLost, WSEError):
            await send({"t": "ping", "p": {"timestamp": int(time.time() * 1000)}, "v": 1})
