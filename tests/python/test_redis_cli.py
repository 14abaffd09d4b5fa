"""`wse serve --redis-url`: two server processes, as `make run` starts them, share
one redis-server; the demo ticks of both reach a client of either, and /health
and /metrics report the Redis link."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from redis_support import RedisServer
from server_support import http_get
from websockets.asyncio.client import connect

pytestmark = pytest.mark.redis


def start_serve(*args: str) -> tuple[subprocess.Popen[str], int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wse_server", "serve", "--port", "0", "--no-auth", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    banner = []
    for line in proc.stdout:
        banner.append(line)
        if "Ctrl+C" in line:
            break
    text = "".join(banner)
    port = re.search(r"listening on [^:]+:(\d+)", text)
    assert port, text
    return proc, int(port.group(1)), text


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


async def test_two_serve_processes_share_redis(redis_server: RedisServer) -> None:
    url = redis_server.url(auth=":@")  # an empty password is the same as none
    a, port_a, banner = start_serve("--redis-url", url, "--demo-interval", "0.05")
    b, port_b, _ = start_serve("--redis-url", url, "--demo-interval", "0.05")
    try:
        assert "scaling out through Redis at redis://:***@127.0.0.1" in banner
        async with connect(f"ws://127.0.0.1:{port_b}/wse") as ws:
            await ws.recv()  # server_ready
            await ws.send('WSE{"t":"subscription_update","p":{"action":"subscribe","topics":["demo:ticks"]}}')
            seqs: list[int] = []
            deadline = asyncio.get_running_loop().time() + 10
            # Each instance counts its own ticks from 0: seeing a number twice means both reached us.
            while asyncio.get_running_loop().time() < deadline and len(seqs) == len(set(seqs)):
                text = await asyncio.wait_for(ws.recv(), 5)
                assert isinstance(text, str)
                if "demo_tick" in text:
                    seqs.append(json.loads(text)["p"]["seq"])
            assert len(seqs) != len(set(seqs)), "ticks of only one instance arrived"
        for port in (port_a, port_b):
            status, body = http_get(port, "/health")
            assert status == 200
            health = json.loads(body)
            assert health["redis_connected"] is True
            assert health["redis_mode"] == "standalone"
            status, metrics = http_get(port, "/metrics")
            assert "wse_redis_connected 1" in metrics
            published = re.search(r"wse_redis_messages_published_total (\d+)", metrics)
            assert published
            assert int(published.group(1)) > 0
    finally:
        stop(a)
        stop(b)


def test_bad_redis_options_are_reported() -> None:
    for args, message in (
        (["--redis-url", "http://nope"], "unsupported scheme"),
        (["--redis-url", "redis://h", "--redis-cluster", "maybe"], "--redis-cluster must be"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "wse_server", "serve", "--port", "0", "--no-auth", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == 2
        assert message in proc.stderr


def test_scaleout_example_runs(redis_server: RedisServer) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "redis_scaleout.py"
    proc = subprocess.run(
        [sys.executable, str(example), "--redis-url", redis_server.url()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for line in lines[:2]:
        got = [json.loads(text) for text in json.loads(line.split("got: ", 1)[1])]
        assert sorted(m["p"]["n"] for m in got) == [0, 1, 2]  # once each, on both instances
    assert "duplicates dropped 3" in lines[2]  # instance A's client matched twice, got once
