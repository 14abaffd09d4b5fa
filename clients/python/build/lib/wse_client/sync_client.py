"""SyncWSEClient: the async client driven from plain threads.

An AsyncWSEClient runs on a private event loop in a daemon thread; every method
here submits a coroutine to it and waits. Callbacks registered with on() /
on_any() run on that private thread, so they must be thread-safe with respect
to the caller's own state. Thread-safe: any thread may call any method.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from wse_client.client import AsyncWSEClient
from wse_client.dispatch import GapHandler, Handler
from wse_client.errors import WSEConnectionError, WSEError, WSETimeoutError
from wse_client.types import ConnectionQuality, ConnectionState, WSEEvent

T = TypeVar("T")


class SyncWSEClient:
    def __init__(self, url: str | None = None, **options: Any) -> None:
        self._client = AsyncWSEClient(url, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> AsyncWSEClient:
        """The underlying async client (use its methods only on its own loop)."""
        return self._client

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="wse-sync-client", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        if self._loop is None:
            coro.close()
            raise WSEConnectionError("not connected: call connect() first")
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise WSETimeoutError(f"operation did not complete within {timeout}s") from None

    # ---- life ------------------------------------------------------------------

    def connect(self, timeout: float = 15.0) -> Self:
        loop = self._ensure_loop()
        fut = asyncio.run_coroutine_threadsafe(self._client.connect(), loop)
        try:
            fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise WSETimeoutError(f"connect() did not complete within {timeout}s") from None
        return self

    def close(self, timeout: float = 5.0) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            self._call(self._client.close(), timeout)
        except WSEError:
            pass
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout)
            loop.close()
            self._loop = None
            self._thread = None

    disconnect = close

    def __enter__(self) -> Self:
        return self.connect()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- the async client's API, blocking ------------------------------------------

    def recv(self, timeout: float | None = None) -> WSEEvent:
        """The next event; WSETimeoutError after ``timeout`` seconds."""
        outer = None if timeout is None else timeout + 5.0
        return self._call(self._client.recv(timeout), outer)

    def __iter__(self) -> Iterator[WSEEvent]:
        """Events until the stream ends (a fatal error is raised)."""
        while True:
            try:
                yield self.recv()
            except WSEConnectionError as exc:
                if self._client._fatal is not None:
                    raise
                if "closed" in str(exc).lower():
                    return
                raise

    def run_forever(self) -> None:
        for _ in self:
            pass

    def subscribe(self, topics: Sequence[str] | str, *, wait: bool = True, timeout: float = 5.0) -> bool:
        return self._call(self._client.subscribe(topics, wait=wait, timeout=timeout), timeout + 5.0)

    def unsubscribe(self, topics: Sequence[str] | str, *, wait: bool = True, timeout: float = 5.0) -> bool:
        return self._call(self._client.unsubscribe(topics, wait=wait, timeout=timeout), timeout + 5.0)

    def send(self, msg_type: str, payload: Any = None, *, timeout: float = 10.0, **kw: Any) -> bool:
        return self._call(self._client.send(msg_type, payload, **kw), timeout)

    def send_with_retry(self, msg_type: str, payload: Any = None, *, max_retries: int = 5, **kw: Any) -> bool:
        return self._call(
            self._client.send_with_retry(msg_type, payload, max_retries=max_retries, **kw), 30.0
        )

    def send_batch(self, messages: Iterable[tuple[str, Any]], *, timeout: float = 10.0) -> bool:
        return self._call(self._client.send_batch(list(messages)), timeout)

    def request(self, msg_type: str, payload: Any = None, *, timeout: float = 10.0) -> WSEEvent:
        return self._call(self._client.request(msg_type, payload, timeout=timeout), timeout + 5.0)

    def request_snapshot(self, topics: Sequence[str] | None = None) -> bool:
        return self._call(self._client.request_snapshot(topics), 10.0)

    def force_reconnect(self) -> None:
        self._call(self._client.force_reconnect(), 5.0)

    def change_endpoint(self, url: str) -> None:
        self._call(self._client.change_endpoint(url), 5.0)

    def wait_connected(self, timeout: float = 30.0) -> None:
        self._call(self._client.wait_connected(timeout), timeout + 5.0)

    # ---- callbacks and state ---------------------------------------------------------

    def on(self, event_type: str) -> Any:
        return self._client.on(event_type)

    def on_any(self, fn: Handler) -> Handler:
        return self._client.on_any(fn)

    def off(self, event_type: str, fn: Handler) -> None:
        self._client.off(event_type, fn)

    def on_gap(self, fn: GapHandler) -> GapHandler:
        return self._client.on_gap(fn)

    def get_stats(self) -> dict[str, Any]:
        return self._client.get_stats() if self._loop is not None else {}

    @property
    def state(self) -> ConnectionState:
        return self._client.state

    @property
    def is_connected(self) -> bool:
        return self._client.is_connected

    @property
    def is_ready(self) -> bool:
        return self._client.is_ready

    @property
    def connection_id(self) -> str | None:
        return self._client.connection_id

    @property
    def connection_quality(self) -> ConnectionQuality:
        return self._client.connection_quality

    @property
    def subscribed_topics(self) -> list[str]:
        return self._client.subscribed_topics

    @property
    def queue_size(self) -> int:
        return self._client.queue_size
