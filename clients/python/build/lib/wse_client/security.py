"""End-to-end encryption (docs/PROTOCOL.md 6.3): ECDH P-256, HKDF-SHA256 and
AES-256-GCM, from the ``cryptography`` package (the [crypto] extra).

E: body = nonce(12) || ciphertext || tag(16); no associated data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

from wse_client.errors import WSEEncryptionError

HKDF_SALT = b"wse-encryption"
HKDF_INFO = b"aes-gcm-key"
NONCE_SIZE = 12
TAG_SIZE = 16


class SecurityManager:
    """One connection's key agreement and AES-GCM session.

    Create one per connection (keys are ephemeral), call ``public_key_b64`` to send
    ours, ``derive(peer_b64)`` with the server's, then ``encrypt``/``decrypt``.
    """

    def __init__(self) -> None:
        try:
            from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
        except ImportError as exc:
            raise WSEEncryptionError(
                "encryption needs the cryptography package: pip install 'wse-client[crypto]'"
            ) from exc
        self._ec = ec
        self._private = ec.generate_private_key(ec.SECP256R1())
        self._aes: Any = None

    @property
    def public_key_bytes(self) -> bytes:
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        return self._private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key_bytes).decode()

    @property
    def ready(self) -> bool:
        return self._aes is not None

    def derive(self, peer_public_key_b64: str) -> None:
        """Derives the AES-256 key. Raises WSEEncryptionError for a bad peer key."""
        from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: PLC0415

        try:
            peer_bytes = base64.b64decode(peer_public_key_b64, validate=True)
            peer = self._ec.EllipticCurvePublicKey.from_encoded_point(self._ec.SECP256R1(), peer_bytes)
            shared = self._private.exchange(self._ec.ECDH(), peer)
        except (ValueError, TypeError) as exc:
            raise WSEEncryptionError(f"server's encryption_public_key is invalid: {exc}") from exc
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(shared)
        self._aes = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> bytes:
        if self._aes is None:
            raise WSEEncryptionError("encrypt() before the key exchange completed")
        nonce = os.urandom(NONCE_SIZE)
        return nonce + bytes(self._aes.encrypt(nonce, plaintext, None))

    def decrypt(self, blob: bytes) -> bytes:
        if self._aes is None:
            raise WSEEncryptionError("E: frame received before the key exchange completed")
        if len(blob) < NONCE_SIZE + TAG_SIZE:
            raise WSEEncryptionError(f"E: frame too short ({len(blob)} bytes, minimum 28)")
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415

        try:
            return bytes(self._aes.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], None))
        except InvalidTag as exc:
            raise WSEEncryptionError("E: frame failed authentication (tampered or wrong key)") from exc


def sign_message(payload_json: str, secret: bytes) -> str:
    """HMAC-SHA256 over the hex SHA-256 of the JSON text (the seed's signing helper)."""
    digest = hashlib.sha256(payload_json.encode()).hexdigest()
    return hmac.new(secret, digest.encode(), hashlib.sha256).hexdigest()
