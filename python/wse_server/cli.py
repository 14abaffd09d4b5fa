"""Command-line interface: ``wse serve`` / ``python -m wse_server serve``."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wse", description="WSE real-time WebSocket engine")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the standalone server")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        print(
            "wse serve: the standalone server is not built yet (see the issue tracker); "
            "this placeholder only proves the package imports.",
            file=sys.stderr,
        )
        return 2
    return 1
