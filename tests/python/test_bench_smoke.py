"""Smoke test of the benchmark kit (bench/): the native load generator against
our server peer for about a second per workload, so the kit cannot rot.

Asserts correctness only (0 gaps, every message accounted for, sane JSON), never
speed: speed is measured by `make bench` and recorded in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_support import make_token

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "bench"
SECRET = "smoke-secret-0123456789abcdef0123"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loadgen() -> Path:
    """Builds wse_loadgen with the same CMake target scripts/bench.sh uses."""
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(
        [
            "cmake",
            "-S",
            str(ROOT),
            "-B",
            str(BUILD),
            *gen,
            "-DCMAKE_BUILD_TYPE=Release",
            "-DWSE_BUILD_BENCH=ON",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["cmake", "--build", str(BUILD), "-j", "2", "--target", "wse_loadgen"], check=True)
    exe = BUILD / "bench" / "wse_loadgen"
    assert exe.exists()
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def peer(request: pytest.FixtureRequest) -> Iterator[tuple[int, int]]:
    """Our bench peer (bench/peers/wse_peer.py) with the arguments of the test's param."""
    port = free_port()
    args: list[str] = request.param
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "peers" / "wse_peer.py"), "--port", str(port), *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY"), line
    try:
        yield port, proc.pid
    finally:
        proc.terminate()
        code = proc.wait(timeout=10)
        proc.stdout.close()
        assert code == 0


def run_loadgen(exe: Path, port: int, pid: int, *args: str) -> dict[str, Any]:
    cmd = [str(exe), "--port", str(port), "--server-pid", str(pid), "--warmup", "0.3", "--duration", "1"]
    out = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60, check=False)
    result: dict[str, Any] = json.loads(out.stdout)
    assert out.returncode == 0, result
    assert result["ok"], result
    assert 0.9 < result["window_s"] < 2.0
    assert result["server_cpu"] >= 0
    assert result["client_cpu"] > 0
    return result


# The acknowledging connection sends one "A<seq>" per 16 messages: with a fast
# publisher that exceeds the default inbound limit (10,000 messages/s), and the
# server would answer with rate_limit_warning. The limiter has its own tests.
@pytest.mark.parametrize(
    "peer",
    [["--workload", "fanout", "--subs", "20", "--window", "64", "--size", "100", "--rate-limit", "0"]],
    indirect=True,
)
# "all" (the default): a checkpoint is acknowledged once every connection got it;
# "one": the last connection to open acknowledges what it got (the earlier rule).
@pytest.mark.parametrize("ack_when", ["all", "one"])
def test_fanout_has_no_gaps_and_counts_every_delivery(
    loadgen: Path, peer: tuple[int, int], ack_when: str
) -> None:
    r = run_loadgen(
        loadgen, *peer, "--workload", "fanout", "--conns", "20", "--ack-every", "16", "--ack-when", ack_when
    )
    assert r["gaps"] == 0
    assert r["disorder"] == 0
    assert r["closed"] == 0
    assert r["count"] > 1000
    assert r["total"] >= r["count"]
    assert r["latency_us"]["samples"] == r["count"]
    assert 0 < r["latency_us"]["p50"] <= r["latency_us"]["p99"] <= r["latency_us"]["max"] + 1
    assert r["other_messages"] == 20  # one server_ready per connection, nothing else


# The per-connection rate limit (10,000 messages/s by default) would drop part of
# this few-connection echo: the smoke test checks the kit, not the limiter.
@pytest.mark.parametrize("peer", [["--workload", "echo", "--rate-limit", "0"]], indirect=True)
def test_echo_round_trips_in_order(loadgen: Path, peer: tuple[int, int]) -> None:
    r = run_loadgen(loadgen, *peer, "--workload", "echo", "--conns", "10", "--depth", "4")
    assert r["gaps"] == 0
    assert r["disorder"] == 0
    assert r["count"] > 1000
    assert r["server_cpu_ns_per_op"] > 0


@pytest.mark.parametrize("peer", [["--workload", "accept", "--jwt-secret", SECRET]], indirect=True)
def test_accept_counts_only_verified_handshakes(loadgen: Path, peer: tuple[int, int]) -> None:
    token = make_token(secret=SECRET.encode())
    r = run_loadgen(loadgen, *peer, "--workload", "accept", "--conns", "8", "--token", token)
    assert r["count"] > 100
    assert r["rejected"] == 0
    bad = run_loadgen(loadgen, *peer, "--workload", "accept", "--conns", "4", "--token", token + "x")
    assert bad["count"] == 0
    assert bad["rejected"] > 0  # error frame then close 4401, never a counted handshake


@pytest.mark.parametrize("peer", [["--workload", "idle"]], indirect=True)
def test_idle_reports_rss_per_connection(loadgen: Path, peer: tuple[int, int]) -> None:
    r = run_loadgen(loadgen, *peer, "--workload", "idle", "--conns", "200", "--settle", "0.3")
    assert r["rss_before"] > 0
    assert r["rss_after"] > 0
    assert "rss_per_conn_bytes" in r
