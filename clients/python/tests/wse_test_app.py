"""A small WSE application for the client tests, written against the seed's
public server API only (RustWSEServer: drain_inbound, send_event,
subscribe_connection, broadcast_local), so the same file drives our server
and the original 1.4.2 engine (a black box, run from its own venv).

It runs in-process (``App(server).start()``) or as a process:

    python wse_test_app.py --port 5006 [--jwt-secret S] [--tick-interval 0.02 --epoch T] [--replay]

Commands it understands (client -> server ``t``):
  subscription_update  subscribe/unsubscribe, acknowledged like our native handler
  echo                 replies ``echo_reply`` with the same payload and ``cid``
  publish              p = {topic, count, size?}: count messages on the topic, each
                       with ``topic``, a per-topic ``seq`` and id ``<topic>-<seq>``
  big                  p = {size}: one ``big_reply`` event (compressed on the wire)
  batch                replies ``batch_ack`` with the number of messages
  sync_request         with --replay: re-sends the ticks after p.last_sequence
  bye                  the server disconnects this connection
The ticker publishes ``tick`` n = floor((now - epoch) / interval) on topic
``ticks``; tick n is a pure function of n, so a restarted process continues the
numbering and can regenerate any tick for replay. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

TICKS = "ticks"


def tick_event(n: int) -> dict[str, Any]:
    return {"t": "tick", "topic": TICKS, "seq": n, "id": f"{TICKS}-{n}", "p": {"n": n}}


def _text(event: dict[str, Any]) -> str:
    return "U" + json.dumps(event, separators=(",", ":"))


class App:
    def __init__(
        self,
        server: Any,
        *,
        tick_interval: float = 0.0,
        epoch: float | None = None,
        replay: bool = False,
    ) -> None:
        self.server = server
        self.tick_interval = tick_interval
        self.epoch = time.time() if epoch is None else epoch
        self.replay = replay
        self.topic_seq: dict[str, int] = {}
        self.received: list[tuple[str, str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The last tick published: the ticker starts with the tick due at start-up.
        self._last_tick = self.current_tick() - 1 if tick_interval > 0 else -1
        self.lock = threading.Lock()

    def start(self) -> App:
        self._thread = threading.Thread(target=self.run, name="wse-test-app", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def current_tick(self) -> int:
        return int((time.time() - self.epoch) / self.tick_interval)

    def run(self) -> None:
        while not self._stop.is_set():
            for kind, conn_id, data in self.server.drain_inbound(256, 10):
                with self.lock:
                    self.received.append((kind, conn_id, data))
                try:
                    self.handle(kind, conn_id, data)
                except Exception as exc:  # keep serving; the test sees the missing reply
                    print(f"wse_test_app: {kind} from {conn_id} failed: {exc!r}", file=sys.stderr)
            if self.tick_interval > 0:
                now_tick = self.current_tick()
                # Every tick once, even when a loop turn took longer than an interval.
                start = self._last_tick + 1
                for n in range(start, now_tick + 1):
                    self.server.broadcast_local(TICKS, _text(tick_event(n)))
                self._last_tick = now_tick

    def handle(self, kind: str, conn_id: str, data: Any) -> None:
        if kind != "msg" or not isinstance(data, dict):
            return
        t = data.get("t")
        raw_p = data.get("p")
        p: dict[str, Any] = raw_p if isinstance(raw_p, dict) else {}
        cid = data.get("cid")
        send = self.server.send_event
        if t in ("subscription_update", "subscription"):
            topics = [x for x in p.get("topics", []) if isinstance(x, str)]
            action = p.get("action", "subscribe")
            if action == "subscribe":
                self.server.subscribe_connection(conn_id, topics)
            else:
                self.server.unsubscribe_connection(conn_id, topics)
            ack = {
                "action": action,
                "success": True,
                "success_topics": topics,
                "failed_topics": [],
                "active_subscriptions": topics,
            }
            send(conn_id, {"t": "subscription_update", "p": ack})
        elif t == "echo":
            reply: dict[str, Any] = {"t": "echo_reply", "p": p}
            if cid is not None:
                reply["cid"] = cid
            send(conn_id, reply)
        elif t == "publish":
            topic = str(p["topic"])
            filler = "x" * int(p.get("size", 0))
            for _ in range(int(p.get("count", 1))):
                n = self.topic_seq.get(topic, 0)
                self.topic_seq[topic] = n + 1
                event = {
                    "t": "pub",
                    "topic": topic,
                    "seq": n,
                    "id": f"{topic}-{n}",
                    "p": {"n": n, "fill": filler},
                }
                self.server.broadcast_local(topic, _text(event))
        elif t == "big":
            send(conn_id, {"t": "big_reply", "p": {"data": "wse " * (int(p.get("size", 4096)) // 4)}})
        elif t == "batch":
            messages = p.get("messages", [])
            send(
                conn_id,
                {"t": "batch_ack", "p": {"count": len(messages), "types": [m.get("t") for m in messages]}},
            )
        elif t == "sync_request" and self.replay and self.tick_interval > 0:
            last = p.get("last_sequence", {})
            if isinstance(last, dict) and isinstance(last.get(TICKS), int):
                # Up to the last tick already published: later ones reach us live.
                for n in range(last[TICKS] + 1, self._last_tick + 1):
                    send(conn_id, tick_event(n))
        elif t == "bye":
            self.server.disconnect(conn_id)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jwt-secret", default=None)
    parser.add_argument("--tick-interval", type=float, default=0.0)
    parser.add_argument("--epoch", type=float, default=None)
    parser.add_argument("--replay", action="store_true")
    args = parser.parse_args()
    from wse_server._wse_accel import RustWSEServer  # noqa: PLC0415 (either engine)

    secret = args.jwt_secret.encode() if args.jwt_secret else None
    server = RustWSEServer("127.0.0.1", args.port, 1000, secret)
    server.enable_drain_mode()
    server.start()
    deadline = time.monotonic() + 10
    while not server.is_running():
        if time.monotonic() > deadline:
            print("wse_test_app: server did not start", file=sys.stderr)
            return 1
        time.sleep(0.01)
    app = App(server, tick_interval=args.tick_interval, epoch=args.epoch, replay=args.replay)
    print(f"READY {args.port}", flush=True)
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
