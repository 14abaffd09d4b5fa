"""A second, independent client library (Node `ws`) against our server: every
auth path, the message types, glob and dedup, compression and msgpack, slow
consumer, oversized and malformed frames, 1,000 connections, stop and restart.
The Node side is tests/interop/ws_client.mjs, driven line by line from here."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from server_support import SECRET, drain_until, make_token, reap, running_server, wait_for

from wse_server import WSEServer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "interop" / "ws_client.mjs"

pytestmark = pytest.mark.node


def node_available() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules" / "ws").is_dir()


class NodeClient:
    """The Node `ws` driver: commands in, observations (dicts) out."""

    def __init__(self) -> None:
        if not node_available():
            pytest.fail("node and node_modules/ws are required: run `make setup`")
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def cmd(self, op: str, **args: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()

    def expect(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """The next observation that satisfies `predicate` (earlier ones are kept in self.seen)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                obs = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(obs)
            if predicate(obs):
                return obs
        raise AssertionError(f"no matching observation from Node within {timeout}s; seen {self.seen[-10:]!r}")

    def message(self, cid: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next message on connection `cid` (a close instead fails the test)."""
        obs = self.expect(lambda o: o.get("id") == cid and ("msg" in o or "close" in o), timeout)
        assert "msg" in obs, f"{cid} closed: {obs}"
        return obs

    def close_code(self, cid: str, timeout: float = 10.0) -> int:
        return int(self.expect(lambda o: o.get("id") == cid and "close" in o, timeout)["close"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.cmd("exit")
        reap(self.proc)


@pytest.fixture
def node() -> Iterator[NodeClient]:
    client = NodeClient()
    try:
        yield client
    finally:
        client.stop()


def url(server: WSEServer, query: str = "") -> str:
    return f"ws://127.0.0.1:{server.port}/wse{query}"


def echo_loop(server: WSEServer, stop: threading.Event) -> None:
    while not stop.is_set():
        for kind, conn_id, data in server.drain_inbound(64, 20):
            if kind == "msg" and isinstance(data, dict) and data.get("t") == "echo":
                server.send_event(conn_id, {"t": "echo_reply", "p": data["p"]})


def test_node_ws_session(node: NodeClient) -> None:
    with running_server() as server:
        stop = threading.Event()
        worker = threading.Thread(target=echo_loop, args=(server, stop))
        worker.start()
        try:
            node.cmd("open", id="a", url=url(server))
            ready = node.message("a")["msg"]
            assert ready["t"] == "server_ready"
            assert ready["seq"] == 0
            node.cmd("send", id="a", text='WSE{"t":"ping","p":{"timestamp":1}}')
            pong = node.message("a")["msg"]
            assert pong["t"] == "PONG"
            assert pong["p"]["client_timestamp"] == 1
            node.cmd("send", id="a", text=json.dumps({"t": "client_hello", "p": {"client_version": "node"}}))
            hello = node.message("a")["msg"]
            assert hello["t"] == "server_hello"
            assert hello["seq"] == 1
            node.cmd("send", id="a", text=json.dumps({"t": "echo", "p": {"n": 42}}))
            reply = node.message("a")["msg"]
            assert reply["t"] == "echo_reply"
            assert reply["p"] == {"n": 42}
            assert reply["seq"] == 2
            node.cmd("close", id="a", code=1000)
            assert node.close_code("a") == 1000
        finally:
            stop.set()
            worker.join()


def test_node_ws_every_auth_path(node: NodeClient) -> None:
    with running_server(jwt_secret=SECRET) as server:
        paths: dict[str, tuple[str, dict[str, str]]] = {
            "bearer": ("", {"Authorization": f"Bearer {make_token('by-bearer')}"}),
            "cookie": ("", {"Cookie": f"theme=dark; access_token={make_token('by-cookie')}"}),
            "query": (f"?token={make_token('by-query')}", {}),
        }
        for cid, (query, headers) in paths.items():
            node.cmd("open", id=cid, url=url(server, query), headers=headers)
            ready = node.message(cid)["msg"]
            assert ready["t"] == "server_ready"
            assert ready["p"]["details"]["user_id"] == f"by-{cid}"
        events = drain_until(server, lambda e: e[0] == "auth_connect" and e[2] == "by-query")
        assert {e[2] for e in events if e[0] == "auth_connect"} == {"by-bearer", "by-cookie", "by-query"}
        wrong = make_token("x", secret=b"wrong-secret-wrong-secret-wrong!")
        expired = make_token("late", ttl=-60)
        for cid, headers, code in (
            ("wrong", {"Authorization": f"Bearer {wrong}"}, "AUTH_FAILED"),
            ("expired", {"Cookie": f"access_token={expired}"}, "AUTH_FAILED"),
            ("none", {}, "AUTH_REQUIRED"),
        ):
            node.cmd("open", id=cid, url=url(server), headers=headers)
            error = node.message(cid)["msg"]
            assert error["t"] == "error"
            assert error["p"]["code"] == code
            assert node.close_code(cid) == 4401
    with running_server(jwt_secret=SECRET, auth_reject_http=True) as server:
        node.cmd("open", id="http", url=url(server))
        assert node.expect(lambda o: o.get("id") == "http" and "http_status" in o)["http_status"] == 401


def test_node_ws_glob_dedup_compression_and_msgpack(node: NodeClient) -> None:
    with running_server(subscription_policy=["room:*"]) as server:
        node.cmd("open", id="a", url=url(server))
        node.message("a")
        node.cmd(
            "send",
            id="a",
            text=json.dumps(
                {
                    "t": "subscription_update",
                    "p": {"action": "subscribe", "topics": ["room:*", "room:1", "secret"]},
                }
            ),
        )
        answer = node.message("a")["msg"]
        assert answer["t"] == "subscription_update"
        assert sorted(answer["p"]["success_topics"]) == ["room:*", "room:1"]
        assert [f["topic"] for f in answer["p"]["failed_topics"]] == ["secret"]
        assert server.get_topic_subscriber_count("room:1") == 1
        # Two matching subscriptions, one delivery per publish.
        for i in range(3):
            server.publish_local("room:1", json.dumps({"t": "tick", "p": {"i": i}}))
        server.publish_local("room:2", json.dumps({"t": "tick", "p": {"i": 3}}))
        server.publish_local("secret", json.dumps({"t": "tick", "p": {"i": -1}}))
        server.publish_local("room:1", json.dumps({"t": "tick", "p": {"i": 4}}))
        got = [node.message("a")["msg"]["p"]["i"] for _ in range(5)]
        assert got == [0, 1, 2, 3, 4]
        conn_a = server.get_connections()[0]
        # send_event: dedup by id, zlib above the threshold.
        event = {"t": "order", "id": "0193c0de-0000-7000-8000-000000000001", "p": {"n": 1}}
        assert server.send_event(conn_a, event) > 0
        assert server.send_event(conn_a, event) == 0  # same id: not sent again
        big = {"t": "report", "p": {"rows": [f"row {i}" for i in range(400)]}}
        assert server.send_event(conn_a, big, compression_threshold=1024) > 0
        first = node.message("a")
        assert (first["enc"], first["msg"]["p"]) == ("text", {"n": 1})
        second = node.message("a")
        assert second["enc"] == "C"
        assert second["msg"]["t"] == "report"
        assert second["msg"]["p"]["rows"][399] == "row 399"
        # MessagePack on request.
        node.cmd("open", id="m", url=url(server, "?format=msgpack"))
        node.message("m")
        conn_m = next(c for c in server.get_connections() if c != conn_a)
        assert server.send_event(conn_m, {"t": "quote", "p": {"sym": "AAPL", "px": 185.5}}) > 0
        packed = node.message("m")
        assert packed["enc"] == "M"
        assert packed["msg"]["t"] == "quote"
        assert packed["msg"]["p"] == {"sym": "AAPL", "px": 185.5}


def test_node_ws_oversized_and_malformed_frames(node: NodeClient) -> None:
    with running_server(max_message_size=64 * 1024) as server:
        node.cmd("open", id="big", url=url(server))
        node.message("big")
        node.cmd("send_big", id="big", bytes=64 * 1024 + 1)
        assert node.close_code("big") == 1009
        node.cmd("open", id="utf8", url=url(server))
        node.message("utf8")
        node.cmd("send_hex", id="utf8", hex="7b2274223a22c328227d", binary=False)  # {"t":"\xc3(" }
        assert node.close_code("utf8") == 1007
        wait_for(lambda: server.health_snapshot()["protocol_errors"] >= 1, what="the protocol error counted")
        # The server is unharmed: a new connection works.
        node.cmd("open", id="after", url=url(server))
        assert node.message("after")["msg"]["t"] == "server_ready"


def test_node_ws_slow_consumer_is_closed(node: NodeClient) -> None:
    with running_server(max_outbound_bytes=64 * 1024) as server:
        node.cmd("open", id="slow", url=url(server))
        node.message("slow")
        conn = drain_until(server, lambda e: e[0] == "connect")[-1][1]
        server.subscribe_connection(conn, ["flood"])
        node.cmd("pause", id="slow")
        blob = "x" * 16384
        for _ in range(4000):  # up to ~64 MiB towards a client that stopped reading
            server.publish_local("flood", blob)
            if server.health_snapshot()["slow_consumer_closed"]:
                break
        wait_for(lambda: server.health_snapshot()["slow_consumer_closed"] == 1, what="slow consumer close")
        node.cmd("resume", id="slow")
        # What was queued is discarded; the close frame follows what the kernel already held.
        assert node.close_code("slow", timeout=20) == 1013
        wait_for(lambda: server.get_connection_count() == 0, what="slow consumer gone")


def test_node_ws_thousand_concurrent_connections(node: NodeClient) -> None:
    with running_server(max_connections=1100) as server:
        node.cmd("many", url=url(server), count=1000)
        ready = node.expect(lambda o: "many_ready" in o, timeout=60)
        assert ready == {"many_ready": 1000, "many_failed": 0}
        node.expect(lambda o: "many_closed" in o, timeout=60)
        wait_for(lambda: server.get_connection_count() == 0, timeout=20, what="every connection closed")
        h = server.health_snapshot()
        assert h["connections_opened"] == 1000
        assert h["connections_closed"] == 1000


def test_node_ws_stop_and_restart(node: NodeClient) -> None:
    server = WSEServer("127.0.0.1", 0, io_threads=1)
    server.start()
    try:
        node.cmd("open", id="a", url=url(server))
        assert node.message("a")["msg"]["seq"] == 0
        server.stop()
        assert node.close_code("a") == 1012  # service restart
        assert not server.is_running()
        server.start()  # port 0 again: server.port is the new one
        node.cmd("open", id="b", url=url(server))
        ready = node.message("b")["msg"]
        assert ready["t"] == "server_ready"
        assert ready["seq"] == 0
    finally:
        server.stop()
