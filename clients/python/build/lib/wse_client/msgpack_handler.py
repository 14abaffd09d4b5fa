"""MessagePack for ?format=msgpack connections (M: frames). Needs the [msgpack] extra."""

from __future__ import annotations

from typing import Any

from wse_client.errors import WSEProtocolError


class MsgPackHandler:
    """Decodes M: bodies into envelope dicts (and encodes, for symmetry)."""

    def __init__(self) -> None:
        try:
            import msgpack  # noqa: PLC0415 (optional dependency)
        except ImportError as exc:
            raise ImportError(
                "msgpack support needs the msgpack package: pip install 'wse-client[msgpack]'"
            ) from exc
        self._msgpack = msgpack

    def decode(self, data: bytes) -> dict[str, Any]:
        try:
            value = self._msgpack.unpackb(data, raw=False, strict_map_key=False)
        except Exception as exc:  # msgpack raises several unrelated types
            raise WSEProtocolError(f"M: frame is not valid MessagePack: {exc}") from exc
        if not isinstance(value, dict):
            raise WSEProtocolError(f"M: frame holds a {type(value).__name__}, not a map")
        return value

    def encode(self, value: dict[str, Any]) -> bytes:
        return bytes(self._msgpack.packb(value, use_bin_type=True))
