"""JWT HS256 encode/decode vs PyJWT."""

from __future__ import annotations

import time

import jwt as pyjwt
from harness import Case

import wse_server

SECRET = b"benchmark-secret-of-32-bytes-ok!"
CLAIMS = {
    "sub": "user-123",
    "iss": "my-app",
    "aud": "wse",
    "exp": int(time.time()) + 86400,
    "iat": int(time.time()),
}
TOKEN = wse_server.jwt_encode(CLAIMS, SECRET)


def cases() -> list[Case]:
    return [
        Case(
            "JWT HS256 decode (iss+aud checked)",
            lambda: wse_server.jwt_decode(TOKEN, SECRET, issuer="my-app", audience="wse"),
            "PyJWT",
            lambda: pyjwt.decode(TOKEN, SECRET, algorithms=["HS256"], issuer="my-app", audience="wse"),
            target_us=2.0,
            note="target also >= 20x PyJWT",
        ),
        Case(
            "JWT HS256 encode",
            lambda: wse_server.jwt_encode(CLAIMS, SECRET),
            "PyJWT",
            lambda: pyjwt.encode(CLAIMS, SECRET, algorithm="HS256"),
        ),
    ]
