"""Real Redis for the scale-out tests: redis-server processes (standalone or a
3-master Redis Cluster) on free ports, WSE instances in their own processes
(tests/python/redis_instance.py), and WebSocket clients that record what they
receive. Every process started here is stopped by its owner (kill by PID only)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis
from server_support import reap
from websockets.asyncio.client import ClientConnection, connect

HERE = Path(__file__).resolve().parent
INSTANCE_SCRIPT = HERE / "redis_instance.py"
REDIS_SERVER = "redis-server"


def cmd(client: redis.Redis, *args: Any) -> Any:
    """A raw Redis command (redis-py leaves execute_command untyped)."""
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(cluster_bus: bool = False) -> int:
    """A free port; with cluster_bus also port + 10000 (Redis Cluster's bus port)."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if port_is_free(port) and (not cluster_bus or port_is_free(port + 10000)):
            return port
    raise RuntimeError("no free port found")


class RedisServer:
    """One redis-server process. kill() and start() again reuse the same port.
    As a context manager: started on entry, stopped on exit."""

    def __init__(self, workdir: Path, *args: str, cluster: bool = False, node_timeout_ms: int = 5000) -> None:
        self.workdir = workdir
        self.node_timeout_ms = node_timeout_ms
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.args = list(args)
        self.cluster = cluster
        self.port = 0
        self.tls_port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.password: str | None = None
        self._client: redis.Redis | None = None
        self._client_port = 0
        for i, a in enumerate(self.args):
            if a == "--requirepass":
                self.password = self.args[i + 1]

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @classmethod
    def with_tls(cls, workdir: Path, ca: Path, cert: Path, key: Path, *, auth_clients: bool) -> RedisServer:
        """A server that speaks TLS only, on self.tls_port (the plain port stays for the harness)."""
        tls_port = pick_port()
        server = cls(
            workdir,
            "--tls-port",
            str(tls_port),
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(ca),
            "--tls-auth-clients",
            "yes" if auth_clients else "no",
        )
        server.tls_port = tls_port
        return server

    def command_line(self) -> list[str]:
        cmd = [
            REDIS_SERVER,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.workdir / "redis.log"),
        ]
        if self.cluster:
            cmd += [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(self.workdir / "nodes.conf"),
                "--cluster-node-timeout",
                str(self.node_timeout_ms),
                "--repl-diskless-sync-delay",
                "0",
            ]
        return cmd + self.args

    def start(self) -> None:
        """Starts on a free port (or on the previous one after kill())."""
        fixed = self.port != 0
        for _ in range(20 if not fixed else 1):
            if not fixed:
                self.port = pick_port(self.cluster)
            self.proc = subprocess.Popen(
                self.command_line(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if self._wait_ready(fixed):
                return
            self._reap()
        raise RuntimeError(
            f"redis-server did not start on port {self.port}: see {self.workdir / 'redis.log'}"
        )

    def _wait_ready(self, fixed: bool) -> bool:
        deadline = time.monotonic() + (10 if fixed else 5)
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                if not fixed:
                    return False
                # The port may still be held by the killed process' last moments; try again.
                time.sleep(0.05)
                self.proc = subprocess.Popen(
                    self.command_line(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                continue
            try:
                if self.client().ping():
                    return True
            except (redis.ConnectionError, redis.ResponseError, OSError):
                time.sleep(0.02)
        return False

    def client(self) -> redis.Redis:
        """One redis-py client per server (reconnects by itself after a restart); closed by stop()."""
        if self._client is None or self._client_port != self.port:
            self._close_client()
            self._client = redis.Redis(
                host="127.0.0.1", port=self.port, password=self.password, socket_timeout=5
            )
            self._client_port = self.port
        return self._client

    def _close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def url(self, scheme: str = "redis", auth: str = "") -> str:
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def _reap(self) -> None:
        if self._client is not None:
            self._client.connection_pool.disconnect()  # the server is going: drop the sockets now
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, like a crash."""
        self._reap()

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGCONT)
        self._reap()
        self._close_client()


class RedisCluster:
    """`masters` masters with slots split evenly (CLUSTER ADDSLOTSRANGE + MEET), each
    with `replicas` replicas (CLUSTER REPLICATE) that take over when it fails."""

    def __init__(
        self, workdir: Path, masters: int = 3, replicas: int = 0, node_timeout_ms: int = 5000
    ) -> None:
        self.nodes = [
            RedisServer(workdir / f"node{i}", cluster=True, node_timeout_ms=node_timeout_ms)
            for i in range(masters)
        ]
        self.replicas = [
            RedisServer(workdir / f"replica{i}", cluster=True, node_timeout_ms=node_timeout_ms)
            for i in range(masters * replicas)
        ]

    def start(self) -> None:
        for n in self.nodes + self.replicas:
            n.start()
        per = 16384 // len(self.nodes)
        for i, n in enumerate(self.nodes):
            last = 16383 if i == len(self.nodes) - 1 else (i + 1) * per - 1
            cmd(n.client(), "CLUSTER", "ADDSLOTSRANGE", i * per, last)
        first = self.nodes[0].client()
        for n in self.nodes[1:] + self.replicas:
            cmd(first, "CLUSTER", "MEET", "127.0.0.1", n.port)
        self._wait("the masters to converge", lambda: all(self._converged(n) for n in self.nodes))
        for i, r in enumerate(self.replicas):
            master_id = self.node_id(self.nodes[i % len(self.nodes)])
            self._wait(
                "the replica to learn its master",
                lambda r=r, m=master_id: m in str(cmd(r.client(), "CLUSTER", "NODES")),  # type: ignore[misc]
            )
            cmd(r.client(), "CLUSTER", "REPLICATE", master_id)
        for r in self.replicas:
            self._wait(
                "the replica to sync",
                lambda r=r: r.client().info("replication").get("master_link_status") == "up",  # type: ignore[misc]
            )

    @staticmethod
    def _wait(what: str, ok: Callable[[], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ok():
                return
            time.sleep(0.05)
        raise RuntimeError(f"Redis Cluster: timed out waiting for {what}")

    @staticmethod
    def node_id(node: RedisServer) -> str:
        return str(cmd(node.client(), "CLUSTER", "MYID").decode())

    def owner_port(self, slot: int, ask: RedisServer) -> int:
        """The port of the master that `ask` says serves `slot` (0 if none)."""
        for lo, hi, master, *_ in cmd(ask.client(), "CLUSTER", "SLOTS"):
            if lo <= slot <= hi:
                return int(master[1])
        return 0

    def _converged(self, node: RedisServer) -> bool:
        c = node.client()
        info = cmd(c, "CLUSTER", "INFO")
        text = info.decode() if isinstance(info, bytes) else str(info)
        if "cluster_state:ok" not in text:
            return False
        return len(cmd(c, "CLUSTER", "SLOTS")) == len(self.nodes)

    def url(self) -> str:
        return self.nodes[0].url()

    def shard_channels(self) -> list[set[str]]:
        """The sharded channels each master holds subscriptions for."""
        out = []
        for n in self.nodes:
            names = cmd(n.client(), "PUBSUB", "SHARDCHANNELS")
            out.append({x.decode() if isinstance(x, bytes) else str(x) for x in names})
        return out

    def stop(self) -> None:
        for n in self.nodes + self.replicas:
            n.stop()


class Instance:
    """A WSE server in its own process (redis_instance.py), steered by JSON lines."""

    def __init__(self, name: str, redis_url: str, **connect: Any) -> None:
        self.name = name
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(INSTANCE_SCRIPT), name, redis_url, json.dumps(connect)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._lock = threading.Lock()
        hello = self._read()
        self.port = int(hello["port"])
        self.pid = self.proc.pid

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"instance {self.name} died: {err}")
        return dict(json.loads(line))

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        with self._lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
            self.proc.stdin.flush()
            reply = self._read()
        if not reply.get("ok"):
            raise RuntimeError(f"instance {self.name}: {op} failed: {reply.get('error')}")
        return reply

    def health(self) -> dict[str, Any]:
        return dict(self.call("health")["health"])

    def wait(self, what: str, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        health = self.health()
        while time.monotonic() < deadline:
            if predicate(health):
                return health
            time.sleep(0.02)
            health = self.health()
        raise AssertionError(f"instance {self.name}: timed out waiting for {what}; health: {health}")

    def wait_connected(self, subscriptions: int | None = None, timeout: float = 10.0) -> dict[str, Any]:
        def ok(h: dict[str, Any]) -> bool:
            return bool(h["redis_connected"]) and (
                subscriptions is None or h["redis_subscriptions"] == subscriptions
            )

        return self.wait(f"Redis connected with {subscriptions} subscriptions", ok, timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.call("stop")
        reap(self.proc)


@contextlib.contextmanager
def instances(count: int, redis_url: str, **connect: Any) -> Iterator[list[Instance]]:
    started: list[Instance] = []
    try:
        for i in range(count):
            started.append(Instance(f"i{i}", redis_url, **connect))
        yield started
    finally:
        for inst in started:
            inst.close()


async def subscribed_client(server: Any, topics: list[str]) -> ClientConnection:
    """A websockets client of an in-process server that subscribed itself to `topics`
    (the server's subscription policy must allow them)."""
    ws = await connect(f"ws://127.0.0.1:{server.port}/")
    await ws.recv()  # server_ready
    await ws.send(json.dumps({"t": "subscription_update", "p": {"action": "subscribe", "topics": topics}}))
    await ws.recv()  # the subscription's answer
    return ws


def publish_all(insts: list[Instance], topics: list[str], count: int) -> list[tuple[str, str, int]]:
    """Every instance publishes `count` rounds over `topics` at the same time;
    returns what was published as (publisher, topic, i)."""
    threads = [
        threading.Thread(target=i.call, args=("publish",), kwargs={"topics": topics, "count": count})
        for i in insts
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [(i.name, topic, n) for i in insts for topic in topics for n in range(count)]


async def publish_and_check(
    insts: list[Instance], receivers: list[Receiver], topics: list[str], count: int
) -> None:
    """Every instance publishes `count` rounds over `topics` at once; every receiver must
    get each message it wants exactly once, in per-publisher order. Closes the receivers."""
    published = publish_all(insts, topics, count)
    await settle(receivers, {id(r): sum(1 for m in published if wants(r.topics, m[1])) for r in receivers})
    for r in receivers:
        assert_exactly_once(r, published)
    for r in receivers:
        await r.close()


class Receiver:
    """A WebSocket client on one instance with its own subscriptions; records
    (publisher, topic, i) for every message of the form the instances publish."""

    def __init__(self, instance: Instance, topics: list[str]) -> None:
        self.instance = instance
        self.topics = topics
        self.got: list[tuple[str, str, int]] = []
        self.other: list[str | bytes] = []
        self.ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.ws = await connect(f"ws://127.0.0.1:{self.instance.port}/", max_size=None)
        await self.ws.recv()  # server_ready
        request = {"t": "subscription_update", "p": {"action": "subscribe", "topics": self.topics}}
        await self.ws.send(json.dumps(request))
        ack = await self.ws.recv()
        assert isinstance(ack, str), ack
        assert '"subscription_update"' in ack, ack
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for frame in self.ws:
                text = frame.decode() if isinstance(frame, bytes) else frame
                if text.startswith("{") and '"pub"' in text:
                    m = json.loads(text)
                    self.got.append((m["pub"], m["topic"], int(m["i"])))
                else:
                    self.other.append(frame)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await self._task


def glob_match(pattern: str, topic: str) -> bool:
    """Our glob semantics ('*' any run, '?' one character), independent of the server's code."""
    if not pattern:
        return not topic
    if pattern[0] == "*":
        return any(glob_match(pattern[1:], topic[k:]) for k in range(len(topic) + 1))
    return bool(topic) and pattern[0] in ("?", topic[0]) and glob_match(pattern[1:], topic[1:])


def wants(topics: list[str], topic: str) -> bool:
    return any(t == topic or (("*" in t or "?" in t) and glob_match(t, topic)) for t in topics)


async def settle(receivers: list[Receiver], expected: dict[int, int], timeout: float = 15.0) -> None:
    """Waits until every receiver has at least its expected count, then a little longer for extras."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(r.got) >= expected[id(r)] for r in receivers):
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # a duplicate would arrive right behind


def assert_exactly_once(receiver: Receiver, published: list[tuple[str, str, int]]) -> None:
    expected = [m for m in published if wants(receiver.topics, m[1])]
    got = receiver.got
    dupes = len(got) - len(set(got))
    missing = set(expected) - set(got)
    extra = set(got) - set(expected)
    assert dupes == 0, f"{receiver.topics}: {dupes} duplicates"
    assert not missing, f"{receiver.topics}: {len(missing)} lost, e.g. {sorted(missing)[:5]}"
    assert not extra, f"{receiver.topics}: {len(extra)} not subscribed, e.g. {sorted(extra)[:5]}"
    last: dict[tuple[str, str], int] = {}
    for pub, topic, i in got:
        assert last.get((pub, topic), -1) < i, f"{receiver.topics}: order broken for {pub}/{topic} at {i}"
        last[(pub, topic)] = i
