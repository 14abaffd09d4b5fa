"""One WSE instance for the multi-instance tests, in its own process.

Usage: redis_instance.py NAME REDIS_URL CONNECT_KWARGS_JSON
Starts a WSEServer on a free port (clients may subscribe themselves to any
topic), calls connect_redis(REDIS_URL, **kwargs), prints {"port": N}, then
answers one JSON command per stdin line with one JSON line on stdout:
  health                          -> {"health": {...}}
  publish topics count [local]    -> publishes count rounds over topics, payload
                                     {"pub": NAME, "topic": t, "i": n} (n counts per topic)
  stream_start topic period_ms    -> a thread publishes on topic every period_ms (and
                                     publish_local on topic + ":local"), recording each
                                     publish's time and whether redis_connected() held
  stream_stop                     -> {"log": [[i, t_unix, connected], ...]}
  paced topics rate seconds       -> publishes about `rate` messages/s for `seconds`
                                     (round robin over topics), then {"sent": n, "elapsed": s}
  dlq                             -> {"entries": [...]} (drains)
  stop                            -> stops the server and exits
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from wse_server import WSEServer


class Streamer:
    def __init__(self, server: WSEServer, name: str, topic: str, period_ms: float) -> None:
        self.server, self.name, self.topic, self.period = server, name, topic, period_ms / 1000.0
        self.log: list[tuple[int, float, bool]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        i = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            connected = self.server.redis_connected()
            body = json.dumps({"pub": self.name, "topic": self.topic, "i": i})
            self.log.append((i, time.time(), connected))
            self.server.publish(self.topic, body)
            local = json.dumps({"pub": self.name, "topic": self.topic + ":local", "i": i})
            self.server.publish_local(self.topic + ":local", local)
            i += 1
            next_at += self.period
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def main() -> None:
    name, url, kwargs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    server = WSEServer("127.0.0.1", 0, max_connections=10000, io_threads=1, subscription_policy=["*"])
    server.start()
    server.connect_redis(url, **kwargs)
    print(json.dumps({"port": server.port}), flush=True)
    counters: dict[str, int] = {}
    streamer: Streamer | None = None
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        reply: dict[str, Any] = {"ok": True}
        try:
            if op == "health":
                reply["health"] = server.health_snapshot()
            elif op == "publish":
                send = server.publish_local if cmd.get("local") else server.publish
                sent = 0
                for _ in range(int(cmd["count"])):
                    for topic in cmd["topics"]:
                        i = counters.get(topic, 0)
                        counters[topic] = i + 1
                        send(topic, json.dumps({"pub": name, "topic": topic, "i": i}))
                        sent += 1
                reply["sent"] = sent
            elif op == "paced":
                topics, rate, seconds = cmd["topics"], float(cmd["rate"]), float(cmd["seconds"])
                start = time.monotonic()
                sent = 0
                while (now := time.monotonic() - start) < seconds:
                    due = int(now * rate)
                    while sent < due:
                        topic = topics[sent % len(topics)]
                        i = counters.get(topic, 0)
                        counters[topic] = i + 1
                        server.publish(topic, json.dumps({"pub": name, "topic": topic, "i": i}))
                        sent += 1
                    time.sleep(0.0005)
                reply["sent"] = sent
                reply["elapsed"] = time.monotonic() - start
            elif op == "stream_start":
                streamer = Streamer(server, name, cmd["topic"], float(cmd["period_ms"]))
            elif op == "stream_stop":
                assert streamer is not None
                streamer.stop.set()
                streamer.thread.join()
                reply["log"] = streamer.log
                streamer = None
            elif op == "dlq":
                reply["entries"] = [
                    {k: (v if isinstance(v, str) else repr(v)) for k, v in e.items()}
                    for e in server.get_dlq_entries()
                ]
            elif op == "stop":
                server.stop()
                print(json.dumps(reply), flush=True)
                return
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception as e:  # report, keep serving
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)
    server.stop()


if __name__ == "__main__":
    main()
