"""compress/decompress/should_compress and CompressionManager."""

from __future__ import annotations

import datetime
import enum
import json
import uuid
import zlib
from typing import Any

import msgpack
import pytest
from conftest import load_vectors

from wse_server import (
    CompressionManager,
    RustCompressionManager,
    compress,
    decompress,
    rust_compress,
    rust_decompress,
    rust_should_compress,
)


def test_seed_standalone_functions() -> None:
    data = b'{"t":"price","p":{"v":1}}' * 100
    compressed = rust_compress(data, level=6)
    original = rust_decompress(compressed)
    should = rust_should_compress(data, threshold=1024)  # len(data) > threshold
    assert original == data
    assert should is True
    assert rust_should_compress(b"x" * 1024, threshold=1024) is False


def test_seed_manager_snippet() -> None:
    cm = RustCompressionManager(threshold=1024, compression_level=6)
    data = b"abc" * 1000
    if cm.should_compress(data):
        compressed = cm.compress(data)
        original = cm.decompress(compressed)
        assert original == data
    packed = cm.pack_msgpack({"key": "value"})
    assert cm.unpack_msgpack(packed) == {"key": "value"}
    event_dict = {"t": "x", "p": {"n": 1}}
    packed = cm.pack_event(event_dict, use_msgpack=True)
    assert cm.unpack_event(packed, is_msgpack=True) == event_dict
    stats = cm.get_stats()
    assert stats["total_compressed"] == 1
    assert stats["total_decompressed"] == 1
    assert stats["total_bytes_saved"] == len(data) - len(compressed)
    assert stats["compression_success_rate"] == 1.0
    assert set(stats) == {
        "total_compressed",
        "total_decompressed",
        "compression_failures",
        "decompression_failures",
        "total_bytes_saved",
        "compression_success_rate",
        "decompression_success_rate",
        "average_bytes_saved",
    }
    cm.reset_stats()
    assert cm.get_stats()["total_compressed"] == 0


@pytest.mark.parametrize(
    "case", load_vectors("zlib")["vectors"], ids=lambda c: f"{len(c['plaintext'])}-{c['level']}"
)
def test_zlib_vectors(case: dict[str, Any]) -> None:
    plain = bytes.fromhex(case["plaintext"])
    assert decompress(bytes.fromhex(case["compressed"])) == plain
    assert zlib.decompress(compress(plain, level=case["level"])) == plain


@pytest.mark.parametrize("bad", load_vectors("zlib")["invalid"])
def test_invalid_streams(bad: str) -> None:
    with pytest.raises(ValueError, match="zlib"):
        decompress(bytes.fromhex(bad))


def test_decompression_bomb_is_capped() -> None:
    bomb = zlib.compress(b"\0" * (50 << 20), 9)
    with pytest.raises(ValueError, match="exceeds the limit"):
        decompress(bomb, max_size=1 << 20)
    assert len(decompress(bomb, max_size=64 << 20)) == 50 << 20
    cm = CompressionManager(max_decompressed_size=1024)
    with pytest.raises(ValueError, match="exceeds the limit"):
        cm.decompress(bomb)
    assert cm.get_stats()["decompression_failures"] == 1
    assert cm.get_stats()["decompression_success_rate"] == 0.0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="level"):
        compress(b"x", level=12)
    with pytest.raises(TypeError):
        compress("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="compression_level"):
        CompressionManager(compression_level=10)
    with pytest.raises(ValueError, match="msgpack"):
        CompressionManager().unpack_msgpack(b"\xc1")


class Color(enum.Enum):
    RED = "red"


def test_pack_event_json_and_msgpack_cross_check() -> None:
    cm = CompressionManager()
    u = uuid.uuid4()
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    event = {"t": "x", "p": {"id": u, "at": when, "c": Color.RED, "raw": b"hi", "n": [1, 2.5, None]}}
    as_json = json.loads(cm.pack_event(event, use_msgpack=False))
    assert as_json["p"] == {
        "id": str(u),
        "at": when.isoformat(),
        "c": "red",
        "raw": "hi",
        "n": [1, 2.5, None],
    }
    assert cm.unpack_event(cm.pack_event(event, use_msgpack=False), is_msgpack=False) == as_json
    packed = cm.pack_event({"a": 1, "b": b"\x00\x01", "c": [True, None]})
    assert msgpack.unpackb(packed) == {"a": 1, "b": b"\x00\x01", "c": [True, None]}
    assert cm.unpack_event(msgpack.packb({"k": [1, 2]})) == {"k": [1, 2]}
    with pytest.raises(ValueError, match=r"JSON|json"):
        cm.unpack_event(b"{not json", is_msgpack=False)


@pytest.mark.parametrize("case", load_vectors("zlib")["bombs"], ids=lambda c: str(c["inflated_size"]))
def test_bomb_vectors_respect_the_cap(case: dict[str, Any]) -> None:
    data, size = bytes.fromhex(case["compressed"]), case["inflated_size"]
    with pytest.raises(ValueError, match="exceeds the limit"):
        decompress(data, max_size=size - 1)
    assert decompress(data, max_size=size) == bytes(size)
    with pytest.raises(ValueError, match="max_size"):
        decompress(data, max_size=0)


HOSTILE_MSGPACK = {
    "array of 4 billion in 5 bytes": (b"\xdd\xff\xff\xff\xff", "more elements than the data holds"),
    "map of 268 million pairs": (b"\xdf\x0f\xff\xff\xff\x01", "more elements than the data holds"),
    "nesting 1000 deep": (b"\x91" * 1000 + b"\xc0", "nesting too deep"),
    "truncated str": (b"\xa5hi", "truncated"),
    "empty": (b"", "truncated"),
    "trailing bytes": (b"\x01\x02", "extra data"),
    "reserved byte": (b"\xc1", "invalid msgpack"),
    "invalid UTF-8 str": (b"\xa2\xff\xfe", "UTF-8"),
    "unhashable key": (b"\x81\x90\x01", "hashable"),
}


@pytest.mark.parametrize("name", HOSTILE_MSGPACK)
def test_hostile_msgpack_is_a_value_error(name: str) -> None:
    data, message = HOSTILE_MSGPACK[name]
    cm = CompressionManager()
    with pytest.raises(ValueError, match=message):
        cm.unpack_msgpack(data)


def test_msgpack_cross_check_with_msgpack_library() -> None:
    cm = CompressionManager()
    samples: list[Any] = [
        None,
        True,
        0,
        -1,
        2**64 - 1,
        -(2**63),
        1.5,
        "",
        "héllo",
        b"\x00" * 300,
        [],
        {},
        list(range(70_000)),
        {"t": "trade", "p": {"symbol": "AAPL", "levels": [[1, 2.5], [3, None]]}},
        {str(i): i for i in range(20)},
        [[[[[[[[[[[]]]]]]]]]]],
    ]
    for obj in samples:
        assert cm.unpack_msgpack(msgpack.packb(obj)) == obj, obj
        assert msgpack.unpackb(cm.pack_msgpack(obj), strict_map_key=False) == obj, obj
    # ext types and float32 decode too (as bytes and float).
    assert cm.unpack_msgpack(msgpack.packb(msgpack.ExtType(3, b"ab"))) == b"ab"
    assert cm.unpack_msgpack(b"\xca\x3f\xc0\x00\x00") == 1.5
    assert cm.unpack_msgpack(msgpack.packb({1: "int key"})) == {1: "int key"}


def test_unpack_event_falls_back_to_json() -> None:
    cm = CompressionManager()
    event = {"t": "order", "p": {"qty": 1, "ok": True}}
    as_json = json.dumps(event).encode()
    assert cm.unpack_event(as_json, is_msgpack=True) == event  # msgpack with JSON fallback
    assert cm.unpack_event(cm.pack_event(event, use_msgpack=False)) == event
    assert cm.unpack_event(cm.pack_event(event, use_msgpack=True)) == event
    with pytest.raises(ValueError, match=r"neither msgpack .* nor JSON"):
        cm.unpack_event(b"\xc1 not anything")
    with pytest.raises(TypeError):
        cm.unpack_event("text")  # type: ignore[arg-type]


def test_unserializable_values() -> None:
    cm = CompressionManager()
    with pytest.raises(TypeError, match="not JSON serializable"):
        cm.pack_event({"s": object()}, use_msgpack=False)
    deep: list[Any] = []
    cur = deep
    for _ in range(1000):
        cur.append([])
        cur = cur[0]
    with pytest.raises(ValueError, match="too deep"):
        cm.pack_msgpack(deep)
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="circular"):
        cm.pack_event(loop, use_msgpack=False)


def test_json_object_keys_of_every_length_survive_the_key_cache() -> None:
    # Object keys go through a small cache of str objects keyed by length and
    # bytes: keys of one length that differ in a single byte, at any position,
    # must stay distinct, on the first parse and on the cached ones.
    cm = CompressionManager()
    keys = [""]
    for n in range(1, 33):
        base = "".join(chr(ord("a") + i % 26) for i in range(n))
        keys.append(base)
        keys += [base[:i] + "Z" + base[i + 1 :] for i in range(n)]
    keys.append("\u00e9t\u00e9")  # non-ASCII bytes in a short key
    text = json.dumps({k: i for i, k in enumerate(keys)}).encode()
    expected = {k: i for i, k in enumerate(keys)}
    for _ in range(3):
        assert cm.unpack_event(text, is_msgpack=False) == expected
