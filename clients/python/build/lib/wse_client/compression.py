"""zlib for C: frames (RFC 1950), with an inflation cap."""

from __future__ import annotations

import zlib

from wse_client.errors import WSEProtocolError


class CompressionHandler:
    """Compresses outbound text above ``threshold`` bytes; inflates inbound C: bodies.

    Inflation is capped at ``max_size`` bytes so that a small hostile frame cannot
    expand into unbounded memory (a zip bomb raises WSEProtocolError).
    """

    def __init__(self, threshold: int = 1024, level: int = 6, max_size: int = 16 * 1024 * 1024) -> None:
        if not 0 <= level <= 9:
            raise ValueError("CompressionHandler: level must be between 0 and 9")
        self.threshold = threshold
        self.level = level
        self.max_size = max_size

    def should_compress(self, data: bytes) -> bool:
        return self.threshold > 0 and len(data) > self.threshold

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, self.level)

    def decompress(self, data: bytes) -> bytes:
        """zlib first; raw deflate and gzip as fallbacks (other producers exist)."""
        for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS, zlib.MAX_WBITS | 16):
            inflater = zlib.decompressobj(wbits)
            try:
                out = inflater.decompress(data, self.max_size)
            except zlib.error:
                continue
            if inflater.unconsumed_tail:
                raise WSEProtocolError(f"compressed frame inflates beyond {self.max_size} bytes")
            if not inflater.eof:
                continue
            return out
        raise WSEProtocolError("C: frame is not a valid zlib, deflate or gzip stream")
