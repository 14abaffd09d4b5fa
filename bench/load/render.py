"""Prints the markdown tables of a load benchmark result (bench/load/run.py).

    .venv/bin/python bench/load/render.py [bench/results/load.json]

Ratios are against the raw epoll program (the machine's limit) and against the
original engine (wse-1.4.2) measured in the same run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
Result = dict[str, Any]


def ratio(value: float, base: float | None) -> str:
    if not base or base <= 0 or value <= 0:
        return "-"
    return f"{value / base:.2f}x"


def fmt_rate(v: float) -> str:
    return f"{v:,.0f}"


def cpu(r: Result) -> str:
    s, c = r.get("server_cpu", -1), r.get("client_cpu", 0)
    return f"{s * 100:.0f} % / {c * 100:.0f} %" if s >= 0 else "-"


def others(r: Result) -> str:
    """CPU that other processes took on the server's and the loadgen's core during the window."""
    busy = r.get("core_busy")
    if not busy or len(busy) < 2:
        return "-"
    s0 = max(0.0, busy[0] - max(0.0, r.get("server_cpu", 0)))
    s1 = max(0.0, busy[1] - r.get("client_cpu", 0))
    return f"{s0 * 100:.0f} % / {s1 * 100:.0f} %"


def lat(r: Result, keys: tuple[str, ...] = ("p50", "p99")) -> str:
    la = r.get("latency_us", {})
    return " / ".join(f"{la.get(k, 0) / 1000:.2f}" for k in keys)


def table(
    title: str,
    rows: list[Result],
    metric: Callable[[Result], float],
    *,
    unit: str,
    extra: list[tuple[str, Callable[[Result], str]]],
    higher_is_better: bool = True,
) -> str:
    if not rows:
        return ""
    by_peer = {r["peer"]: r for r in rows}

    def base(peer: str) -> float | None:
        r = by_peer.get(peer)
        return metric(r) if r and r.get("ok") else None

    raw, orig = base("raw"), base("wse-1.4.2")
    head = f"| Peer | {unit} | vs raw | vs wse-1.4.2 |" + "".join(f" {h} |" for h, _ in extra)
    sep = "|---|---:|---:|---:|" + "---:|" * len(extra)
    lines = [f"#### {title}", "", head, sep]
    for r in rows:
        if not r.get("ok"):
            lines.append(f"| {r['peer']} | failed: {str(r.get('error', ''))[:60]} | | |" + " |" * len(extra))
            continue
        v = metric(r)
        vs_raw = ratio(v, raw) if higher_is_better else ratio(raw or 0, v)
        vs_orig = ratio(v, orig) if higher_is_better else ratio(orig or 0, v)
        cells = "".join(f" {f(r)} |" for _, f in extra)
        lines.append(f"| {r['peer']} | {fmt_rate(v)} | {vs_raw} | {vs_orig} |{cells}")
    return "\n".join(lines) + "\n"


def ns_per_op(r: Result) -> str:
    v = r.get("server_cpu_ns_per_op") or r.get("server_cpu_ns_per_server_op")
    return f"{v:,.0f}" if v else "-"


def targets(res: list[Result]) -> str:
    """The issue's targets against this run (ours = peer "wse")."""

    def get(peer: str, name: str) -> Result | None:
        for r in res:
            if r.get("peer") == peer and r.get("name") == name and r.get("ok"):
                return r
        return None

    def rate(r: Result | None, key: str = "rate_per_s") -> float:
        return float(r.get(key, 0)) if r else 0.0

    rows = ["| Target | Measured | Met |", "|---|---:|:---:|"]

    def line(what: str, value: str, ok: bool) -> None:
        rows.append(f"| {what} | {value} | {'yes' if ok else 'no'} |")

    for subs in (100, 1000, 10000):
        ours, raw, orig = (get(p, f"fanout_{subs}") for p in ("wse", "raw", "wse-1.4.2"))
        gaps = int(ours.get("gaps", -1)) if ours else -1
        vs_raw = rate(ours) / rate(raw) if rate(raw) else 0
        vs_orig = rate(ours) / rate(orig) if rate(orig) else 0
        line(
            f"fan-out {subs:,}: >= 90 % of raw, 0 gaps",
            f"{vs_raw * 100:.0f} %, {gaps} gaps",
            vs_raw >= 0.9 and gaps == 0,
        )
        line(f"fan-out {subs:,}: >= 3x wse-1.4.2", f"{vs_orig:.2f}x", vs_orig >= 3)
        ns = {
            p: (r or {}).get("server_cpu_ns_per_op", 0)
            for p, r in (("wse", ours), ("raw", raw), ("orig", orig))
        }
        if ns["wse"]:
            rows.append(
                f"| fan-out {subs:,}: server CPU per delivery (when the load generator is the limit) | "
                f"{ns['wse']:,.0f} ns; raw {ns['raw']:,.0f} ns; wse-1.4.2 {ns['orig']:,.0f} ns "
                f"({ns['orig'] / ns['wse']:.1f}x less) | - |"
            )
    ours, raw, orig = (get(p, "echo") for p in ("wse", "raw", "wse-1.4.2"))
    vs_raw = rate(ours) / rate(raw) if rate(raw) else 0
    vs_orig = rate(ours) / rate(orig) if rate(orig) else 0
    line("echo: >= 90 % of raw", f"{vs_raw * 100:.0f} %", vs_raw >= 0.9)
    line("echo: >= 1.5x wse-1.4.2", f"{vs_orig:.2f}x", vs_orig >= 1.5)
    acc = rate(get("wse", "accept"))
    line("accept with JWT: >= 20,000 handshakes/s", f"{acc:,.0f}/s", acc >= 20000)
    idle = rate(get("wse", "idle_10000"), "rss_per_conn_bytes")
    line("RSS per idle connection: <= 1 KiB", f"{idle:,.0f} bytes", 0 < idle <= 1024)
    flood = rate(get("wse", "flood"), "server_rate_per_s")
    line("drained events into Python: >= 1M/s", f"{flood:,.0f}/s", flood >= 1e6)
    return "#### Targets of the issue in this run\n\n" + "\n".join(rows) + "\n"


def render(doc: dict[str, Any]) -> str:
    res: list[Result] = doc["results"]
    m, o = doc.get("machine", {}), doc.get("options", {})
    out = [
        f"Run of {m.get('date', '?')} on {m.get('cpu', '?')} ({m.get('cores', '?')} cores, "
        f"kernel {m.get('kernel', '?')}), load average at start {m.get('loadavg_at_start', '?')}; "
        f"warm-up {o.get('warmup_s')} s, window {o.get('duration_s')} s, {o.get('size')}-byte messages, "
        f"server on core {o.get('server_core')}, load generator on core {o.get('load_core')}.",
        "",
    ]

    out.append(targets(res))

    def pick(name: str) -> list[Result]:
        return [r for r in res if r.get("name") == name]

    rate: Callable[[Result], float] = lambda r: float(r.get("rate_per_s", 0))  # noqa: E731
    common = [
        ("gaps", lambda r: str(r.get("gaps", "-"))),
        ("p50 / p99 ms", lat),
        ("CPU server / loadgen", cpu),
        ("server ns/op", ns_per_op),
        ("others' CPU core 0 / 1", others),
    ]
    for subs in (100, 1000, 10000):
        title = f"Fan-out to {subs:,} subscribers"
        out.append(table(title, pick(f"fanout_{subs}"), rate, unit="deliveries/s", extra=common))
    title = "Echo round trips (100 connections, 8 in flight each)"
    out.append(table(title, pick("echo"), rate, unit="round trips/s", extra=common))
    out.append(
        table(
            "Accept rate with a JWT (64 handshakes in flight)",
            pick("accept"),
            rate,
            unit="handshakes/s",
            extra=[
                ("p50 / p99 ms", lat),
                ("CPU server / loadgen", cpu),
                ("server ns/op", ns_per_op),
                ("others' CPU core 0 / 1", others),
            ],
        )
    )
    out.append(
        table(
            "Ping RTT at low load (10 connections, 100 pings/s each)",
            pick("ping"),
            lambda r: float(r.get("latency_us", {}).get("p50", 0)),
            unit="p50 us",
            extra=[
                ("p99 us", lambda r: f"{r.get('latency_us', {}).get('p99', 0):,.0f}"),
                ("p99.9 us", lambda r: f"{r.get('latency_us', {}).get('p999', 0):,.0f}"),
            ],
            higher_is_better=False,
        )
    )
    for pct in (25, 50, 80):
        rows = pick(f"paced_{pct}")
        out.append(
            table(
                f"Delivery latency at {pct} % of each peer's own fan-out saturation (1,000 subscribers)",
                rows,
                rate,
                unit="deliveries/s",
                extra=[
                    ("gaps", lambda r: str(r.get("gaps", "-"))),
                    ("p50 / p99 / p99.9 ms", lambda r: lat(r, ("p50", "p99", "p999"))),
                    ("CPU server / loadgen", cpu),
                ],
            )
        )
    out.append(
        table(
            "RSS per idle connection (10,000 connections)",
            pick("idle_10000"),
            lambda r: float(r.get("rss_per_conn_bytes", 0)),
            unit="bytes/conn",
            extra=[],
            higher_is_better=False,
        )
    )
    out.append(
        table(
            "Inbound flood: JSON messages that reach the application (counted by the server)",
            pick("flood"),
            lambda r: float(r.get("server_rate_per_s", 0)),
            unit="events/s",
            extra=[
                ("CPU server / loadgen", cpu),
                ("server ns/event", ns_per_op),
                ("others' CPU core 0 / 1", others),
            ],
        )
    )
    return "\n".join(x for x in out if x)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "results" / "load.json"
    print(render(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
