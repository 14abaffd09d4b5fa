"""jwt_encode / jwt_decode: shared vectors, claim rules, cross-checks with PyJWT
(the seed snippet itself runs verbatim in test_seed_snippets.py)."""

from __future__ import annotations

import time
from typing import Any

import jwt as pyjwt
import pytest
from conftest import load_vectors

import wse_server
from wse_server import jwt_decode, jwt_encode

SECRET = b"my-secret-key-that-is-32-bytes!!"


def test_aliases() -> None:
    assert wse_server.rust_jwt_encode is jwt_encode
    assert wse_server.rust_jwt_decode is jwt_decode


@pytest.mark.parametrize("case", load_vectors("jwt")["vectors"], ids=lambda c: c["name"])
def test_vectors(case: dict[str, Any]) -> None:
    secret = load_vectors("jwt")["secret"].encode()
    got = jwt_decode(case["token"], secret, issuer=case.get("issuer"), audience=case.get("audience"))
    assert got == (case["claims"] if case["valid"] else None)


def test_encode_is_deterministic_and_pyjwt_reads_it() -> None:
    claims = {"z": 1, "a": [1, 2], "sub": "u", "exp": int(time.time()) + 60, "nested": {"b": 2, "a": 1}}
    t1, t2 = jwt_encode(claims, SECRET), jwt_encode(dict(reversed(list(claims.items()))), SECRET)
    assert t1 == t2
    assert pyjwt.decode(t1, SECRET, algorithms=["HS256"]) == claims
    assert t1.split(".")[0] == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"


def test_pyjwt_tokens_decode() -> None:
    now = int(time.time())
    claims = {"sub": "u", "exp": now + 60, "nbf": now + 200, "aud": ["x", "y"], "iss": "i"}
    token = pyjwt.encode(claims, SECRET, algorithm="HS256")
    assert jwt_decode(token, SECRET) == claims  # nbf within the 5-minute skew
    assert jwt_decode(token, SECRET, audience="y", issuer="i") == claims
    assert jwt_decode(token, SECRET, audience="z") is None
    later = pyjwt.encode({**claims, "nbf": now + 400}, SECRET, algorithm="HS256")
    assert jwt_decode(later, SECRET) is None
    float_exp = pyjwt.encode({"sub": "u", "exp": now + 60.5}, SECRET, algorithm="HS256")
    assert jwt_decode(float_exp, SECRET) == {"sub": "u", "exp": now + 60.5}


def test_failures_are_none_not_exceptions() -> None:
    token = jwt_encode({"sub": "u", "exp": int(time.time()) + 60}, SECRET)
    assert jwt_decode(token, SECRET, algorithm="RS256") is None
    assert jwt_decode(123, SECRET) is None  # type: ignore[arg-type]
    assert jwt_decode(token + "x", SECRET) is None
    assert jwt_decode(token, b"another-secret-of-32-bytes-long!") is None  # wrong key
    assert jwt_decode(token, "my-secret-key-that-is-32-bytes!!") is not None  # str secrets are UTF-8


def test_encode_errors() -> None:
    with pytest.raises(ValueError, match="HS256"):
        jwt_encode({"sub": "u"}, SECRET, algorithm="HS512")
    with pytest.raises(TypeError):
        jwt_encode({"bad": object()}, SECRET)
    with pytest.raises(TypeError):
        jwt_encode(["not", "a", "dict"], SECRET)  # type: ignore[arg-type]


def test_any_garbage_token_is_none() -> None:
    good = jwt_encode({"sub": "u", "exp": int(time.time()) + 60}, SECRET)
    assert jwt_decode(good.encode(), SECRET) is not None  # bytes tokens are accepted, as by PyJWT
    h, p, s = good.split(".")
    garbage: list[Any] = [
        "",
        ".",
        "..",
        "a.b.c",
        "\ud800.a.b",
        "é.é.é",
        good + ".",
        f"{h}.{p}.",
        f"{h}.{p}.{s}=",
        f"{h}=.{p}.{s}",
        f"{h}.{p}x.{s}",
        "x" * 100_000,
        b"\xff\xfe.\x00.\x01",
        None,
        [good],
        h + "." * 10_000,
    ]
    for token in garbage:
        assert jwt_decode(token, SECRET) is None, repr(token)[:40]


def test_claim_rules() -> None:
    now = int(time.time())

    def token(**claims: Any) -> str:
        return jwt_encode(claims, SECRET)

    assert jwt_decode(token(sub="u"), SECRET) is None  # exp is required
    assert jwt_decode(token(exp=now - 1), SECRET) is None
    assert jwt_decode(token(exp="tomorrow"), SECRET) is None
    assert jwt_decode(token(exp=True), SECRET) is None
    assert jwt_decode(token(exp=now + 60, nbf=now + 299), SECRET) is not None  # 5 minutes of skew
    assert jwt_decode(token(exp=now + 60, nbf=now + 301), SECRET) is None
    assert jwt_decode(token(exp=now + 60, nbf="now"), SECRET) is None
    assert jwt_decode(token(exp=now + 60, iss="a"), SECRET, issuer="b") is None
    assert jwt_decode(token(exp=now + 60), SECRET, issuer="b") is None  # missing iss when required
    assert jwt_decode(token(exp=now + 60, iss="a"), SECRET) is not None  # not checked when not given
    assert jwt_decode(token(exp=now + 60, aud=["x", "wse"]), SECRET, audience="wse") is not None
    assert jwt_decode(token(exp=now + 60, aud="wse"), SECRET, audience="wse") is not None
    assert jwt_decode(token(exp=now + 60, aud=["x"]), SECRET, audience="wse") is None
    assert jwt_decode(token(exp=now + 60, aud=5), SECRET, audience="wse") is None
    assert jwt_decode(token(exp=now + 60), SECRET, audience="wse") is None
    # PyJWT agrees on a token it did not make.
    t = token(exp=now + 60, aud=["x", "wse"], iss="a", nbf=now - 10)
    assert pyjwt.decode(t, SECRET, algorithms=["HS256"], audience="wse", issuer="a")["iss"] == "a"
