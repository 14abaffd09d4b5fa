"""Each example in examples/ run briefly against `python -m wse_server serve`
(the server `make run` starts), as a user would run it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def wse_serve() -> Iterator[tuple[str, str]]:
    """(url, token) of a real `wse serve` process with fast demo ticks."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wse_server", "serve", "--port", "0", "--demo-interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    banner: list[str] = []
    for line in proc.stdout:
        banner.append(line.strip())
        if "Ctrl+C" in line:
            break
    text = "\n".join(banner)
    port = re.search(r"listening on [^:]+:(\d+)", text)
    token_at = next(i for i, line in enumerate(banner) if "sample JWT" in line)
    assert port, text
    try:
        yield f"ws://127.0.0.1:{port.group(1)}/wse", banner[token_at + 1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        proc.stdout.close()


def run_example(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_recv_loop(wse_serve: tuple[str, str]) -> None:
    url, token = wse_serve
    out = run_example("client_cli.py", "--url", url, "--token", token, "--count", "5")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("demo_tick")]
    assert len(lines) == 5
    assert "received 5 events" in out.stderr
    denied = run_example("client_cli.py", "--url", url, "--token", "not-a-jwt", "--count", "1")
    assert denied.returncode == 2
    assert "authentication failed" in denied.stderr


def test_pipeline_batches(wse_serve: tuple[str, str]) -> None:
    url, token = wse_serve
    out = run_example(
        "client_pipeline.py", "--url", url, "--token", token, "--batch-size", "4", "--batches", "3"
    )
    assert out.returncode == 0, out.stderr
    batches = [line for line in out.stdout.splitlines() if line.startswith("batch ")]
    assert len(batches) == 3
    assert all("'events': 4" in b and "demo_tick" in b for b in batches)


def test_monitor_callbacks(wse_serve: tuple[str, str]) -> None:
    url, token = wse_serve
    out = run_example(
        "client_monitor.py", "--url", url, "--token", token, "--seconds", "1.5", "--heartbeat", "0.2"
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "state connected" in lines
    assert any(line.startswith("tick ") for line in lines)
    assert any(line.startswith("quality ") and "latency" in line and "n/a" not in line for line in lines)
    assert "state disconnected" in lines
    assert "events by type:" in lines[-1]


def http(method: str, url: str, body: dict[str, object] | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_fastapi_service_lifespan(wse_serve: tuple[str, str]) -> None:
    url, token = wse_serve
    port = free_port()
    env = {**os.environ, "WSE_URL": url, "WSE_TOKEN": token}
    cmd = [sys.executable, "-m", "uvicorn", "client_fastapi_service:app", "--app-dir", str(EXAMPLES)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, health = http("GET", base + "/health")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.1)
        assert status == 200
        assert isinstance(health, dict)
        assert health["wse_state"] == "connected"
        assert health["topics"] == ["demo:ticks"]
        status, reply = http("POST", base + "/send", {"type": "echo", "payload": {"a": 1}})
        assert status == 200
        assert isinstance(reply, dict)
        assert reply["payload"] == {"a": 1}
        seen: object = []
        for _ in range(100):
            _, seen = http("GET", base + "/events")
            if seen:
                break
            time.sleep(0.05)
        assert isinstance(seen, list)
        assert seen[0]["type"] == "demo_tick"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    assert "Application shutdown complete" in out  # the lifespan closed the client
