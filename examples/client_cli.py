"""CLI tool: print events from a WSE server with the blocking client and a recv() loop.

    make run                      # a server on :5006 that prints a sample JWT
    python examples/client_cli.py --url ws://127.0.0.1:5006/wse --token <jwt> --topics demo:ticks

Stops after --count events or --seconds, or on Ctrl+C.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from wse_client import SyncWSEClient, WSEAuthError, WSEConnectionError, WSETimeoutError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("WSE_URL", "ws://127.0.0.1:5006/wse"))
    parser.add_argument("--token", default=os.environ.get("WSE_TOKEN"))
    parser.add_argument("--topics", default="demo:ticks", help="comma-separated topics")
    parser.add_argument("--count", type=int, default=0, help="stop after this many events (0 = no limit)")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0 = no limit)")
    args = parser.parse_args(argv)

    client = SyncWSEClient(args.url, token=args.token)
    try:
        client.connect()
    except WSEAuthError as exc:
        print(f"authentication failed: {exc} (pass --token)", file=sys.stderr)
        return 2
    except WSEConnectionError as exc:
        print(f"cannot connect: {exc}", file=sys.stderr)
        return 1
    received = 0
    deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
    try:
        topics = [t for t in args.topics.split(",") if t]
        if not client.subscribe(topics):
            print(f"warning: subscription to {topics} not confirmed", file=sys.stderr)
        while args.count == 0 or received < args.count:
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                event = client.recv(timeout=1.0)
            except WSETimeoutError:
                continue
            received += 1
            print(f"{event.type} seq={event.sequence} {json.dumps(event.payload)}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
    print(f"received {received} events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
