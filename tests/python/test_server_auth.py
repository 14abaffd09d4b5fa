"""JWT on upgrade: every token source, every failure, both failure styles.
Tokens are minted with PyJWT, an implementation independent of ours."""

from __future__ import annotations

import json
import time

import jwt as pyjwt
import pytest
from server_support import SECRET, RawClient, drain_until, make_token, parse_prefixed, running_server


def ready_user(client: RawClient) -> str | None:
    op, payload = client.recv_frame()
    assert op == 1
    ready = parse_prefixed(payload.decode())
    assert ready["t"] == "server_ready"
    user = ready["p"]["details"]["user_id"]
    return None if user is None else str(user)


@pytest.mark.parametrize("source", ["cookie", "bearer", "query"])
def test_token_sources(source: str) -> None:
    token = make_token("alice")
    with running_server(jwt_secret=SECRET) as server:
        if source == "cookie":
            client = RawClient(server.port, headers={"Cookie": f"theme=dark; access_token={token}"})
        elif source == "bearer":
            client = RawClient(server.port, headers={"Authorization": f"Bearer {token}"})
        else:
            client = RawClient(server.port, path=f"/wse?token={token}")
        assert client.status_line.startswith("HTTP/1.1 101")
        assert ready_user(client) == "alice"
        events = drain_until(server, lambda e: e[0] == "auth_connect")
        assert events[-1][2] == "alice"
        client.close()


def test_cookie_wins_over_header_and_query() -> None:
    with running_server(jwt_secret=SECRET) as server:
        client = RawClient(
            server.port,
            path=f"/?token={make_token('from-query')}",
            headers={
                "Cookie": f"access_token={make_token('from-cookie')}",
                "Authorization": f"Bearer {make_token('from-header')}",
            },
        )
        assert ready_user(client) == "from-cookie"
        client.close()


def expect_4401(client: RawClient, code: str) -> str:
    assert client.status_line.startswith("HTTP/1.1 101")
    _op, payload = client.recv_frame()
    error = parse_prefixed(payload.decode())
    assert error["t"] == "error"
    assert error["p"]["code"] == code
    assert error["p"]["recoverable"] is False
    close_code, _ = client.recv_until_close()
    assert close_code == 4401
    return str(error["p"]["message"])


def test_missing_token() -> None:
    with running_server(jwt_secret=SECRET) as server:
        client = RawClient(server.port)
        expect_4401(client, "AUTH_REQUIRED")
        client.close()
        assert server.get_connection_count() == 0
        assert server.drain_inbound(10, 50) == []  # never registered, no events
        assert server.health_snapshot()["auth_failures"] == 1


@pytest.mark.parametrize(
    "token",
    [
        make_token(secret=b"another-secret-another-secret-32"),
        make_token(ttl=-10),
        make_token(nbf=int(time.time()) + 3600),
        "not.a.jwt",
        "garbage",
    ],
    ids=["wrong-secret", "expired", "nbf-future", "malformed", "garbage"],
)
def test_invalid_tokens(token: str) -> None:
    with running_server(jwt_secret=SECRET) as server:
        client = RawClient(server.port, headers={"Authorization": f"Bearer {token}"})
        expect_4401(client, "AUTH_FAILED")
        client.close()


def test_token_without_sub() -> None:
    token = pyjwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with running_server(jwt_secret=SECRET) as server:
        client = RawClient(server.port, path=f"/?token={token}")
        assert "user" in expect_4401(client, "AUTH_FAILED").lower()
        client.close()


def test_issuer_and_audience() -> None:
    with running_server(jwt_secret=SECRET, jwt_issuer="my-app", jwt_audience="my-api") as server:
        good = RawClient(server.port, path=f"/?token={make_token('bob', iss='my-app', aud=['x', 'my-api'])}")
        assert ready_user(good) == "bob"
        good.close()
        wrong_iss = RawClient(server.port, path=f"/?token={make_token('bob', iss='other', aud='my-api')}")
        expect_4401(wrong_iss, "AUTH_FAILED")
        wrong_iss.close()
        wrong_aud = RawClient(server.port, path=f"/?token={make_token('bob', iss='my-app', aud='nope')}")
        expect_4401(wrong_aud, "AUTH_FAILED")
        wrong_aud.close()


def test_http_401_option() -> None:
    with running_server(jwt_secret=SECRET, auth_reject_http=True) as server:
        client = RawClient(server.port, headers={"Authorization": "Bearer bad.token.here"})
        assert client.status_line.startswith("HTTP/1.1 401")
        body = json.loads(client.buf.decode() or client.sock.recv(4096).decode())
        assert body["code"] == "AUTH_FAILED"
        client.close()
        missing = RawClient(server.port)
        assert missing.status_line.startswith("HTTP/1.1 401")
        missing.close()
