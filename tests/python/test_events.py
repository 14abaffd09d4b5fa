"""match_event and transform_event: seed snippets, shared filter vectors, edge cases."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import time
import uuid
from typing import Any

import pytest
from conftest import load_vectors

from wse_server import (
    CompressionManager,
    match_event,
    rust_match_event,
    rust_transform_event,
    transform_event,
)


def test_seed_match_snippet() -> None:
    event = {
        "t": "trade",
        "p": {"symbol": "AAPL", "price": 185.50, "exchange": "NASDAQ"},
    }
    assert rust_match_event(event, {"t": "trade"})  # True
    assert rust_match_event(event, {"p.price": {"$gt": 100}})  # True
    assert rust_match_event(
        event,
        {
            "p.symbol": {"$in": ["AAPL", "GOOG"]},
            "p.price": {"$gte": 150},
        },
    )  # True
    assert rust_match_event(event, {"p.exchange": {"$startswith": "NAS"}})  # True
    assert rust_match_event(event, {"p.symbol": {"$regex": "^AA"}})  # True
    assert rust_match_event(
        event,
        {
            "$or": [
                {"p.symbol": "AAPL"},
                {"p.symbol": "GOOG"},
            ]
        },
    )  # True


FILTERS = load_vectors("filters")


@pytest.mark.parametrize("case", FILTERS["vectors"], ids=lambda c: repr(c["filter"])[:60])
def test_filter_vectors(case: dict[str, Any]) -> None:
    if case.get("error"):
        with pytest.raises(ValueError, match=r"operator|regex|needs a list"):
            match_event(FILTERS["event"], case["filter"])
    else:
        assert match_event(FILTERS["event"], case["filter"]) is case["match"]


def test_regex_runs_in_linear_time() -> None:
    event = {"s": "a" * 100_000 + "!"}
    start = time.perf_counter()
    assert not match_event(event, {"s": {"$regex": "^(a+)+$"}})
    assert not match_event(event, {"s": {"$regex": "(a|aa)+b"}})
    assert time.perf_counter() - start < 1.0  # a backtracking engine would take years


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        match_event({"a": 1}, "not a dict")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        match_event([1], {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="options"):
        match_event({"a": "x"}, {"a": {"$regex": "x", "$options": "q"}})


def test_seed_transform_snippet() -> None:
    event = {
        "event_type": "order_placed",
        "payload": {"symbol": "AAPL", "qty": 100},
    }
    type_map = {"order_placed": "order"}
    envelope = rust_transform_event(event, sequence=42, event_type_map=type_map)
    assert envelope["t"] == "order"
    assert envelope["p"] == {"symbol": "AAPL", "qty": 100}
    assert uuid.UUID(envelope["id"]).version == 7
    assert envelope["ts"].endswith("Z")
    assert datetime.datetime.fromisoformat(envelope["ts"]).tzinfo is not None
    assert envelope["seq"] == 42
    assert envelope["v"] == 1
    assert envelope["original_event_type"] == "order_placed"


class Side(enum.Enum):
    BUY = "buy"


def test_transform_converts_types_and_metadata() -> None:
    u = uuid.uuid4()
    when = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)
    event = {
        "type": "OrderFilled",
        "payload": {
            "order": u,
            "at": when,
            "price": decimal.Decimal("10.25"),
            "side": Side.BUY,
            "raw": b"ok",
        },
        "_metadata": {"event_id": "evt-1", "correlation_id": "c-9", "timestamp": when, "priority": 8},
    }
    out = transform_event(event, 7)
    assert out["t"] == "orderfilled"  # unmapped types are lower-cased
    assert out["original_event_type"] == "OrderFilled"
    assert out["p"] == {
        "order": str(u),
        "at": when.isoformat(),
        "price": "10.25",
        "side": "buy",
        "raw": "ok",
        "event_type": "OrderFilled",
    }
    assert out["id"] == "evt-1"
    assert out["cid"] == "c-9"
    assert out["pri"] == 8
    assert out["ts"] == when.isoformat()
    # A non-dict payload: the event itself (minus _metadata) becomes p.
    flat = transform_event({"event_type": "ping", "n": 1}, 1)
    assert flat["p"] == {"event_type": "ping", "n": 1}
    assert "original_event_type" not in flat


def test_wire_events_are_returned_unchanged() -> None:
    wire = {"t": "x", "p": {}, "id": "1", "ts": "2026-01-01T00:00:00Z", "v": 1}
    assert transform_event(wire, 5) is wire
    assert "seq" not in wire


def test_unserializable_values_raise_type_error() -> None:
    with pytest.raises(TypeError):
        transform_event({"event_type": "x", "payload": {"s": {1, object()}}}, 1)


def test_deeply_nested_filter_is_refused_not_a_crash() -> None:
    deep: dict[str, Any] = {}
    cur = deep
    for _ in range(100_000):
        nxt: dict[str, Any] = {}
        cur["$and"] = [nxt]
        cur = nxt
    with pytest.raises(ValueError, match="nested deeper than 64"):
        match_event({}, deep)
    nots: dict[str, Any] = {"$eq": 1}
    for _ in range(100):
        nots = {"$not": nots}
    with pytest.raises(ValueError, match="nested deeper"):
        match_event({"a": 1}, {"a": nots})
    ok: dict[str, Any] = {"a": 1}
    for _ in range(30):
        ok = {"$or": [ok]}
    assert match_event({"a": 1}, ok)


class Weird:
    def __str__(self) -> str:
        return "\ud800"


def test_bad_values_raise_clear_errors() -> None:
    with pytest.raises(UnicodeEncodeError):
        match_event({"a": Weird()}, {"a": {"$startswith": "x"}})
    with pytest.raises(ValueError, match="needs a list"):
        match_event({"a": 1}, {"a": {"$in": {1, 2}}})
    with pytest.raises(ValueError, match="regex"):
        match_event({"a": "x"}, {"a": {"$regex": "(unclosed"}})
    with pytest.raises(ValueError, match="regex"):
        match_event({"a": "x"}, {"a": {"$regex": "a{1000}{1000}"}})  # too big for RE2's budget
    with pytest.raises(ValueError, match="string pattern"):
        match_event({"a": "x"}, {"a": {"$regex": 5}})


def test_every_seed_operator() -> None:
    event = {"t": "trade", "p": {"symbol": "AAPL", "price": 185.5, "tags": ["tech"], "n": None}}
    true_filters: list[dict[str, Any]] = [
        {"t": {"$eq": "trade"}},
        {"t": {"$ne": "quote"}},
        {"p.price": {"$gt": 185}},
        {"p.price": {"$lt": 186}},
        {"p.price": {"$gte": 185.5}},
        {"p.price": {"$lte": 185.5}},
        {"p.symbol": {"$in": ["AAPL"]}},
        {"p.symbol": {"$nin": ["GOOG"]}},
        {"p.symbol": {"$regex": "^AA"}},
        {"p.n": {"$exists": True}},
        {"p.tags": {"$contains": "tech"}},
        {"p.symbol": {"$contains": "AP"}},
        {"p.symbol": {"$startswith": "AA"}},
        {"p.symbol": {"$endswith": "PL"}},
        {"$and": [{"t": "trade"}, {"p.price": {"$gt": 1}}]},
        {"$or": [{"t": "quote"}, {"p.symbol": "AAPL"}]},
    ]
    for f in true_filters:
        assert match_event(event, f) is True, f
        negated = {k: ({"$not": v} if isinstance(v, dict) else v) for k, v in f.items() if k[0] != "$"}
        if negated:
            assert match_event(event, negated) is False, negated


def test_type_names_are_text() -> None:
    out = transform_event({"event_type": b"\xff\xfe"}, 1)  # not UTF-8: Latin-1
    assert out["t"] == "\xff\xfe"
    nul = transform_event({"event_type": "a\x00b"}, 1, {"a": "wrong", "a\x00b": "right"})
    assert nul["t"] == "right"
    assert nul["original_event_type"] == "a\x00b"
    assert transform_event({"event_type": Side.BUY}, 1)["t"] == "buy"
    assert transform_event({"payload": {}}, 1)["t"] == "unknown"


class Level(enum.IntEnum):
    HIGH = 8


class Tag(enum.StrEnum):
    HOT = "hot"


class Point:
    def __init__(self) -> None:
        self.x = 1
        self.y = [uuid.UUID(int=5)]


class MyStr(str):
    pass


class MyFloat(float):
    pass


def test_payload_conversion_equals_the_json_round_trip() -> None:
    """transform_event converts directly; the result must equal JSON text parsed back."""
    cm = CompressionManager()
    when = datetime.datetime(2026, 5, 1, 12, 0, 30, 123456, tzinfo=datetime.UTC)
    payload: dict[Any, Any] = {
        "s": "text",
        "n": 2**70,
        "f": 1.0,
        "nan": float("nan"),
        "inf": float("-inf"),
        "b": True,
        "none": None,
        "t": (1, (2, 3)),
        "set": {7},
        "u": uuid.UUID(int=1),
        "d": decimal.Decimal("1.10"),
        "dt": when,
        "date": when.date(),
        "time": when.time(),
        "e": Side.BUY,
        "ie": Level.HIGH,
        "se": Tag.HOT,
        "utf8": "é".encode(),
        "latin1": b"\xff",
        "ba": bytearray(b"ok"),
        "obj": Point(),
        "sub": MyStr("sub"),
        "subf": MyFloat(2.5),
        1: "int key",
        2.5: "float key",
        None: "none key",
        False: "bool key",
        Side.BUY: "enum key",
        uuid.UUID(int=2): "uuid key",
        "nested": {"deeper": [{"x": [when]}]},
    }
    direct = transform_event({"event_type": "x", "payload": payload}, 1)["p"]
    assert direct == json.loads(cm.pack_event(payload, use_msgpack=False))
    assert direct["n"] == 2**70
    assert direct["nan"] is None
    assert type(direct["sub"]) is str
    assert direct["1"] == "int key"
    for bad in ({"v": object()}, {(1, 2): "tuple key"}):
        with pytest.raises(TypeError):
            transform_event({"event_type": "x", "payload": bad}, 1)
        with pytest.raises(TypeError):
            cm.pack_event(bad, use_msgpack=False)
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="circular"):
        transform_event({"event_type": "x", "payload": loop}, 1)
