"""The package surface: the native module is private and re-exported."""

from __future__ import annotations

import importlib

import wse_server
from wse_server import _spec, _wse_accel


def test_native_module_names_are_reexported() -> None:
    for name in _wse_accel.__all__:
        assert getattr(wse_server, name) is getattr(_wse_accel, name)
    assert set(_wse_accel.__all__) <= set(wse_server.__all__)


def test_version_matches_spec() -> None:
    assert wse_server.__version__ == _spec.SERVER_VERSION


def test_cli_module_imports() -> None:
    cli = importlib.import_module("wse_server.cli")
    assert callable(cli.main)
