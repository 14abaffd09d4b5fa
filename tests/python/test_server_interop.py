"""A second, independent client library (Node `ws`) against our server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from server_support import SECRET, make_token, running_server

from wse_server import WSEServer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "interop" / "ws_client.mjs"

pytestmark = pytest.mark.node


def node_available() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules" / "ws").is_dir()


def run_node(url: str, scenario: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    if not node_available():
        pytest.fail("node and node_modules/ws are required: run `make setup`")
    proc = subprocess.run(
        ["node", str(SCRIPT), url, scenario],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def echo_loop(server: WSEServer, stop: threading.Event) -> None:
    while not stop.is_set():
        for kind, conn_id, data in server.drain_inbound(64, 20):
            if kind == "msg" and isinstance(data, dict) and data.get("t") == "echo":
                server.send_event(conn_id, {"t": "echo_reply", "p": data["p"]})


def test_node_ws_session() -> None:
    with running_server() as server:
        stop = threading.Event()
        worker = threading.Thread(target=echo_loop, args=(server, stop))
        worker.start()
        try:
            lines = run_node(f"ws://127.0.0.1:{server.port}/wse", "session")
        finally:
            stop.set()
            worker.join()
    msgs = [line["msg"] for line in lines if "msg" in line]
    assert msgs[0]["t"] == "server_ready"
    assert msgs[0]["seq"] == 0
    assert msgs[1]["t"] == "PONG"
    assert msgs[1]["p"]["client_timestamp"] == 1
    assert msgs[2]["t"] == "server_hello"
    assert msgs[2]["seq"] == 1
    assert msgs[3]["t"] == "echo_reply"
    assert msgs[3]["p"] == {"n": 42}
    assert msgs[3]["seq"] == 2
    assert lines[-1]["close"] == 1000


def test_node_ws_bearer_auth_and_rejection() -> None:
    with running_server(jwt_secret=SECRET) as server:
        url = f"ws://127.0.0.1:{server.port}/wse"
        ok = run_node(url, "bearer", {"WSE_TOKEN": make_token("node-user")})
        ready = ok[0]["msg"]
        assert ready["t"] == "server_ready"
        assert ready["p"]["details"]["user_id"] == "node-user"
        bad = run_node(
            url, "bearer", {"WSE_TOKEN": make_token("x", secret=b"wrong-secret-wrong-secret-wrong!")}
        )
        assert bad[0]["msg"]["t"] == "error"
        assert bad[0]["msg"]["p"]["code"] == "AUTH_FAILED"
        assert bad[-1]["close"] == 4401
