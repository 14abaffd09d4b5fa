"""NetworkMonitor: latency, jitter, loss and a quality grade from ping samples."""

from __future__ import annotations

import itertools
from collections import deque
from statistics import fmean

from wse_client.types import ConnectionQuality

# (latency ms, jitter ms, loss %) upper bounds of EXCELLENT, GOOD, FAIR; beyond is POOR.
_THRESHOLDS = ((50.0, 25.0, 0.1), (150.0, 50.0, 1.0), (300.0, 100.0, 3.0))
_GRADES = (ConnectionQuality.EXCELLENT, ConnectionQuality.GOOD, ConnectionQuality.FAIR)


class NetworkMonitor:
    """Keeps the last ``window_size`` round-trip samples.

    Jitter is the mean absolute difference of consecutive samples (RFC 3550 in
    spirit); loss is the share of pings that got no PONG before the next ping.
    """

    def __init__(self, window_size: int = 50) -> None:
        if window_size < 2:
            raise ValueError("NetworkMonitor: window_size must be >= 2")
        self._samples: deque[float] = deque(maxlen=window_size)
        self.pings_sent = 0
        self.pongs_received = 0

    def ping_sent(self) -> None:
        self.pings_sent += 1

    def record_latency(self, ms: float) -> None:
        self.pongs_received += 1
        self._samples.append(max(0.0, ms))

    @property
    def samples(self) -> int:
        return len(self._samples)

    @property
    def latency_ms(self) -> float | None:
        return fmean(self._samples) if self._samples else None

    @property
    def last_latency_ms(self) -> float | None:
        return self._samples[-1] if self._samples else None

    @property
    def jitter_ms(self) -> float:
        s = list(self._samples)
        if len(s) < 2:
            return 0.0
        return fmean(abs(b - a) for a, b in itertools.pairwise(s))

    @property
    def packet_loss(self) -> float:
        """Percent of pings without a PONG (the ping in flight is not counted)."""
        answered_or_due = max(self.pings_sent - 1, 0)
        if answered_or_due == 0:
            return 0.0
        lost = max(answered_or_due - self.pongs_received, 0)
        return 100.0 * lost / answered_or_due

    @property
    def quality(self) -> ConnectionQuality:
        latency = self.latency_ms
        if latency is None:
            return ConnectionQuality.UNKNOWN
        jitter, loss = self.jitter_ms, self.packet_loss
        for grade, (lat_max, jit_max, loss_max) in zip(_GRADES, _THRESHOLDS, strict=True):
            if latency <= lat_max and jitter <= jit_max and loss <= loss_max:
                return grade
        return ConnectionQuality.POOR

    def reset(self) -> None:
        self._samples.clear()
        self.pings_sent = self.pongs_received = 0

    def snapshot(self) -> dict[str, object]:
        return {
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "packet_loss": self.packet_loss,
            "quality": self.quality.value,
            "samples": self.samples,
        }
