"""Data pipeline: consume events with ``async for`` and process them in batches.

A batch closes at --batch-size events or --max-wait seconds, whichever comes
first; each batch is "processed" (here: summarised) in one go, the way a
pipeline would write to a database or a queue.

    python examples/client_pipeline.py --url ws://127.0.0.1:5006/wse --token <jwt> --batches 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections import Counter

from wse_client import AsyncWSEClient, WSEEvent, WSETimeoutError


def process(batch: list[WSEEvent]) -> dict[str, object]:
    """The pipeline stage: one call per batch."""
    return {"events": len(batch), "types": dict(Counter(e.type for e in batch))}


async def run(
    url: str, token: str | None, *, topics: list[str], batch_size: int, max_wait: float, batches: int
) -> int:
    done = 0
    async with AsyncWSEClient(url, token=token, queue_size=10_000) as client:
        await client.subscribe(topics)
        batch: list[WSEEvent] = []
        opened = time.monotonic()
        while batches == 0 or done < batches:
            left = max_wait - (time.monotonic() - opened)
            with contextlib.suppress(WSETimeoutError):
                batch.append(await client.recv(timeout=max(left, 0.001)))
            if len(batch) >= batch_size or (batch and time.monotonic() - opened >= max_wait):
                print(f"batch {done}: {process(batch)}", flush=True)
                batch, done = [], done + 1
                opened = time.monotonic()
            elif not batch and time.monotonic() - opened >= max_wait:
                opened = time.monotonic()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("WSE_URL", "ws://127.0.0.1:5006/wse"))
    parser.add_argument("--token", default=os.environ.get("WSE_TOKEN"))
    parser.add_argument("--topics", default="demo:ticks")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--max-wait", type=float, default=2.0, help="seconds before a partial batch closes")
    parser.add_argument("--batches", type=int, default=0, help="stop after this many batches (0 = never)")
    args = parser.parse_args(argv)
    topics = [t for t in args.topics.split(",") if t]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run(
                args.url,
                args.token,
                topics=topics,
                batch_size=args.batch_size,
                max_wait=args.max_wait,
                batches=args.batches,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
