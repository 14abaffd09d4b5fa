"""match_event, transform_event and compression vs pure-Python equivalents."""

from __future__ import annotations

import datetime
import re
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import msgpack
from harness import Case

import wse_server

EVENT = {"t": "trade", "p": {"symbol": "AAPL", "price": 185.5, "exchange": "NASDAQ"}}
FILTER = {"t": "trade", "p.price": {"$gt": 100}, "p.symbol": {"$in": ["AAPL", "GOOG"]}}


def _gt(a: Any, b: Any) -> bool:
    return bool(a > b)


def _in(a: Any, b: Any) -> bool:
    return a in b


def _regex(a: Any, b: Any) -> bool:
    return re.search(b, a) is not None


_OPS: dict[str, Callable[[Any, Any], bool]] = {"$gt": _gt, "$in": _in, "$regex": _regex}


def py_match(event: dict[str, Any], criteria: dict[str, Any]) -> bool:
    for key, expected in criteria.items():
        value: Any = event
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(expected, dict):
            if not all(_OPS[op](value, arg) for op, arg in expected.items()):
                return False
        elif value != expected:
            return False
    return True


RAW = {"event_type": "order_placed", "payload": {"symbol": "AAPL", "qty": 100, "id": uuid.uuid4()}}


def py_transform() -> dict[str, Any]:
    payload = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in RAW["payload"].items()}  # type: ignore[attr-defined]
    return {
        "t": "order",
        "p": payload,
        "id": str(uuid.uuid4()),
        "ts": datetime.datetime.now(datetime.UTC).isoformat(),
        "seq": 1,
        "v": 1,
        "original_event_type": "order_placed",
    }


DATA = (b'{"t":"price","p":{"symbol":"AAPL","bid":185.5,"ask":185.52}}' * 40)[:2048]
ZIPPED = zlib.compress(DATA, 6)
CM = wse_server.CompressionManager()
PACKABLE = {"t": "price", "p": {"symbol": "AAPL", "bid": 185.5, "levels": [1, 2, 3]}}
PACKED = msgpack.packb(PACKABLE)


def cases() -> list[Case]:
    return [
        Case(
            "match_event, 3 conditions",
            lambda: wse_server.match_event(EVENT, FILTER),
            "pure Python matcher",
            lambda: py_match(EVENT, FILTER),
            target_us=1.0,
        ),
        Case(
            "transform_event",
            lambda: wse_server.transform_event(RAW, 1, {"order_placed": "order"}),
            "pure Python",
            py_transform,
        ),
        Case(
            "zlib compress 2 KiB (level 6)",
            lambda: wse_server.compress(DATA, 6),
            "zlib",
            lambda: zlib.compress(DATA, 6),
        ),
        Case(
            "zlib decompress 2 KiB",
            lambda: wse_server.decompress(ZIPPED),
            "zlib",
            lambda: zlib.decompress(ZIPPED),
        ),
        Case(
            "msgpack pack event",
            lambda: CM.pack_msgpack(PACKABLE),
            "msgpack",
            lambda: msgpack.packb(PACKABLE),
        ),
        Case(
            "msgpack unpack event",
            lambda: CM.unpack_msgpack(PACKED),
            "msgpack",
            lambda: msgpack.unpackb(PACKED),
        ),
    ]
