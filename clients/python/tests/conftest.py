"""Fixtures: our standalone server in-process (with the test application on a
thread) and either engine as a subprocess (ours, or the original 1.4.2 from its
own venv: a black box reached over the network only)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from wse_test_app import App

from wse_server import WSEServer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
APP_SCRIPT = HERE / "wse_test_app.py"
PEER_PYTHON = ROOT / "build" / "peers" / "wse142" / "bin" / "python"
SECRET = "client-test-secret-0123456789abcdef"


def make_token(sub: str = "client-user", secret: str = SECRET, ttl: int = 600) -> str:
    now = int(time.time())
    return pyjwt.encode({"sub": sub, "iat": now, "exp": now + ttl}, secret, algorithm="HS256")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class InProcess:
    server: WSEServer
    app: App

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/wse"


@contextlib.contextmanager
def in_process(**options: Any) -> Iterator[InProcess]:
    app_options = {k: options.pop(k) for k in ("tick_interval", "epoch", "replay") if k in options}
    options.setdefault("io_threads", 1)
    options.setdefault("jwt_secret", SECRET.encode())
    server = WSEServer("127.0.0.1", options.pop("port", 0), **options)
    server.start()
    app = App(server, **app_options).start()
    try:
        yield InProcess(server, app)
    finally:
        app.stop()
        server.stop()


@pytest.fixture
def ours() -> Iterator[InProcess]:
    with in_process() as env:
        yield env


class AppProcess:
    """The test application as a process on a fixed port; kill() and start() again."""

    def __init__(self, python: Path | str, port: int, *args: str) -> None:
        self.python = str(python)
        self.port = port
        self.args = args
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/wse"

    def start(self) -> AppProcess:
        env = {**os.environ, "PYTHONPATH": str(HERE)}
        self.proc = subprocess.Popen(
            [self.python, str(APP_SCRIPT), "--port", str(self.port), "--jwt-secret", SECRET, *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            self.proc.kill()
            _, err = self.proc.communicate(timeout=5)
            raise RuntimeError(f"test app did not start: {line!r} {err}")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._close_pipes()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self.proc is not None:
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()


ENGINES = {"ours": Path(sys.executable), "wse142": PEER_PYTHON}


def engine_python(name: str) -> Path:
    python = ENGINES[name]
    if not python.exists():
        pytest.fail(
            f"{python} is missing: run `make setup` (scripts/setup_peers.sh installs wse-server 1.4.2)"
        )
    return python


@pytest.fixture(scope="module", params=["ours", "wse142"])
def engine(request: pytest.FixtureRequest) -> Iterator[tuple[str, AppProcess]]:
    """Each engine as a process, shared by the tests of a module."""
    name = str(request.param)
    proc = AppProcess(engine_python(name), free_port()).start()
    try:
        yield name, proc
    finally:
        proc.stop()
