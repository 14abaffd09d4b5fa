"""JSON with orjson when it is installed (the [all] extra), else the stdlib."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

loads: Callable[[str | bytes], Any]
dumps: Callable[[Any], str]

try:
    import orjson

    loads = orjson.loads

    def dumps(value: Any) -> str:
        return orjson.dumps(value, default=str).decode()

    FAST = True
except ImportError:  # pragma: no cover - exercised only without the extra
    loads = json.loads

    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)

    FAST = False
