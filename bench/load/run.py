"""Runs the side-by-side load benchmarks: one fresh server process per workload
and peer, the server pinned to core 0 and wse_loadgen to core 1, results as JSON.

    .venv/bin/python bench/load/run.py [--quick] [--workloads a,b] [--peers x,y] [--out FILE]

scripts/bench.sh calls it after building the native programs and raising the
limits (ulimit -n, somaxconn). bench/load/render.py turns the JSON into tables.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = ROOT / "bench" / "peers"
BUILD = ROOT / "build" / "bench"
LOADGEN = BUILD / "bench" / "wse_loadgen"
RAW_PEER = BUILD / "bench" / "wse_raw_peer"
VENV_PY = ROOT / ".venv" / "bin" / "python"
ORIGINAL_PY = ROOT / "build" / "peers" / "wse142" / "bin" / "python"
JWT_SECRET = "wse-bench-secret-0123456789abcdef"


def peer_commands() -> dict[str, list[str]]:
    """Every server under test; a peer whose program is missing is skipped."""
    peers: dict[str, list[str]] = {
        "wse": [str(VENV_PY), str(PEERS_DIR / "wse_peer.py"), "--engine", "ours"],
        "wse-nocoalesce": [
            str(VENV_PY),
            str(PEERS_DIR / "wse_peer.py"),
            "--engine",
            "ours",
            "--coalesce-bursts",
            "0",
        ],
        "wse-send": [str(VENV_PY), str(PEERS_DIR / "wse_peer.py"), "--engine", "ours", "--per-send"],
        "wse-1.4.2": [str(ORIGINAL_PY), str(PEERS_DIR / "wse_peer.py"), "--engine", "original"],
        "websockets": [str(VENV_PY), str(PEERS_DIR / "websockets_peer.py")],
        "picows": [str(VENV_PY), str(PEERS_DIR / "picows_peer.py")],
        "node-ws": ["node", str(PEERS_DIR / "node_ws_peer.js")],
        "raw": [str(RAW_PEER)],
    }
    available = {}
    for name, cmd in peers.items():
        exe = cmd[0]
        if Path(exe).is_absolute() and not Path(exe).exists():
            print(f"bench: peer {name} skipped ({exe} missing)", file=sys.stderr)
            continue
        if not Path(exe).is_absolute() and shutil.which(exe) is None:
            print(f"bench: peer {name} skipped ({exe} not on PATH)", file=sys.stderr)
            continue
        available[name] = cmd
    return available


@dataclass
class Workload:
    """One row group of docs/BENCHMARKS.md: what the loadgen runs and what the peer is told."""

    name: str
    kind: str
    conns: int
    loadgen: list[str] = field(default_factory=list)
    peer: list[str] = field(default_factory=list)
    jwt: bool = False
    paced_pct: int = 0  # >0: paced at this % of the peer's saturation (fanout_1000)


def fanout(name: str, subs: int, window_deliveries: int) -> Workload:
    window = max(8, window_deliveries // subs)
    ack_every = max(1, window // 4)
    return Workload(
        name,
        "fanout",
        subs,
        loadgen=["--ack-every", str(ack_every)],
        peer=["--subs", str(subs), "--window", str(window)],
    )


def workloads(window_deliveries: int) -> list[Workload]:
    out = [
        fanout("fanout_100", 100, window_deliveries),
        fanout("fanout_1000", 1000, window_deliveries),
        fanout("fanout_10000", 10000, window_deliveries),
        Workload("echo", "echo", 100, loadgen=["--depth", "8"]),
        Workload("accept", "accept", 64, jwt=True),
        Workload("ping", "ping", 10, loadgen=["--interval-us", "10000"]),
        Workload("idle_10000", "idle", 10000),
        Workload("flood", "flood", 200),
    ]
    for pct in (25, 50, 80):
        w = fanout(f"paced_{pct}", 1000, window_deliveries)
        w.paced_pct = pct
        out.append(w)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_jwt(secret: str) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    body = b64(json.dumps({"sub": "bench-user", "iat": now, "exp": now + 7200}).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def taskset(core: str | None) -> list[str]:
    return ["taskset", "-c", core] if core is not None and shutil.which("taskset") else []


def start_peer(cmd: list[str], args: list[str], core: str | None, log: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [*taskset(core), *cmd, *args],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("READY"):
            return proc
        if not line and proc.poll() is not None:
            break
    stop_peer(proc)
    raise RuntimeError(f"peer did not start: {' '.join(cmd)} (see {log})")


def stop_peer(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_one(
    peer: str,
    cmd: list[str],
    w: Workload,
    *,
    opts: argparse.Namespace,
    rate: float,
    tmp: Path,
) -> dict[str, Any]:
    port = free_port()
    stats = tmp / f"{peer}-{w.name}.stats"
    stats.unlink(missing_ok=True)
    peer_args = ["--port", str(port), "--workload", w.kind, "--size", str(opts.size), *w.peer]
    peer_args += ["--max-connections", str(max(20000, w.conns + 100))]
    if w.kind == "flood":
        peer_args += ["--stats", str(stats)]
    if w.jwt:
        peer_args += ["--jwt-secret", JWT_SECRET]
    if rate > 0:
        peer_args += ["--rate", f"{rate:.3f}"]
    log = tmp / f"{peer}-{w.name}.log"
    try:
        proc = start_peer(cmd, peer_args, opts.server_core, log)
    except RuntimeError as e:
        tail = log.read_text()[-400:] if log.exists() else ""
        return {"ok": False, "error": f"{e}: {tail}", "peer": peer, "name": w.name, "kind": w.kind}
    try:
        lg = [
            *taskset(opts.load_core),
            str(LOADGEN),
            "--workload",
            w.kind,
            "--port",
            str(port),
            "--conns",
            str(w.conns),
            "--warmup",
            str(opts.warmup),
            "--duration",
            str(opts.duration),
            "--size",
            str(opts.size),
            "--server-pid",
            str(proc.pid),
            "--label",
            f"{peer}/{w.name}",
            *w.loadgen,
        ]
        if w.kind == "flood":
            lg += ["--stats", str(stats)]
        if w.jwt:
            lg += ["--token", make_jwt(JWT_SECRET)]
        if w.kind == "fanout" and opts.read_delay_us:
            lg += ["--read-delay-us", str(opts.read_delay_us)]
        if w.kind == "fanout":
            lg += ["--ack-when", opts.ack_when]
        timeout = opts.warmup + opts.duration + 120
        try:
            out = subprocess.run(lg, capture_output=True, text=True, timeout=timeout, check=False)
            text = out.stdout.strip().splitlines()
            result: dict[str, Any] = json.loads(text[-1]) if text else {"ok": False, "error": out.stderr}
        except subprocess.TimeoutExpired:
            result = {"ok": False, "error": f"loadgen timed out after {timeout} s"}
    finally:
        stop_peer(proc)
    result.update(peer=peer, name=w.name, kind=w.kind, paced_rate_msgs=rate)
    for line in log.read_text().splitlines():
        if line.startswith("HEALTH "):  # our peer's health_snapshot() at exit
            health = json.loads(line[7:])
            keep = ("frames_out", "write_calls", "deliveries", "slow_consumer_closed", "rate_limited")
            result["server_health"] = {k: health[k] for k in keep if k in health}
    if proc.returncode not in (0, -signal.SIGTERM) and not result.get("error"):
        result["peer_exit"] = proc.returncode
    return result


def busy_cores(interval: float = 1.0) -> float:
    """Cores kept busy by everybody over `interval` seconds (/proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        return sum(fields) - fields[3] - fields[4], sum(fields)

    b0, t0 = sample()
    time.sleep(interval)
    b1, t1 = sample()
    cores = os.cpu_count() or 1
    return (b1 - b0) / max(1, t1 - t0) * cores


def wait_quiet(budget_s: float, threshold: float = 0.3) -> tuple[float, float]:
    """On a shared machine, waits (up to budget_s) until others use less than
    `threshold` cores, so a run is not measured while somebody compiles.
    Returns (seconds waited, busy cores seen last)."""
    start = time.monotonic()
    busy = busy_cores()
    while busy > threshold and time.monotonic() - start < budget_s:
        time.sleep(4)
        busy = busy_cores()
    return time.monotonic() - start, busy


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def summary(r: dict[str, Any]) -> str:
    if not r.get("ok"):
        return f"FAILED: {r.get('error', '')}"[:160]
    lat = r.get("latency_us", {})
    parts = [f"rate {r.get('rate_per_s', 0):,.0f}/s", f"gaps {r.get('gaps')}"]
    if "server_rate_per_s" in r:
        parts.append(f"server {r['server_rate_per_s']:,.0f}/s")
    if "rss_per_conn_bytes" in r:
        parts.append(f"{r['rss_per_conn_bytes']:,.0f} B/conn")
    parts.append(f"p50 {lat.get('p50', 0):.0f}us p99 {lat.get('p99', 0):.0f}us")
    parts.append(f"cpu srv {r.get('server_cpu', 0):.2f} cli {r.get('client_cpu', 0):.2f}")
    return ", ".join(parts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 s warm-up, 3 s window")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--workloads", default="", help="comma-separated names (default: all)")
    p.add_argument("--peers", default="", help="comma-separated peers (default: all available)")
    p.add_argument("--size", type=int, default=100, help="message size in bytes")
    p.add_argument("--window-deliveries", type=int, default=32000, help="fan-out deliveries in flight")
    p.add_argument("--read-delay-us", type=int, default=0, help="loadgen pause between epoll rounds")
    p.add_argument(
        "--ack-when",
        choices=("all", "one"),
        default="all",
        help="fan-out credit: ack a checkpoint once every connection got it (all) or when the last "
        "connection to open got it (one, the earlier rule)",
    )
    p.add_argument("--server-core", default="0")
    p.add_argument("--load-core", default="1")
    p.add_argument("--unpinned", action="store_true", help="no taskset")
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each run, wait up to this many seconds for the other processes to go idle",
    )
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    p.add_argument(
        "--merge",
        default="",
        help="earlier result file: its runs are kept unless re-run now (and its fanout_1000 saturation "
        "paces the paced_* workloads when fanout_1000 is not re-run)",
    )
    opts = p.parse_args()
    if opts.quick:
        opts.warmup, opts.duration = 1.0, 3.0
    if opts.unpinned:
        opts.server_core = opts.load_core = None
    if not LOADGEN.exists() or not RAW_PEER.exists():
        sys.exit(f"bench: build the native programs first ({LOADGEN}); scripts/bench.sh does")
    peers = peer_commands()
    if not opts.peers:  # the variants (no coalesce_bursts, echo by send()) run only when named
        peers.pop("wse-nocoalesce", None)
        peers.pop("wse-send", None)
    if opts.peers:
        peers = {k: v for k, v in peers.items() if k in opts.peers.split(",")}
    all_w = workloads(opts.window_deliveries)
    if opts.workloads:
        wanted = opts.workloads.split(",")
        all_w = [w for w in all_w if w.name in wanted or w.kind in wanted]
    results: list[dict[str, Any]] = []
    info = machine()
    saturation: dict[str, float] = {}
    previous: list[dict[str, Any]] = []
    if opts.merge:
        previous = json.loads(Path(opts.merge).read_text())["results"]
        for r in previous:
            if r.get("name") == "fanout_1000" and r.get("ok") and r.get("gaps") == 0:
                saturation[r["peer"]] = float(r["rate_per_s"])
    with tempfile.TemporaryDirectory(prefix="wse-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for w in all_w:
            for peer, cmd in peers.items():
                rate = 0.0
                if w.paced_pct:
                    sat = saturation.get(peer, 0.0)
                    if sat <= 0:
                        print(f"bench: {peer}/{w.name} skipped (no fanout_1000 saturation)", file=sys.stderr)
                        continue
                    rate = sat * w.paced_pct / 100 / w.conns  # messages/s for 1,000 subscribers
                waited, busy = wait_quiet(opts.wait_quiet) if opts.wait_quiet > 0 else (0.0, -1.0)
                r = run_one(peer, cmd, w, opts=opts, rate=rate, tmp=tmp)
                r["busy_cores_before"] = round(busy, 2)
                r["quiet_wait_s"] = round(waited, 1)
                if w.name == "fanout_1000" and r.get("ok") and r.get("gaps") == 0:
                    saturation[peer] = float(r["rate_per_s"])
                results.append(r)
                print(f"{peer:>11} {w.name:<13} {summary(r)}", file=sys.stderr, flush=True)
    if previous:
        redone = {(r["peer"], r["name"]) for r in results}
        order = {w.name: i for i, w in enumerate(workloads(opts.window_deliveries))}
        peer_order = {p: i for i, p in enumerate(peer_commands())}
        results = [r for r in previous if (r["peer"], r["name"]) not in redone] + results
        results.sort(key=lambda r: (order.get(r["name"], 99), peer_order.get(r["peer"], 99)))
    doc = {
        "machine": info,
        "options": {
            "warmup_s": opts.warmup,
            "duration_s": opts.duration,
            "size": opts.size,
            "window_deliveries": opts.window_deliveries,
            "read_delay_us": opts.read_delay_us,
            "ack_when": opts.ack_when,
            "server_core": opts.server_core,
            "load_core": opts.load_core,
            "wait_quiet_s": opts.wait_quiet,
        },
        "results": results,
    }
    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"bench: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
