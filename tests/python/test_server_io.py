"""The I/O thread's socket handling on real sockets: output that waits for a
full socket buffer to drain, inbound bursts larger than one turn's read budget,
and connections closed while a forked child still holds copies of their
descriptors (docs/ARCHITECTURE.md 4.1)."""

from __future__ import annotations

import json
import os
import socket
import time
import warnings

import pytest
from server_support import RawClient, drain_until, encode_frame, parse_prefixed, running_server, wait_for


def test_full_socket_buffer_resumes_and_delivers_everything_in_order() -> None:
    # 24 MiB towards a client that reads nothing at first: far more than both
    # socket buffers hold, so the server must stop on a full buffer and resume
    # when the client reads, without losing or reordering a message.
    count, size = 1536, 16384
    with running_server(max_outbound_bytes=64 * 1024 * 1024) as server:
        client = RawClient(server.port)
        # Small, but above one loopback segment (64 KiB): a window smaller than a
        # segment would leave the transfer to the kernel's zero-window probes.
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
        assert parse_prefixed(client.recv_frame()[1].decode())["t"] == "server_ready"
        conn_id = drain_until(server, lambda e: e[0] == "connect")[-1][1]
        server.subscribe_connection(conn_id, ["bulk"])
        pad = "x" * (size - 20)
        for i in range(count):
            server.publish_local("bulk", f'{{"n":{i},"p":"{pad}"}}')
        time.sleep(0.3)  # the writes stop on the full buffers
        assert server.health_snapshot()["bytes_sent"] < count * size // 2
        for i in range(count):
            op, payload = client.recv_frame(timeout=10)
            assert op == 1
            assert json.loads(payload)["n"] == i
        health = server.health_snapshot()
        assert health["slow_consumer_closed"] == 0
        assert health["slow_consumer_dropped"] == 0
        assert server.get_connection_count() == 1
        client.close()


def test_inbound_burst_larger_than_a_turns_read_budget_arrives_whole() -> None:
    # About 6 MiB sent at once by one client: more than the 8 x 64 KiB one
    # socket may read per loop turn, so the rest is read on later turns.
    count, size = 400, 16000
    with running_server(rate_limit_capacity=1e6, rate_limit_refill=1e6) as server:
        client = RawClient(server.port)
        client.recv_frame()
        drain_until(server, lambda e: e[0] == "connect")
        blob = b"".join(encode_frame(1, f"{i:06d}".encode() + b"y" * (size - 6)) for i in range(count))
        client.sock.sendall(blob)
        got: list[str] = []
        deadline = time.monotonic() + 20
        while len(got) < count and time.monotonic() < deadline:
            got += [data for kind, _, data in server.drain_inbound(1024, 50) if kind == "raw"]
        assert len(got) == count
        assert [int(m[:6]) for m in got] == list(range(count))
        assert all(len(m) == size for m in got)
        client.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_connections_closed_while_a_forked_child_holds_their_descriptors() -> None:
    # A child forked after the connections opened keeps copies of their sockets
    # while the server closes its own and the peers close theirs; the server must
    # keep serving old and new connections (tests/cpp/test_server_sockets.cpp
    # runs the same under ASan).
    with running_server(io_threads=1) as server:
        first = [RawClient(server.port) for _ in range(20)]
        for c in first:
            c.recv_frame()
        wait_for(lambda: server.get_connection_count() == 20, what="20 connections")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a multi-threaded process
            pid = os.fork()
        if pid == 0:  # the child: hold the inherited descriptors for a while, then leave
            time.sleep(1.5)
            os._exit(0)
        try:
            for conn_id in server.get_connections()[:10]:
                server.disconnect(conn_id, 1000, "bye")
            wait_for(lambda: server.get_connection_count() == 10, what="10 closed by the server")
            for c in first:  # the peers close too: events on sockets the child still has
                c.close()
            wait_for(lambda: server.get_connection_count() == 0, what="all closed")
            second = [RawClient(server.port) for _ in range(20)]
            for c in second:
                assert parse_prefixed(c.recv_frame()[1].decode())["t"] == "server_ready"
            wait_for(lambda: server.get_connection_count() == 20, what="20 new connections")
            for i, conn_id in enumerate(server.get_connections()):
                assert server.send(conn_id, f"hello {i}")
            for c in second:
                op, payload = c.recv_frame()
                assert op == 1
                assert payload.startswith(b"hello ")
                c.close()
        finally:
            os.waitpid(pid, 0)
        assert server.is_running()
