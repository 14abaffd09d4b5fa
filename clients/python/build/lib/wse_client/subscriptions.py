"""Subscriptions: the topics the application asked for, and the acknowledgements
the server owes for its subscription_update requests.

The topic set outlives connections: the client resubscribes it after every
(re)connect. Acknowledgements arrive in request order (one connection, one
ordered stream), so pending requests are matched first in, first out; a request
whose connection ended resolves to None. Owned by the client's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from wse_client.connection import new_envelope
from wse_client.transport import ConnectionLost

log = logging.getLogger("wse_client")

Ack = dict[str, Any] | None


class Subscriptions:
    def __init__(self, topics: Iterable[str] = ()) -> None:
        self.topics: dict[str, None] = dict.fromkeys(topics)  # ordered set
        self._acks: deque[asyncio.Future[Ack]] = deque()

    def add(self, topics: Iterable[str]) -> list[str]:
        """Adds topics; returns those that were not there yet."""
        new = [t for t in topics if t not in self.topics]
        for t in new:
            self.topics[t] = None
        return new

    def remove(self, topics: Iterable[str]) -> list[str]:
        wanted = list(topics)
        for t in wanted:
            self.topics.pop(t, None)
        return wanted

    async def request(
        self, action: str, topics: list[str], send: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> asyncio.Future[Ack]:
        """Sends a subscription_update; the future gets its acknowledgement."""
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._acks.append(fut)
        try:
            await send(new_envelope("subscription_update", {"action": action, "topics": topics}))
        except ConnectionLost:
            fut.set_result(None)  # resubscribed after the reconnect
        return fut

    def on_ack(self, payload: dict[str, Any]) -> None:
        """A subscription_update from the server: resolves the oldest pending request
        and forgets topics the server refused."""
        while self._acks:
            fut = self._acks.popleft()
            if not fut.done():
                fut.set_result(payload)
                break
        failed = payload.get("failed_topics")
        if isinstance(failed, list):
            for item in failed:
                topic = item.get("topic") if isinstance(item, dict) else item
                if isinstance(topic, str) and topic in self.topics:
                    log.warning("wse_client: subscription to %r refused by the server", topic)
                    del self.topics[topic]

    async def wait(self, fut: asyncio.Future[Ack], timeout: float, topics: list[str]) -> bool:
        """True if the acknowledgement came within ``timeout`` and accepted ``topics``."""
        try:
            ack = await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            with contextlib.suppress(ValueError):
                self._acks.remove(fut)
            log.warning("wse_client: no subscription acknowledgement within %.1fs", timeout)
            return False
        if ack is None:
            return False
        return bool(ack.get("success", True)) and all(t in self.topics for t in topics)

    def abandon(self) -> None:
        """The connection ended: pending requests get None."""
        while self._acks:
            fut = self._acks.popleft()
            if not fut.done():
                fut.set_result(None)
