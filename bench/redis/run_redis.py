"""Redis scale-out benchmarks, side by side in one run.

    .venv/bin/python bench/redis/run_redis.py [--quick] [--json bench/results/redis.json]

1. PUBLISH rate: redis-benchmark running PUBLISH (the limit: Redis' own C
   client, unpipelined with 50 connections and pipelined with -P 32) against Python
   WSEServer.publish() through the broker (pipelined), and against the original
   engine's broadcast() (wse-server 1.4.2, when build/peers/wse142 exists).
   Redis is pinned to CPU 0, the publishing client to CPU 1.
2. Cross-instance fan-out: one publishing instance and two receiving instances
   (separate processes), each receiver with C WebSocket connections subscribed to
   the topics; paced publishing at increasing rates; deliveries/s counted by the
   receivers' servers (frames written), a checker connection verifying 0 gaps.
3. One shard vs three: 1 and 2 again on a 3-master Redis Cluster (sharded
   pub/sub), with the Redis CPU each master spent.
Results go to stdout as Markdown tables (and JSON with --json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))

from redis_support import Instance, RedisCluster, RedisServer  # noqa: E402

from wse_server import WSEServer  # noqa: E402

PEER_PYTHON = ROOT / "build" / "peers" / "wse142" / "bin" / "python"
PAYLOAD = "x" * 64
TOPICS = 96  # enough channels for the slots (and so the masters) to share the load evenly


def pin(pid: int, cpu: int) -> None:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), str(pid)], check=False, capture_output=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_benchmark(port: int, requests: int, pipeline: int) -> float:
    """redis-benchmark's PUBLISH rate (it has no built-in publish test: the command is given)."""
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(requests), "-P", str(pipeline), "-c", "50"]
    cmd += ["-r", "8", "--csv", "PUBLISH", "bench:__rand_int__", PAYLOAD]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith('"PUBLISH'):
            return float(line.split('","')[1])
    raise RuntimeError(f"unexpected redis-benchmark output: {out}")


def wse_publish_rate(url: str, messages: int, topics: int, redis_pids: list[int]) -> dict[str, Any]:
    """Python publish() in a loop; the rate counts until Redis acknowledged every message."""
    server = WSEServer("127.0.0.1", 0, io_threads=1)
    server.start()
    server.connect_redis(url)
    deadline = time.monotonic() + 10
    while not server.redis_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    names = [f"bench:{i}" for i in range(topics)]
    for i in range(2000):  # warm-up
        server.publish(names[i % topics], PAYLOAD)
    while server.health_snapshot()["redis_pending"]:
        time.sleep(0.01)
    base = server.health_snapshot()["redis_messages_published"]
    cpu0 = {pid: cpu_seconds(pid) for pid in redis_pids}
    start = time.perf_counter()
    publish = server.publish
    for i in range(messages):
        publish(names[i % topics], PAYLOAD)
    called = time.perf_counter() - start
    while server.health_snapshot()["redis_messages_published"] - base < messages:
        time.sleep(0.0005)
    acked = time.perf_counter() - start
    cpu = [round(cpu_seconds(pid) - cpu0[pid], 2) for pid in redis_pids]
    errors = server.health_snapshot()["redis_publish_errors"]
    server.stop()
    return {
        "calls_per_s": messages / called,
        "acked_per_s": messages / acked,
        "errors": errors,
        "redis_cpu_s": cpu,
        "redis_cpu_us_per_message": 1e6 * sum(cpu) / messages,
    }


PEER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from wse_server._wse_accel import RustWSEServer
    url, n = sys.argv[1], int(sys.argv[2])
    s = RustWSEServer("127.0.0.1", 0, max_connections=10)
    s.start()
    end = time.time() + 10
    while not s.is_running() and time.time() < end:
        time.sleep(0.01)
    s.connect_redis(url)
    while not s.redis_connected() and time.time() < end:
        time.sleep(0.01)
    payload = "x" * 64
    start = time.perf_counter()
    for i in range(n):
        s.broadcast(f"bench:{i % 8}", payload)
    called = time.perf_counter() - start
    while s.health_snapshot()["redis_messages_published"] < n and time.perf_counter() - start < 120:
        time.sleep(0.001)
    acked = time.perf_counter() - start
    done = s.health_snapshot()["redis_messages_published"]
    print(json.dumps({"calls_per_s": n / called, "acked_per_s": done / acked}))
    s.stop()
    """
)


def peer_publish_rate(url: str, messages: int, workdir: Path) -> dict[str, float] | None:
    if not PEER_PYTHON.exists():
        return None
    script = workdir / "peer_publish.py"
    script.write_text(PEER_SCRIPT)
    cmd = [str(PEER_PYTHON), str(script), url, str(messages)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=300).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def fanout(
    url: str, redis_pids: list[int], rate: float, *, seconds: float, conns: int, topics: int
) -> dict[str, Any]:
    names = [f"fan:{{{i}}}" for i in range(topics)]  # hash tags: slots spread over the masters
    pub = Instance("pub", url)
    receivers = [Instance(f"r{i}", url) for i in range(2)]
    clients = []
    try:
        for r in receivers:
            clients.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(Path(__file__).parent / "drain_clients.py"),
                        str(r.port),
                        str(conns),
                        json.dumps(names),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for c in clients:
            assert c.stdout is not None
            assert json.loads(c.stdout.readline())["ready"]
        for inst in (pub, *receivers):
            inst.wait_connected(timeout=20)
        for r in receivers:
            r.wait("subscriptions", lambda h: h["redis_subscriptions"] >= topics, timeout=20)
        before = [r.health() for r in receivers]
        cpu0 = {pid: cpu_seconds(pid) for pid in redis_pids}
        start = time.monotonic()
        done = pub.call("paced", topics=names, rate=rate, seconds=seconds)
        time.sleep(0.3)  # let the tail drain
        elapsed = time.monotonic() - start
        after = [r.health() for r in receivers]
        cpu = {pid: cpu_seconds(pid) - cpu0[pid] for pid in redis_pids}
        results = []
        for c in clients:
            assert c.stdin is not None
            assert c.stdout is not None
            c.stdin.write("\n")
            c.stdin.flush()
            results.append(json.loads(c.stdout.readline()))
        # Frames the receivers' servers wrote, over the publishing window (the tail is short).
        frames = sum(a["frames_sent"] - b["frames_sent"] for a, b in zip(after, before, strict=True))
        closed = sum(a["slow_consumer_closed"] for a in after)
        gaps = sum(r["gaps"] + r["dups"] for r in results)
        ph = pub.health()
        return {
            "rate": rate,
            "published_per_s": done["sent"] / done["elapsed"],
            "deliveries_per_s": frames / done["elapsed"],
            "redis_cpu_us_per_message": 1e6 * sum(cpu.values()) / max(done["sent"], 1),
            "gaps": gaps,
            "slow_closed": closed,
            "checked": sum(r["checked"] for r in results),
            "publish_errors": ph["redis_publish_errors"],
            "redis_cpu_s": [round(cpu[p], 2) for p in redis_pids],
            "seconds": elapsed,
        }
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
            c.wait()
        for inst in (pub, *receivers):
            inst.close()


def best_fanout(
    url: str, pids: list[int], rates: list[float], seconds: float, conns: int
) -> list[dict[str, Any]]:
    rows = []
    for rate in rates:
        row = fanout(url, pids, rate, seconds=seconds, conns=conns, topics=8)
        rows.append(row)
        rate_text, got = f"{rate:,.0f}", f"{row['deliveries_per_s']:,.0f}"
        print(f"  fan-out at {rate_text} msg/s: {got} deliveries/s, gaps {row['gaps']}", flush=True)
        if row["gaps"] or row["slow_closed"] or row["published_per_s"] < 0.9 * rate:
            break
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    n = 50_000 if args.quick else 400_000
    seconds = 2.0 if args.quick else 5.0
    rates = [2000.0, 5000.0] if args.quick else [10000.0, 20000.0, 40000.0, 60000.0, 80000.0, 120000.0]
    conns = 20 if args.quick else 50
    report: dict[str, Any] = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # ---- one Redis ----
        single = RedisServer(work / "single")
        single.start()
        assert single.proc is not None
        pin(single.proc.pid, 0)
        try:
            print("PUBLISH rate, one redis-server", flush=True)
            report["redis_benchmark_p1"] = redis_benchmark(single.port, n, 1)
            report["redis_benchmark_p32"] = redis_benchmark(single.port, n * 4, 32)
            pin(os.getpid(), 1)
            report["wse_publish"] = wse_publish_rate(single.url(), n, TOPICS, [single.proc.pid])
            report["peer_publish"] = peer_publish_rate(single.url(), n // 4, work)
            os.sched_setaffinity(0, range(os.cpu_count() or 1))
            every_cpu = f"0-{(os.cpu_count() or 1) - 1}"
            subprocess.run(
                ["taskset", "-a", "-p", "-c", every_cpu, str(single.proc.pid)],
                check=False,
                capture_output=True,
            )
            print("fan-out, one redis-server", flush=True)
            report["fanout_single"] = best_fanout(single.url(), [single.proc.pid], rates, seconds, conns)
        finally:
            single.stop()
        # ---- three masters ----
        cluster = RedisCluster(work / "cluster")
        cluster.start()
        try:
            pids = [nd.proc.pid for nd in cluster.nodes if nd.proc is not None]
            print("PUBLISH rate, 3-master cluster", flush=True)
            report["wse_publish_cluster"] = wse_publish_rate(cluster.url(), n, TOPICS, pids)
            print("fan-out, 3-master cluster", flush=True)
            report["fanout_cluster"] = best_fanout(cluster.url(), pids, rates, seconds, conns)
        finally:
            cluster.stop()
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def print_report(r: dict[str, Any]) -> None:
    p1, p32 = r["redis_benchmark_p1"], r["redis_benchmark_p32"]

    def row(label: str, rate: float, calls: float | None = None) -> None:
        shown = f"{calls:,.0f}" if calls else ""
        print(f"| {label} | {rate:,.0f} | {rate / p1:.2f} | {rate / p32:.2f} | {shown} |")

    print(
        "\n| Publisher (64-byte payload) | PUBLISH/s acked | vs redis-benchmark -P 1 | vs -P 32 | calls/s |"
    )
    print("|---|---:|---:|---:|---:|")
    row("redis-benchmark, 50 conns, unpipelined", p1)
    row("redis-benchmark, 50 conns, -P 32", p32)
    for key, label in (("wse_publish", "1 Redis"), ("wse_publish_cluster", "3-master cluster")):
        row(f"WSE publish() from Python, {label}", r[key]["acked_per_s"], r[key]["calls_per_s"])
    if r["peer_publish"]:
        peer = r["peer_publish"]
        row("WSE 1.4.2 broadcast() from Python, 1 Redis", peer["acked_per_s"], peer["calls_per_s"])
    print("| WSE 1.4.2 published figure (unpipelined) | ~13,000 | | | |")

    def best(rows: list[dict[str, Any]]) -> dict[str, Any]:
        ok = [x for x in rows if not x["gaps"] and not x["slow_closed"]]
        return max(ok or rows, key=lambda x: x["deliveries_per_s"])

    w, wc = r["wse_publish"], r["wse_publish_cluster"]
    print("\n| Python publish(), Redis CPU | 1 redis-server | 3-master cluster |")
    print("|---|---:|---:|")
    print(f"| Redis CPU seconds per master | {w['redis_cpu_s']} | {wc['redis_cpu_s']} |")
    us1, us3 = w["redis_cpu_us_per_message"], wc["redis_cpu_us_per_message"]
    print(f"| Redis CPU per message, all masters (us) | {us1:.2f} | {us3:.2f} |")
    busiest = max(wc["redis_cpu_s"]) / max(sum(wc["redis_cpu_s"]), 1e-9)
    print(f"| share of the busiest master | 1.00 | {busiest:.2f} |")

    bs, bc = best(r["fanout_single"]), best(r["fanout_cluster"])
    print(
        "\n| Fan-out (1 publisher, 2 receiving instances) | deliveries/s, 0 gaps | messages/s | Redis CPU s |"
    )
    print("|---|---:|---:|---|")
    for label, b in (("1 redis-server", bs), ("3-master cluster", bc)):
        print(
            f"| {label} | {b['deliveries_per_s']:,.0f} | {b['published_per_s']:,.0f} | {b['redis_cpu_s']} |"
        )
    print(f"| ratio 3 shards / 1 shard | {bc['deliveries_per_s'] / bs['deliveries_per_s']:.2f} | | |")
    print("| WSE 1.4.2 published figure (32 cores) | 1,040,000 | | |")


if __name__ == "__main__":
    sys.exit(main())
