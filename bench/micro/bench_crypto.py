"""AES-GCM, ECDH, HMAC and SHA-256 vs cryptography / hmac / hashlib."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from harness import Case

import wse_server

KEY = os.urandom(32)
DATA_1K = os.urandom(1024)
BLOB = wse_server.aes_gcm_encrypt(KEY, DATA_1K)
AES = AESGCM(KEY)
PRIV, _ = wse_server.ecdh_generate_keypair()
_, PEER = wse_server.ecdh_generate_keypair()
PRIV_INT = int.from_bytes(PRIV, "big")


def aes_encrypt_cryptography() -> bytes:
    nonce = os.urandom(12)
    return nonce + AES.encrypt(nonce, DATA_1K, None)


def ecdh_cryptography() -> bytes:
    # Like for like: both sides start from the raw key bytes, as the API takes them.
    mine = ec.derive_private_key(PRIV_INT, ec.SECP256R1())
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), PEER)
    shared = mine.exchange(ec.ECDH(), peer)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wse-encryption", info=b"aes-gcm-key").derive(
        shared
    )


def keypair_cryptography() -> tuple[bytes, bytes]:
    # Like for like: the same two byte strings the seed's API returns.
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return key.private_numbers().private_value.to_bytes(32, "big"), public


def cases() -> list[Case]:
    return [
        Case(
            "AES-256-GCM encrypt 1 KiB",
            lambda: wse_server.aes_gcm_encrypt(KEY, DATA_1K),
            "cryptography AESGCM",
            aes_encrypt_cryptography,
            target_us=2.0,
        ),
        Case(
            "AES-256-GCM decrypt 1 KiB",
            lambda: wse_server.aes_gcm_decrypt(KEY, BLOB),
            "cryptography AESGCM",
            lambda: AES.decrypt(BLOB[:12], BLOB[12:], None),
        ),
        Case(
            "ECDH P-256 derive + HKDF",
            lambda: wse_server.ecdh_derive_shared_secret(PRIV, PEER),
            "cryptography",
            ecdh_cryptography,
        ),
        Case(
            "ECDH P-256 key pair",
            wse_server.ecdh_generate_keypair,
            "cryptography",
            keypair_cryptography,
        ),
        Case(
            "HMAC-SHA256 64 B",
            lambda: wse_server.hmac_sha256(KEY, DATA_1K[:64]),
            "hmac stdlib",
            lambda: hmac.new(KEY, DATA_1K[:64], hashlib.sha256).digest(),
        ),
        Case(
            "SHA-256 hex 1 KiB",
            lambda: wse_server.sha256(DATA_1K),
            "hashlib",
            lambda: hashlib.sha256(DATA_1K).hexdigest(),
        ),
    ]
