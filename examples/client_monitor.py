"""Monitoring: react to events with callbacks (@client.on, on_any, on_gap,
on_state_change) and report connection quality from the client's heartbeat.

    python examples/client_monitor.py --url ws://127.0.0.1:5006/wse --token <jwt> --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os

from wse_client import AsyncWSEClient, ConnectionState, Gap, WSEEvent


def build(url: str, token: str | None, heartbeat: float) -> AsyncWSEClient:
    client = AsyncWSEClient(url, token=token, heartbeat_interval=heartbeat, dead_after=heartbeat * 4)
    counts: dict[str, int] = {}

    @client.on("demo_tick")
    def on_tick(event: WSEEvent) -> None:
        print(f"tick {event.payload.get('seq')}", flush=True)

    @client.on("rate_limit_warning")
    def on_rate_limit(event: WSEEvent) -> None:
        print(f"ALERT rate limited: retry after {event.payload.get('retry_after')}s", flush=True)

    @client.on_any
    def count(event: WSEEvent) -> None:
        counts[event.type] = counts.get(event.type, 0) + 1

    @client.on_gap
    def on_gap(gap: Gap) -> None:
        print(f"ALERT {gap.count} message(s) missing on {gap.stream or 'the connection'}", flush=True)

    @client.on_state_change
    def on_state(state: ConnectionState) -> None:
        print(f"state {state.value}", flush=True)

    client.counts = counts  # type: ignore[attr-defined]
    return client


async def report(client: AsyncWSEClient, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        net = client.network
        latency = f"{net.latency_ms:.1f} ms" if net.latency_ms is not None else "n/a"
        print(
            f"quality {client.connection_quality.value} latency {latency} jitter {net.jitter_ms:.1f} ms",
            flush=True,
        )


async def run(url: str, token: str | None, topics: list[str], seconds: float, heartbeat: float) -> None:
    client = build(url, token, heartbeat)
    async with client:
        await client.subscribe(topics)
        reporter = asyncio.create_task(report(client, heartbeat * 2))
        try:
            # Callbacks do the work; the stream itself is drained and discarded.
            await asyncio.wait_for(client.run_forever(), seconds if seconds > 0 else None)
        except TimeoutError:
            pass
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
    print(f"events by type: {client.counts}", flush=True)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("WSE_URL", "ws://127.0.0.1:5006/wse"))
    parser.add_argument("--token", default=os.environ.get("WSE_TOKEN"))
    parser.add_argument("--topics", default="demo:ticks")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0 = never)")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="seconds between pings")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run(args.url, args.token, [t for t in args.topics.split(",") if t], args.seconds, args.heartbeat)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
