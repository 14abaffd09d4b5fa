"""Generates the crypto/JWT/zlib/glob test vectors in spec/vectors/ with independent
implementations (PyJWT, cryptography, Python's zlib), so that our C++ core, the
Python client and the TypeScript client are all checked against the same
outside reference. Deterministic: fixed keys, nonces and times.

    .venv/bin/python scripts/gen_vectors.py
"""

from __future__ import annotations

import base64
import fnmatch
import json
import zlib
from pathlib import Path
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

OUT = Path(__file__).resolve().parents[1] / "spec" / "vectors"
FUTURE = 4102444800  # 2100-01-01
PAST = 1000000000  # 2001-09-09


def write(name: str, doc: dict[str, Any]) -> None:
    (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_vectors() -> None:
    secret = "wse-test-secret-of-32-bytes-long"
    good = {"sub": "user-1", "exp": FUTURE, "iat": PAST}
    cases: list[dict[str, Any]] = []

    def add(name: str, token: str, valid: bool, claims: dict[str, Any] | None = None, **opts: Any) -> None:
        cases.append({"name": name, "token": token, "valid": valid, "claims": claims, **opts})

    t = pyjwt.encode(good, secret, algorithm="HS256")
    add("valid minimal", t, True, good)
    full = {**good, "iss": "my-app", "aud": ["other", "wse"], "nbf": PAST}
    add(
        "issuer and audience array",
        pyjwt.encode(full, secret, algorithm="HS256"),
        True,
        full,
        issuer="my-app",
        audience="wse",
    )
    add(
        "audience string",
        pyjwt.encode({**good, "aud": "wse"}, secret, algorithm="HS256"),
        True,
        {**good, "aud": "wse"},
        audience="wse",
    )
    add(
        "unicode claims",
        pyjwt.encode({**good, "name": "Zoë ✓"}, secret, algorithm="HS256"),
        True,
        {**good, "name": "Zoë ✓"},
    )
    add("wrong secret", pyjwt.encode(good, "another-secret-of-32-bytes-long!", algorithm="HS256"), False)
    add("expired", pyjwt.encode({**good, "exp": PAST}, secret, algorithm="HS256"), False)
    add("missing exp", pyjwt.encode({"sub": "user-1"}, secret, algorithm="HS256"), False)
    add("nbf far in the future", pyjwt.encode({**good, "nbf": FUTURE - 10}, secret, algorithm="HS256"), False)
    add(
        "wrong issuer",
        pyjwt.encode({**good, "iss": "evil"}, secret, algorithm="HS256"),
        False,
        issuer="my-app",
    )
    add("missing issuer", t, False, issuer="my-app")
    add(
        "wrong audience",
        pyjwt.encode({**good, "aud": ["a", "b"]}, secret, algorithm="HS256"),
        False,
        audience="wse",
    )
    add("HS512 not accepted", pyjwt.encode(good, secret * 2, algorithm="HS512"), False)
    none_token = b64url(b'{"alg":"none","typ":"JWT"}') + "." + b64url(json.dumps(good).encode()) + "."
    add("alg none", none_token, False)
    head, body, sig = t.split(".")
    add(
        "tampered payload",
        head + "." + b64url(json.dumps({**good, "sub": "admin"}).encode()) + "." + sig,
        False,
    )
    add("padded signature", t + "=", False)
    add("two segments", head + "." + body, False)
    add("four segments", t + ".x", False)
    add("not base64", "!!!.???.***", False)
    add("empty", "", False)
    add("payload not an object", head + "." + b64url(b"[1,2]") + "." + sig, False)
    write(
        "jwt",
        {
            "$comment": "HS256 JWT vectors made with PyJWT. `secret` is UTF-8. Valid tokens expire in "
            "2100; invalid ones must decode to null/None. issuer/audience, when present, are the "
            "verifier's options.",
            "secret": secret,
            "vectors": cases,
        },
    )


def aes_vectors() -> None:
    cases: list[dict[str, Any]] = []
    for i, (key, nonce, pt) in enumerate(
        [
            (bytes(range(32)), bytes(range(12)), b""),
            (bytes(range(32)), bytes(range(1, 13)), b"secret message"),
            (bytes([0xAB] * 32), bytes([0x01] * 12), bytes(range(256)) * 4),
        ]
    ):
        blob = nonce + AESGCM(key).encrypt(nonce, pt, None)
        cases.append(
            {"name": f"valid {i}", "key": key.hex(), "blob": blob.hex(), "plaintext": pt.hex(), "valid": True}
        )
    key = bytes(range(32))
    good = bytes(range(12)) + AESGCM(key).encrypt(bytes(range(12)), b"hello", None)
    flip = bytearray(good)
    flip[-1] ^= 1
    cases.append(
        {"name": "tampered tag", "key": key.hex(), "blob": bytes(flip).hex(), "valid": False, "error": "auth"}
    )
    flip = bytearray(good)
    flip[13] ^= 1
    cases.append(
        {
            "name": "tampered ciphertext",
            "key": key.hex(),
            "blob": bytes(flip).hex(),
            "valid": False,
            "error": "auth",
        }
    )
    cases.append(
        {"name": "truncated", "key": key.hex(), "blob": good[:-1].hex(), "valid": False, "error": "auth"}
    )
    cases.append(
        {"name": "too short", "key": key.hex(), "blob": good[:27].hex(), "valid": False, "error": "size"}
    )
    cases.append(
        {"name": "wrong key", "key": bytes(32).hex(), "blob": good.hex(), "valid": False, "error": "auth"}
    )
    cases.append(
        {"name": "16-byte key", "key": bytes(16).hex(), "blob": good.hex(), "valid": False, "error": "size"}
    )
    write(
        "aes_gcm",
        {
            "$comment": "AES-256-GCM, blob = nonce(12) || ciphertext || tag(16), no AAD, made with "
            "`cryptography`. error: auth = authentication failure (RuntimeError), size = bad input "
            "size (ValueError).",
            "vectors": cases,
        },
    )


def public_hex(key: ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint).hex()


def ecdh_vectors() -> None:
    cases: list[dict[str, Any]] = []
    for seed in (1, 2, 3):
        a = ec.derive_private_key(0x1234567 * seed + 11, ec.SECP256R1())
        b = ec.derive_private_key(0x7654321 * seed + 13, ec.SECP256R1())
        shared = a.exchange(ec.ECDH(), b.public_key())
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wse-encryption", info=b"aes-gcm-key").derive(
            shared
        )
        cases.append(
            {
                "private_a": a.private_numbers().private_value.to_bytes(32, "big").hex(),
                "public_a": public_hex(a),
                "private_b": b.private_numbers().private_value.to_bytes(32, "big").hex(),
                "public_b": public_hex(b),
                "aes_key": key.hex(),
            }
        )
    point = bytes.fromhex(cases[0]["public_a"])
    hybrid = (bytes([6 + (point[64] & 1)]) + point[1:]).hex()
    write(
        "ecdh",
        {
            "$comment": "P-256 ECDH then HKDF-SHA256(salt 'wse-encryption', info 'aes-gcm-key', 32 bytes), "
            "made with `cryptography`. Public keys are 65-byte uncompressed SEC1 (33-byte compressed keys "
            "are accepted too); `invalid_public_keys` must be refused.",
            "vectors": cases,
            "invalid_public_keys": [
                "04" + "00" * 64,  # not on the curve
                "05" + "11" * 64,  # unknown prefix
                "04" + "ff" * 32,  # truncated
                hybrid,  # the hybrid (06/07) encoding of a valid point: refused
                "02" + "ff" * 32,  # compressed, X >= p
                "",
                "00",  # the point at infinity
            ],
        },
    )


def zlib_vectors() -> None:
    cases = []
    for text in [b"", b"hello", b'U{"t":"price","p":{"v":1}}' * 40, bytes(range(256))]:
        for level in (1, 6, 9):
            cases.append(
                {"plaintext": text.hex(), "level": level, "compressed": zlib.compress(text, level).hex()}
            )
    bad = [
        zlib.compress(b"hello world")[:-3].hex(),
        "789c" + "ff" * 8,
        "00112233",
        (zlib.compress(b"hello world") + b"xx").hex(),  # bytes after the end of the stream
    ]
    bombs = [{"compressed": zlib.compress(bytes(n), 9).hex(), "inflated_size": n} for n in (1 << 16, 1 << 20)]
    write(
        "zlib",
        {
            "$comment": "zlib (RFC 1950) streams made with Python's zlib; decompressing must give plaintext. "
            "`invalid` streams must be rejected with a clear error. `bombs` inflate to `inflated_size` "
            "bytes: with a cap below that size they must be refused (without inflating past the cap), "
            "with a cap at or above it they decompress.",
            "vectors": cases,
            "invalid": bad,
            "bombs": bombs,
        },
    )


GLOB_CASES = [
    ("user:*:events", ["user:123:events", "user::events", "user:1:2:events", "user:12:event", "user:events"]),
    ("user:*", ["user:", "user:1", "user", "users:1"]),
    ("*", ["", "anything:at:all"]),
    ("a?c", ["abc", "a:c", "ac", "abbc"]),
    ("*:*:x", ["a:b:c:x", "::x", "a:x"]),
    ("prices.*.usd", ["prices.AAPL.usd", "prices..usd", "prices.AAPL.eur"]),
    ("**a", ["bbba", "a", "b"]),
    ("*a*b*", ["xaxbx", "ab", "ba"]),
    ("exact", ["exact", "exactly", "xexact"]),
    ("?", ["", "x", "xy"]),
    ("a*", ["a", "abc", "ba"]),
    ("*?*", ["", "z"]),
]


def glob_vectors() -> None:
    # fnmatch.fnmatchcase is the independent reference; the patterns avoid '[',
    # which fnmatch treats as a character class and we treat as a plain byte.
    cases = [
        {"pattern": p, "topic": t, "match": fnmatch.fnmatchcase(t, p)}
        for p, topics in GLOB_CASES
        for t in topics
    ]
    cases.append({"pattern": "a[b]c", "topic": "a[b]c", "match": True})  # no classes: '[' is literal
    cases.append({"pattern": "a[b]c", "topic": "abc", "match": False})
    write(
        "globs",
        {
            "$comment": "Topic globs: '*' matches any run of bytes (including none and ':'), '?' exactly one "
            "byte; no classes or escapes. Expected results made with Python's fnmatch.fnmatchcase (ASCII), "
            "except the last two cases, where fnmatch would read '[b]' as a class.",
            "vectors": cases,
        },
    )


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    jwt_vectors()
    aes_vectors()
    ecdh_vectors()
    zlib_vectors()
    glob_vectors()
    print("wrote", ", ".join(sorted(p.name for p in OUT.glob("*.json"))))
