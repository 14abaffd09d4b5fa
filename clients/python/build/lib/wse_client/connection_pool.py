"""ConnectionPool: several endpoints, health scores and a selection strategy.

Each endpoint has a score in [0, 100] (starts at 100): a failure costs 25, a
success gives back 10 and slow handshakes (over 200 ms) cost a little. An
endpoint that failed within the last ``cooldown`` seconds is skipped while a
healthier one exists, so a dead primary is not retried before the fallback
(failover). A pool may be shared by several clients (least-connections then
balances them). Not thread-safe: one event loop owns it.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from typing import Any

from wse_client.types import LoadBalancingStrategy

_FAILURE_COST = 25.0
_SUCCESS_GAIN = 10.0
_SLOW_HANDSHAKE_MS = 200.0


@dataclass
class EndpointHealth:
    url: str
    weight: float = 1.0
    score: float = 100.0
    active: int = 0
    failures: int = 0
    successes: int = 0
    consecutive_failures: int = 0
    last_failure: float = 0.0
    avg_latency_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "score": round(self.score, 1),
            "active": self.active,
            "failures": self.failures,
            "successes": self.successes,
            "avg_latency_ms": round(self.avg_latency_ms, 2),
        }


class ConnectionPool:
    def __init__(
        self,
        endpoints: list[str] | tuple[str, ...],
        strategy: LoadBalancingStrategy = LoadBalancingStrategy.WEIGHTED_RANDOM,
        *,
        cooldown: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        if not endpoints:
            raise ValueError("ConnectionPool: at least one endpoint is required")
        self.strategy = LoadBalancingStrategy(strategy)
        self.cooldown = cooldown
        self._rng = rng or random.Random()
        self._endpoints: dict[str, EndpointHealth] = {}
        for url in endpoints:
            self.add_endpoint(url)
        self._rr = itertools.count()
        self.active_endpoint: str | None = None

    @property
    def endpoints(self) -> list[str]:
        return list(self._endpoints)

    def has_endpoint(self, url: str) -> bool:
        return url in self._endpoints

    def add_endpoint(self, url: str, weight: float = 1.0) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"ConnectionPool: endpoint must be a ws:// or wss:// URL, got {url!r}")
        self._endpoints.setdefault(url, EndpointHealth(url, weight=weight))

    def remove_endpoint(self, url: str) -> None:
        if len(self._endpoints) == 1 and url in self._endpoints:
            raise ValueError("ConnectionPool: cannot remove the last endpoint")
        self._endpoints.pop(url, None)

    def set_active_endpoint(self, url: str) -> None:
        self.add_endpoint(url)
        self.active_endpoint = url

    def _candidates(self) -> list[EndpointHealth]:
        now = time.monotonic()
        all_eps = list(self._endpoints.values())
        rested = [e for e in all_eps if e.consecutive_failures == 0 or now - e.last_failure >= self.cooldown]
        return rested or all_eps

    def select_endpoint(self) -> str:
        """The endpoint for the next connection attempt."""
        cands = self._candidates()
        if len(cands) == 1:
            return cands[0].url
        if self.strategy is LoadBalancingStrategy.ROUND_ROBIN:
            return cands[next(self._rr) % len(cands)].url
        if self.strategy is LoadBalancingStrategy.LEAST_CONNECTIONS:
            return min(cands, key=lambda e: (e.active, -e.score, e.consecutive_failures)).url
        weights = [max(e.score, 1.0) * e.weight for e in cands]
        return self._rng.choices(cands, weights=weights, k=1)[0].url

    def record_success(self, url: str, latency_ms: float = 0.0) -> None:
        ep = self._endpoints.get(url)
        if ep is None:
            return
        ep.successes += 1
        ep.consecutive_failures = 0
        ep.score = min(100.0, ep.score + _SUCCESS_GAIN)
        if latency_ms > 0:
            n = ep.successes
            ep.avg_latency_ms += (latency_ms - ep.avg_latency_ms) / n
            if latency_ms > _SLOW_HANDSHAKE_MS:
                ep.score = max(0.0, ep.score - min(20.0, latency_ms / 100.0))

    def record_failure(self, url: str) -> None:
        ep = self._endpoints.get(url)
        if ep is None:
            return
        ep.failures += 1
        ep.consecutive_failures += 1
        ep.last_failure = time.monotonic()
        ep.score = max(0.0, ep.score - _FAILURE_COST)

    def add_connection(self, url: str) -> None:
        if (ep := self._endpoints.get(url)) is not None:
            ep.active += 1

    def remove_connection(self, url: str) -> None:
        if (ep := self._endpoints.get(url)) is not None:
            ep.active = max(0, ep.active - 1)

    def get_stats(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self._endpoints.values()]

    def reset(self) -> None:
        for url, ep in list(self._endpoints.items()):
            self._endpoints[url] = EndpointHealth(url, weight=ep.weight)
