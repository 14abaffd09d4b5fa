"""The main job: `python -m wse_server serve` as a user runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from server_support import RawClient, http_get, parse_prefixed

from wse_server.cli import SERVE_OPTIONS


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[int, list[str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wse_server", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    banner: list[str] = []
    try:
        for line in proc.stdout:
            banner.append(line.rstrip("\n"))
            if "Ctrl+C" in line:
                break
        match = re.search(r"listening on [^:]+:(\d+)", "\n".join(banner))
        assert match, banner
        yield int(match.group(1)), banner
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()


def test_help_documents_every_option_with_its_environment_variable() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "wse_server", "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(out.split())
    for opt in SERVE_OPTIONS:
        assert opt.flag in out
        assert f"[{opt.env}]" in flat


def test_serve_without_auth_from_environment() -> None:
    with serve(env={"WSE_PORT": "0", "WSE_NO_AUTH": "1", "WSE_DEMO_INTERVAL": "0.05"}) as (port, banner):
        assert not any("sample JWT" in line for line in banner)
        status, body = http_get(port, "/health")
        assert status == 200
        assert '"status":"ok"' in body
        client = RawClient(port, path="/wse")
        assert parse_prefixed(client.recv_frame()[1].decode())["t"] == "server_ready"
        client.send_frame(
            1, b'WSE{"t":"subscription_update","p":{"action":"subscribe","topics":["demo:ticks"]}}'
        )
        ack = parse_prefixed(client.recv_frame()[1].decode())
        assert ack["p"]["success_topics"] == ["demo:ticks"]
        tick = parse_prefixed(client.recv_frame()[1].decode())
        assert tick["t"] == "demo_tick"
        client.send_frame(1, b'{"t":"echo","p":{"hello":"world"}}')
        while True:
            msg = parse_prefixed(client.recv_frame()[1].decode())
            if msg["t"] == "echo":
                break
        assert msg["p"] == {"hello": "world"}
        client.close()


def test_serve_prints_a_working_development_token() -> None:
    with serve("--port", "0", "--demo-interval", "0") as (port, banner):
        token_line = banner[banner.index(next(line for line in banner if "sample JWT" in line)) + 1]
        token = token_line.strip()
        assert token.count(".") == 2
        denied = RawClient(port)
        assert parse_prefixed(denied.recv_frame()[1].decode())["p"]["code"] == "AUTH_REQUIRED"
        denied.close()
        client = RawClient(port, path=f"/wse?token={token}")
        ready = parse_prefixed(client.recv_frame()[1].decode())
        assert ready["p"]["details"]["user_id"] == "dev-user"
        client.close()


def test_bad_option_exits_with_a_message() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wse_server", "serve", "--port", "0", "--slow-consumer", "explode"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "slow_consumer" in proc.stderr
