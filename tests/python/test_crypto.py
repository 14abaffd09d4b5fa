"""AES-GCM, ECDH, HMAC, SHA-256, sign_message: seed snippets, shared vectors and
cross-checks against `cryptography`, hashlib and hmac."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

import pytest
from conftest import load_vectors
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import wse_server
from wse_server import (
    aes_gcm_decrypt,
    aes_gcm_encrypt,
    ecdh_derive_shared_secret,
    ecdh_generate_keypair,
    hmac_sha256,
    rust_aes_gcm_decrypt,
    rust_aes_gcm_encrypt,
    rust_ecdh_derive_shared_secret,
    rust_ecdh_generate_keypair,
    rust_hmac_sha256,
    rust_sha256,
    rust_sign_message,
    sha256,
    sign_message,
)


def test_seed_aes_gcm_snippet() -> None:
    key = os.urandom(32)  # 256-bit key
    ciphertext = rust_aes_gcm_encrypt(key, b"secret message")
    assert len(ciphertext) == 12 + len(b"secret message") + 16
    plaintext = rust_aes_gcm_decrypt(key, ciphertext)
    assert plaintext == b"secret message"


def test_seed_ecdh_snippet() -> None:
    priv_a, pub_a = rust_ecdh_generate_keypair()  # (32 bytes, 65 bytes SEC1)
    priv_b, pub_b = rust_ecdh_generate_keypair()
    assert (len(priv_a), len(pub_a)) == (32, 65)
    assert pub_a[0] == 4
    key_a = rust_ecdh_derive_shared_secret(priv_a, pub_b)  # 32 bytes
    key_b = rust_ecdh_derive_shared_secret(priv_b, pub_a)  # 32 bytes
    assert key_a == key_b
    assert len(key_a) == 32
    ciphertext = rust_aes_gcm_encrypt(key_a, b"encrypted with shared secret")
    plaintext = rust_aes_gcm_decrypt(key_b, ciphertext)
    assert plaintext == b"encrypted with shared secret"


def test_seed_hmac_and_hashing_snippet() -> None:
    mac = rust_hmac_sha256(key=b"secret", data=b"message")  # 32 bytes
    hex_digest = rust_sha256(b"data")  # hex string
    signature = rust_sign_message('{"event":"trade"}', secret=b"key")  # hex HMAC
    assert mac == hmac.new(b"secret", b"message", hashlib.sha256).digest()
    assert hex_digest == hashlib.sha256(b"data").hexdigest()
    digest = hashlib.sha256(b'{"event":"trade"}').hexdigest().encode()
    assert signature == hmac.new(b"key", digest, hashlib.sha256).hexdigest()


def test_names_and_aliases() -> None:
    for name in ("aes_gcm_encrypt", "aes_gcm_decrypt", "ecdh_generate_keypair", "ecdh_derive_shared_secret",
                 "hmac_sha256", "sha256", "sign_message"):  # fmt: skip
        assert getattr(wse_server, name) is getattr(wse_server, "rust_" + name)
        assert name in wse_server.__all__
        assert "rust_" + name in wse_server.__all__


@pytest.mark.parametrize("case", load_vectors("aes_gcm")["vectors"], ids=lambda c: c["name"])
def test_aes_gcm_vectors(case: dict[str, Any]) -> None:
    key, blob = bytes.fromhex(case["key"]), bytes.fromhex(case["blob"])
    if case["valid"]:
        assert aes_gcm_decrypt(key, blob) == bytes.fromhex(case["plaintext"])
    elif case["error"] == "size":
        with pytest.raises(ValueError, match="bytes"):
            aes_gcm_decrypt(key, blob)
    else:
        with pytest.raises(RuntimeError, match="Decrypt failed"):
            aes_gcm_decrypt(key, blob)


def test_aes_gcm_cross_check_with_cryptography() -> None:
    key = os.urandom(32)
    for size in (0, 1, 15, 16, 1024, 100_000):
        data = os.urandom(size)
        ours = aes_gcm_encrypt(key, data)
        assert AESGCM(key).decrypt(ours[:12], ours[12:], None) == data
        nonce = os.urandom(12)
        theirs = nonce + AESGCM(key).encrypt(nonce, data, None)
        assert aes_gcm_decrypt(key, theirs) == data
    # Random nonces: the same plaintext never encrypts the same way twice.
    assert aes_gcm_encrypt(key, b"x") != aes_gcm_encrypt(key, b"x")


def test_aes_gcm_bad_input() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        aes_gcm_encrypt(b"short", b"data")
    with pytest.raises(TypeError, match="bytes-like"):
        aes_gcm_encrypt("not bytes", b"data")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="too short"):
        aes_gcm_decrypt(os.urandom(32), b"")
    assert (
        aes_gcm_decrypt(bytearray(32), aes_gcm_encrypt(bytes(32), memoryview(b"views work"))) == b"views work"
    )


@pytest.mark.parametrize("case", load_vectors("ecdh")["vectors"])
def test_ecdh_vectors(case: dict[str, str]) -> None:
    expected = bytes.fromhex(case["aes_key"])
    assert (
        ecdh_derive_shared_secret(bytes.fromhex(case["private_a"]), bytes.fromhex(case["public_b"]))
        == expected
    )
    assert (
        ecdh_derive_shared_secret(bytes.fromhex(case["private_b"]), bytes.fromhex(case["public_a"]))
        == expected
    )


def test_ecdh_cross_check_with_cryptography() -> None:
    ours_priv, ours_pub = ecdh_generate_keypair()
    theirs = ec.generate_private_key(ec.SECP256R1())
    their_pub = theirs.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    shared = theirs.exchange(
        ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ours_pub)
    )
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wse-encryption", info=b"aes-gcm-key").derive(
        shared
    )
    assert ecdh_derive_shared_secret(ours_priv, their_pub) == expected
    compressed = theirs.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    assert ecdh_derive_shared_secret(ours_priv, compressed) == expected


@pytest.mark.parametrize("bad", load_vectors("ecdh")["invalid_public_keys"])
def test_ecdh_rejects_invalid_public_keys(bad: str) -> None:
    priv, _ = ecdh_generate_keypair()
    with pytest.raises(ValueError, match="Invalid peer public key"):
        ecdh_derive_shared_secret(priv, bytes.fromhex(bad))


def test_ecdh_rejects_invalid_private_keys() -> None:
    _, pub = ecdh_generate_keypair()
    for bad in (b"", bytes(32), b"\xff" * 32, b"x" * 31):
        with pytest.raises(ValueError, match="Invalid private key"):
            ecdh_derive_shared_secret(bad, pub)


def test_hash_functions_match_hashlib() -> None:
    for data in (b"", b"abc", os.urandom(1000), os.urandom(200_000)):
        assert sha256(data) == hashlib.sha256(data).hexdigest()
        for key in (b"", b"k", os.urandom(64), os.urandom(200)):
            assert hmac_sha256(key, data) == hmac.new(key, data, hashlib.sha256).digest()
    assert (
        sign_message("héllo", b"k")
        == hmac.new(b"k", hashlib.sha256("héllo".encode()).hexdigest().encode(), hashlib.sha256).hexdigest()
    )
    with pytest.raises(TypeError):
        sign_message(b"bytes", b"k")  # type: ignore[arg-type]


def test_generated_keypairs_are_consistent_with_cryptography() -> None:
    seen = set()
    for _ in range(20):
        priv, pub = ecdh_generate_keypair()
        key = ec.derive_private_key(int.from_bytes(priv, "big"), ec.SECP256R1())
        assert key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint) == pub
        seen.add(priv)
    assert len(seen) == 20


def test_wrong_types_and_sizes_are_clear_errors() -> None:
    priv, pub = ecdh_generate_keypair()
    with pytest.raises(TypeError, match="bytes-like"):
        ecdh_derive_shared_secret("text", pub)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Invalid private key"):
        ecdh_derive_shared_secret(priv + b"\x00", pub)
    with pytest.raises(ValueError, match="32 bytes"):
        aes_gcm_decrypt(b"k" * 31, bytes(40))
    with pytest.raises(ValueError, match="too short"):
        aes_gcm_decrypt(b"k" * 32, bytes(27))
    key = os.urandom(32)
    blob = aes_gcm_encrypt(key, b"payload")
    for i in range(len(blob)):  # every single-bit flip is detected
        tampered = bytearray(blob)
        tampered[i] ^= 1
        with pytest.raises(RuntimeError, match="Decrypt failed"):
            aes_gcm_decrypt(key, bytes(tampered))
    for cut in range(28, len(blob)):
        with pytest.raises(RuntimeError, match="Decrypt failed"):
            aes_gcm_decrypt(key, blob[:cut])
