"""Shared pytest fixtures for the wse_server test suites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors"


def load_vectors(name: str) -> Any:
    """Loads spec/vectors/<name>.json (language-neutral test vectors)."""
    return json.loads((VECTORS / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
