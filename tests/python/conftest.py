"""Shared pytest fixtures for the wse_server test suites."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_support import RedisServer

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors"


def load_vectors(name: str) -> Any:
    """Loads spec/vectors/<name>.json (language-neutral test vectors)."""
    return json.loads((VECTORS / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own (the suites that share one per module override this)."""
    with RedisServer(tmp_path / "redis") as server:
        yield server
