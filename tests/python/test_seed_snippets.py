"""Every code block of the seed "Rust Utility Reference", run unchanged.

The snippets below are the seed's Python blocks byte for byte (test_snippets_are_verbatim compares
them with the seed when the shared folder is next to the repository). Each test executes one block in
a fresh namespace, after the seed's own import block, and then checks what the seed's comments
promise. Names the seed leaves to the reader (``process_request``, ``deliver``, ``payload``, ``data``
...) are supplied by the test.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import wse_server
from wse_server import _wse_accel

SEED_NAME = "000_d136002e9030bb0a.txt"

# Each literal starts with a newline after r""" (for readability); SNIPPETS drops it.
_RAW: dict[str, str] = {
    "imports": r"""
from wse_server import (
    RustPriorityQueue,
    RustPriorityMessageQueue,
    RustTokenBucket,
    RustSequencer,
    RustEventSequencer,
    RustCompressionManager,
    rust_compress,
    rust_decompress,
    rust_should_compress,
    rust_aes_gcm_encrypt,
    rust_aes_gcm_decrypt,
    rust_ecdh_generate_keypair,
    rust_ecdh_derive_shared_secret,
    rust_hmac_sha256,
    rust_sha256,
    rust_sign_message,
    rust_jwt_encode,
    rust_jwt_decode,
    rust_transform_event,
    rust_match_event,
)
""",
    "priority_queue": r"""
q = RustPriorityQueue(max_size=500)

q.push(priority=10, message={"action": "alert"})   # returns True
q.push(priority=5, message={"action": "update"})

msg = q.pop()        # returns {"action": "alert"} (priority 10 first)
batch = q.drain(50)  # up to 50 messages in priority order

q.len()              # current size
q.is_full()          # True if at capacity
q.clear()            # empty the queue
""",
    "priority_message_queue": r"""
q = RustPriorityMessageQueue(max_size=1000, batch_size=10)

q.enqueue({"trade": "AAPL"}, priority=8)     # returns True if accepted
q.enqueue({"heartbeat": True}, priority=1)    # BACKGROUND priority

batch = q.dequeue_batch()  # list of (priority, message) tuples
# [(8, {"trade": "AAPL"}), (1, {"heartbeat": True})]

q.size           # current message count (property)
q.get_stats()    # detailed statistics dict
q.clear()        # empty all queues and reset stats
""",
    "token_bucket": r"""
# 100 requests per second, start full
bucket = RustTokenBucket(capacity=100.0, refill_rate=100.0)

# Try to consume 1 token
if bucket.acquire(1.0):
    process_request()
else:
    reject_request()

bucket.tokens   # current token count after refill (property)
bucket.reset()  # refill to capacity
""",
    "sequencer": r"""
seq = RustSequencer(window_size=10000)

n = seq.next_seq()           # increment and return
n = seq.get_current_seq()    # read without incrementing

if seq.is_duplicate("evt-abc-123"):
    drop(event)

seq.cleanup(max_age_secs=300.0)  # evict entries older than 5 minutes
seq.seen_count()                  # number of tracked event IDs
""",
    "event_sequencer": r"""
es = RustEventSequencer(window_size=10000, max_out_of_order=100)

# Generate sequence numbers
seq_num = es.next_seq()

# Deduplication
if es.is_duplicate("evt-abc-123"):
    drop(event)

# Per-topic ordered delivery
result = es.process_sequenced_event("prices", sequence=42, event=payload)
if result is not None:
    for event in result:      # may include buffered events now in order
        deliver(event)

# Monitoring
es.get_sequence_stats()  # per-topic gaps, buffer sizes, duplicate counts
es.get_buffer_stats()    # topics with buffered (out-of-order) events

# Maintenance
es.cleanup()                       # evict buffered events older than 5 min
es.reset_sequence("prices")        # reset one topic
es.reset_sequence()                # reset all topics
""",
    "compression_manager": r"""
cm = RustCompressionManager(threshold=1024, compression_level=6)

if cm.should_compress(data):
    compressed = cm.compress(data)
    original = cm.decompress(compressed)

# Msgpack serialization
packed = cm.pack_msgpack({"key": "value"})
unpacked = cm.unpack_msgpack(packed)

# Event packing (msgpack with JSON fallback)
packed = cm.pack_event(event_dict, use_msgpack=True)
event = cm.unpack_event(packed, is_msgpack=True)

cm.get_stats()     # compression statistics
cm.reset_stats()   # clear counters
""",
    "compression_functions": r"""
compressed = rust_compress(data, level=6)
original = rust_decompress(compressed)
should = rust_should_compress(data, threshold=1024)  # len(data) > threshold
""",
    "aes_gcm": r"""
key = os.urandom(32)  # 256-bit key

ciphertext = rust_aes_gcm_encrypt(key, b"secret message")
# ciphertext = IV (12) + encrypted data + tag (16)

plaintext = rust_aes_gcm_decrypt(key, ciphertext)
# b"secret message"
""",
    "ecdh": r"""
# Each side generates a keypair
priv_a, pub_a = rust_ecdh_generate_keypair()  # (32 bytes, 65 bytes SEC1)
priv_b, pub_b = rust_ecdh_generate_keypair()

# Each side derives the same shared key
key_a = rust_ecdh_derive_shared_secret(priv_a, pub_b)  # 32 bytes
key_b = rust_ecdh_derive_shared_secret(priv_b, pub_a)  # 32 bytes
assert key_a == key_b

# Use the shared key for AES-GCM
ciphertext = rust_aes_gcm_encrypt(key_a, b"encrypted with shared secret")
plaintext = rust_aes_gcm_decrypt(key_b, ciphertext)
""",
    "hmac_hashing": r"""
mac = rust_hmac_sha256(key=b"secret", data=b"message")  # 32 bytes
hex_digest = rust_sha256(b"data")                        # hex string
signature = rust_sign_message('{"event":"trade"}', secret=b"key")  # hex HMAC
""",
    "jwt": r"""
import time

claims = {
    "sub": "user-123",
    "iss": "my-app",
    "aud": "wse",
    "exp": int(time.time()) + 3600,
    "iat": int(time.time()),
}

token = rust_jwt_encode(claims, secret=b"my-secret")

decoded = rust_jwt_decode(
    token,
    secret=b"my-secret",
    issuer="my-app",      # optional, validates iss claim
    audience="wse",       # optional, validates aud claim
)
# Returns dict of claims, or None on any validation failure
""",
    "transform_event": r"""
event = {
    "event_type": "order_placed",
    "payload": {"symbol": "AAPL", "qty": 100},
}

type_map = {"order_placed": "order"}

envelope = rust_transform_event(event, sequence=42, event_type_map=type_map)
# {
#     "t": "order",
#     "p": {"symbol": "AAPL", "qty": 100},
#     "id": "...",     # UUID v7
#     "ts": "...",     # ISO 8601 UTC
#     "seq": 42,
#     "v": 1,
#     "original_event_type": "order_placed"
# }
""",
    "match_event": r"""
event = {
    "t": "trade",
    "p": {"symbol": "AAPL", "price": 185.50, "exchange": "NASDAQ"},
}

# Simple equality
rust_match_event(event, {"t": "trade"})  # True

# Comparison operators
rust_match_event(event, {"p.price": {"$gt": 100}})  # True

# Multiple conditions (implicit AND)
rust_match_event(event, {
    "p.symbol": {"$in": ["AAPL", "GOOG"]},
    "p.price": {"$gte": 150},
})  # True

# String operations
rust_match_event(event, {"p.exchange": {"$startswith": "NAS"}})  # True

# Regex
rust_match_event(event, {"p.symbol": {"$regex": "^AA"}})  # True

# Logical operators
rust_match_event(event, {
    "$or": [
        {"p.symbol": "AAPL"},
        {"p.symbol": "GOOG"},
    ]
})  # True
""",
}
SNIPPETS = {name: text.removeprefix("\n") for name, text in _RAW.items()}


def _seed_file() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    env = os.environ.get("WSE_SHARED_DIR")
    candidates = [Path(env)] if env else []
    candidates += [root.parent / "shared", root.parent.parent / "shared", Path("/work/shared")]
    for base in candidates:
        path = base / "seeds" / SEED_NAME
        if path.is_file():
            return path
    return None


def run(name: str, **given: Any) -> dict[str, Any]:
    """Executes the seed's import block, then snippet `name`, in a fresh namespace."""
    ns: dict[str, Any] = {"__name__": f"seed_{name}", "os": os, **given}
    exec(compile(SNIPPETS["imports"], "<seed imports>", "exec"), ns)
    exec(compile(SNIPPETS[name], f"<seed {name}>", "exec"), ns)
    return ns


class Calls:
    """Records calls of the helpers the seed assumes (deliver, drop, process_request...)."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def __call__(self, *args: Any) -> None:
        self.args.append(args[0] if len(args) == 1 else args)


def test_snippets_are_verbatim() -> None:
    seed = _seed_file()
    if seed is None:
        pytest.skip("the shared seeds folder is not next to this checkout")
    blocks = re.findall(r"```python\n(.*?)```", seed.read_text(), re.S)
    assert blocks == list(SNIPPETS.values())


def test_imports_from_both_modules() -> None:
    names = re.findall(r"^    (\w+),$", SNIPPETS["imports"], re.M)
    assert len(names) == 20
    for name in names:
        assert getattr(wse_server, name) is getattr(_wse_accel, name)
        assert name in wse_server.__all__
        ours = name.removeprefix("rust_").removeprefix("Rust")
        assert getattr(wse_server, ours) is getattr(wse_server, name), ours


def test_priority_queue() -> None:
    ns = run("priority_queue")
    assert ns["msg"] == {"action": "alert"}
    assert ns["batch"] == [{"action": "update"}]
    assert ns["q"].len() == 0
    assert ns["q"].is_full() is False


def test_priority_message_queue() -> None:
    ns = run("priority_message_queue")
    assert ns["batch"] == [(8, {"trade": "AAPL"}), (1, {"heartbeat": True})]
    assert ns["q"].size == 0
    stats = ns["q"].get_stats()
    assert stats["size"] == 0
    assert stats["capacity"] == 1000


def test_token_bucket() -> None:
    ns = run("token_bucket", process_request=Calls(), reject_request=Calls())
    assert len(ns["process_request"].args) == 1
    assert ns["reject_request"].args == []
    assert ns["bucket"].tokens == pytest.approx(100.0, abs=0.5)  # after reset()


def test_sequencer() -> None:
    ns = run("sequencer", drop=Calls(), event={"id": "evt-abc-123"})
    assert ns["n"] == 1
    assert ns["drop"].args == []  # the first sighting is not a duplicate
    assert ns["seq"].seen_count() == 1
    assert ns["seq"].is_duplicate("evt-abc-123") is True


def test_event_sequencer() -> None:
    payload = {"symbol": "AAPL", "bid": 185.5}
    ns = run("event_sequencer", drop=Calls(), deliver=Calls(), payload=payload, event=payload)
    assert ns["seq_num"] == 1
    assert ns["drop"].args == []
    assert ns["deliver"].args == [payload]  # the first event of a topic is delivered at once
    assert ns["result"] == [payload]
    assert ns["es"].get_sequence_stats()["total_topics"] == 0  # reset_sequence() forgot every topic


def test_compression_manager() -> None:
    data = b'{"t":"price","p":{"symbol":"AAPL","bid":185.5}}' * 64
    event_dict = {"t": "order", "p": {"id": 7, "qty": 100}}
    ns = run("compression_manager", data=data, event_dict=event_dict)
    assert ns["original"] == data
    assert len(ns["compressed"]) < len(data)
    assert ns["unpacked"] == {"key": "value"}
    assert ns["event"] == event_dict
    assert ns["cm"].get_stats()["total_compressed"] == 0  # reset_stats() ran last


def test_compression_functions() -> None:
    data = b"x" * 5000
    ns = run("compression_functions", data=data)
    assert ns["original"] == data
    assert ns["should"] is True


def test_aes_gcm() -> None:
    ns = run("aes_gcm")
    assert len(ns["ciphertext"]) == 12 + len(b"secret message") + 16
    assert ns["plaintext"] == b"secret message"


def test_ecdh() -> None:
    ns = run("ecdh")
    assert (len(ns["priv_a"]), len(ns["pub_a"])) == (32, 65)
    assert len(ns["key_a"]) == 32
    assert ns["plaintext"] == b"encrypted with shared secret"


def test_hmac_and_hashing() -> None:
    ns = run("hmac_hashing")
    assert isinstance(ns["mac"], bytes)
    assert len(ns["mac"]) == 32
    assert ns["hex_digest"] == hashlib.sha256(b"data").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", ns["signature"])


def test_jwt() -> None:
    ns = run("jwt")
    assert ns["decoded"] == ns["claims"]
    assert ns["token"].count(".") == 2


def test_transform_event() -> None:
    before = time.time()
    ns = run("transform_event")
    env = ns["envelope"]
    assert set(env) == {"t", "p", "id", "ts", "seq", "v", "original_event_type"}
    assert env["t"] == "order"
    assert env["p"] == {"symbol": "AAPL", "qty": 100}
    assert uuid.UUID(env["id"]).version == 7
    assert env["ts"].endswith("Z")
    assert datetime.fromisoformat(env["ts"]).timestamp() >= before - 1
    assert (env["seq"], env["v"], env["original_event_type"]) == (42, 1, "order_placed")


def test_match_event() -> None:
    """Every bare expression in the block is commented ``# True``: evaluate each one."""
    ns: dict[str, Any] = {}
    exec(compile(SNIPPETS["imports"], "<seed imports>", "exec"), ns)
    results = []
    for stmt in ast.parse(SNIPPETS["match_event"]).body:
        if isinstance(stmt, ast.Expr):
            results.append(eval(compile(ast.Expression(stmt.value), "<seed match>", "eval"), ns))
        else:
            exec(compile(ast.Module([stmt], []), "<seed match>", "exec"), ns)
    assert results == [True] * 6
