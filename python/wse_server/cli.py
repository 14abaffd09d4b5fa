"""Command-line interface: ``wse serve`` / ``python -m wse_server serve``.

Every option is also read from a ``WSE_*`` environment variable (the option name
in upper case, dashes as underscores: ``--max-connections`` is
``WSE_MAX_CONNECTIONS``); a command-line flag wins over the environment.

Without ``--jwt-secret`` the server generates a development secret, prints a
sample token signed with it and a client snippet, so a newcomer can connect at
once. ``--no-auth`` turns JWT checks off.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("wse.serve")


@dataclass(frozen=True)
class Option:
    flag: str
    kind: Callable[[str], Any]
    default: Any
    help: str

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env(self) -> str:
        return "WSE_" + self.dest.upper()


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got {text!r}")


def _list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


# One table drives the parser, the environment variables and the --help text.
SERVE_OPTIONS: tuple[Option, ...] = (
    Option("--host", str, "127.0.0.1", "interface to listen on (0.0.0.0 for every interface)"),
    Option("--port", int, 5006, "TCP port for WebSocket upgrades, GET /health and GET /metrics"),
    Option("--max-connections", int, 10000, "open WebSocket connections at once; more get HTTP 503"),
    Option("--jwt-secret", str, None, "HS256 secret; unset = a generated development secret (printed token)"),
    Option("--no-auth", _bool, False, "accept connections without a JWT"),
    Option("--jwt-issuer", str, None, "required `iss` claim (unchecked when unset)"),
    Option("--jwt-audience", str, None, "required `aud` claim (unchecked when unset)"),
    Option("--auth-reject-http", _bool, False, "refuse bad tokens with HTTP 401 instead of close code 4401"),
    Option("--io-threads", int, 0, "native I/O threads; 0 = one per core"),
    Option(
        "--coalesce-bursts",
        _bool,
        True,
        "I/O threads yield once to Python on their core (one write per burst)",
    ),
    Option("--max-message-size", int, 1048576, "largest inbound message in bytes; larger closes with 1009"),
    Option(
        "--max-outbound-bytes", int, 4194304, "bytes queued to one client before the slow-consumer policy"
    ),
    Option("--slow-consumer", str, "close", "slow-consumer policy: close (1013) or drop"),
    Option(
        "--max-inbound-queue-size", int, 131072, "inbound events waiting for Python; beyond, counted drops"
    ),
    Option("--heartbeat-interval", float, 15.0, "seconds without output before a WebSocket ping; 0 = off"),
    Option("--idle-timeout", float, 90.0, "seconds without input before closing with 1001; 0 = off"),
    Option("--rate-limit-capacity", float, 10000.0, "inbound token bucket size per connection (messages)"),
    Option(
        "--rate-limit-refill", float, 10000.0, "inbound messages per second per connection; 0 = unlimited"
    ),
    Option("--compression-level", int, 1, "zlib level (1-9) for C: frames"),
    Option(
        "--subscription-policy",
        _list,
        ["*"],
        "comma-separated topic patterns clients may subscribe to themselves ({user_id} allowed); "
        "empty = client subscription requests go to the application",
    ),
    Option("--encryption", _bool, True, "offer end-to-end encryption to clients asking ?encryption=true"),
    Option("--allowed-origins", _list, [], "comma-separated Origin values allowed to connect (empty = any)"),
    Option(
        "--redis-url",
        str,
        None,
        "scale out through Redis: redis://[[user]:password@]host[:port][/db] or rediss:// (TLS); "
        "unset = one instance",
    ),
    Option(
        "--redis-cluster", str, "auto", "auto (ask the server), yes (Redis Cluster, sharded pub/sub) or no"
    ),
    Option("--redis-raw-compat", _bool, False, "WSE 1.4's format on Redis (PSUBSCRIBE wse:*, raw payloads)"),
    Option(
        "--demo-interval", float, 1.0, "seconds between demo ticks published on topic demo:ticks; 0 = off"
    ),
    Option("--log-level", str, "INFO", "DEBUG, INFO, WARNING or ERROR"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wse", description="WSE real-time WebSocket engine")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the standalone server",
        description="Run the standalone WSE server. Every option can also be set through the "
        "environment variable shown in brackets.",
    )
    for opt in SERVE_OPTIONS:
        env_value = os.environ.get(opt.env)
        default = opt.default
        if env_value is not None:
            try:
                default = opt.kind(env_value)
            except (ValueError, argparse.ArgumentTypeError) as exc:
                parser.error(f"{opt.env}={env_value!r}: {exc}")
        if opt.kind is _bool:
            serve.add_argument(
                opt.flag,
                dest=opt.dest,
                nargs="?",
                const=True,
                type=_bool,
                default=default,
                help=f"{opt.help} [{opt.env}]",
            )
        else:
            serve.add_argument(
                opt.flag,
                dest=opt.dest,
                type=opt.kind,
                default=default,
                help=f"{opt.help} (default: {opt.default!r}) [{opt.env}]",
            )
    return parser


def make_dev_token(secret: bytes, sub: str = "dev-user", hours: int = 24) -> str:
    from wse_server import jwt_encode  # noqa: PLC0415 (the extension loads only when needed)

    now = int(time.time())
    return str(jwt_encode({"sub": sub, "iat": now, "exp": now + hours * 3600}, secret))


def _banner(args: argparse.Namespace, port: int, token: str | None, generated: bool) -> str:
    shown_host = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host
    url = f"ws://{shown_host}:{port}/wse"
    lines = [
        f"WSE standalone server listening on {args.host}:{port}",
        f"  health:  http://{shown_host}:{port}/health    metrics: http://{shown_host}:{port}/metrics",
    ]
    if token is not None:
        note = " (generated development secret; pass --jwt-secret for production)" if generated else ""
        lines += [f"  sample JWT for user 'dev-user', valid 24 h{note}:", f"    {token}"]
        url += f"?token={token}"
    lines += [
        "  try it from Python (pip install websockets):",
        "    import asyncio, websockets",
        "    async def main():",
        f"        async with websockets.connect('{url}') as ws:",
        "            print(await ws.recv())   # server_ready",
        '            await ws.send(\'WSE{"t":"subscription_update","p":{"action":"subscribe",'
        '"topics":["demo:ticks"]}}\')',
        "            while True: print(await ws.recv())",
        "    asyncio.run(main())",
        "  Ctrl+C stops the server gracefully.",
    ]
    if args.redis_url:
        shown = re.sub(r"://([^:@/]*):[^@/]*@", r"://\1:***@", args.redis_url)
        lines.insert(2, f"  scaling out through Redis at {shown}: publish() reaches every instance")
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    from wse_server import WSEServer  # noqa: PLC0415 (the extension loads only when needed)

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    generated = False
    secret: bytes | None = None
    if not args.no_auth:
        if args.jwt_secret:
            secret = args.jwt_secret.encode()
        else:
            secret = secrets.token_urlsafe(32).encode()
            generated = True
    try:
        server = WSEServer(
            args.host,
            args.port,
            max_connections=args.max_connections,
            jwt_secret=secret,
            jwt_issuer=args.jwt_issuer,
            jwt_audience=args.jwt_audience,
            max_inbound_queue_size=args.max_inbound_queue_size,
            io_threads=args.io_threads,
            max_message_size=args.max_message_size,
            max_outbound_bytes=args.max_outbound_bytes,
            slow_consumer=args.slow_consumer,
            heartbeat_interval=args.heartbeat_interval,
            idle_timeout=args.idle_timeout,
            rate_limit_capacity=args.rate_limit_capacity,
            rate_limit_refill=args.rate_limit_refill,
            compression_level=args.compression_level,
            subscription_policy=args.subscription_policy or None,
            allowed_origins=args.allowed_origins,
            auth_reject_http=args.auth_reject_http,
            coalesce_bursts=args.coalesce_bursts,
            encryption=args.encryption,
        )
        if args.redis_url:
            modes = {"auto": None, "yes": True, "no": False}
            if args.redis_cluster not in modes:
                raise ValueError(f"--redis-cluster must be auto, yes or no, not {args.redis_cluster!r}")
            server.connect_redis(
                args.redis_url, cluster=modes[args.redis_cluster], raw_compat=args.redis_raw_compat
            )
        server.start()
    except (ValueError, RuntimeError) as exc:
        print(f"wse serve: {exc}", file=sys.stderr)
        return 2

    # Before the banner: whoever reads it may signal us at once.
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    token = None
    if secret is not None:
        token = make_dev_token(secret) if generated else None
    print(_banner(args, server.port, token, generated), flush=True)

    seq = 0
    next_tick = time.monotonic() + args.demo_interval if args.demo_interval > 0 else None
    try:
        while not stopping.is_set():
            for kind, conn_id, data in server.drain_inbound(256, 50):
                handle_event(server, kind, conn_id, data)
            if next_tick is not None and time.monotonic() >= next_tick:
                # With Redis, the ticks of every instance reach the clients of every instance.
                (server.publish if args.redis_url else server.publish_local)(
                    "demo:ticks",
                    json.dumps(
                        {"t": "demo_tick", "p": {"seq": seq, "time": time.time()}}, separators=(",", ":")
                    ),
                )
                seq += 1
                next_tick += args.demo_interval
    finally:
        server.stop()
        log.info("stopped")
    return 0


def handle_event(server: Any, kind: str, conn_id: str, data: Any) -> None:
    """The demo application: logs lifecycle events and echoes `echo` messages."""
    if kind in {"connect", "auth_connect"}:
        log.info("connect %s%s", conn_id, f" user={data}" if kind == "auth_connect" else "")
    elif kind == "disconnect":
        log.info("disconnect %s", conn_id)
    elif kind == "msg" and isinstance(data, dict) and data.get("t") == "echo":
        reply: dict[str, Any] = {"t": "echo", "p": data.get("p")}
        if "cid" in data:  # request/reply: the client matches the answer by correlation id
            reply["cid"] = data["cid"]
        server.send_event(conn_id, reply)
    else:
        log.debug("%s from %s: %r", kind, conn_id, data)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 1
