"""Microservice: a FastAPI app that holds one WSE client for its whole life
(opened and closed in the lifespan), keeps the latest events in memory and
forwards commands to the WSE server.

    WSE_URL=ws://127.0.0.1:5006/wse WSE_TOKEN=<jwt> uvicorn examples.client_fastapi_service:app --port 8000
    curl localhost:8000/events        # latest events seen on WSE_TOPICS
    curl -XPOST localhost:8000/send -H 'content-type: application/json' -d '{"type":"echo","payload":{"a":1}}'
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from wse_client import AsyncWSEClient, WSEConnectionError, WSEEvent


class Command(BaseModel):
    type: str
    payload: dict[str, Any] = {}


class Feed:
    """The service's state: the client and what it has seen."""

    def __init__(self) -> None:
        self.client: AsyncWSEClient | None = None
        self.latest: deque[dict[str, Any]] = deque(maxlen=100)
        self.consumer: asyncio.Task[None] | None = None

    async def consume(self, client: AsyncWSEClient) -> None:
        async for event in client:
            self.latest.append(_jsonable(event))


def _jsonable(event: WSEEvent) -> dict[str, Any]:
    return {"type": event.type, "payload": event.payload, "seq": event.sequence, "topic": event.topic}


feed = Feed()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    topics = [t for t in os.environ.get("WSE_TOPICS", "demo:ticks").split(",") if t]
    client = AsyncWSEClient(
        os.environ.get("WSE_URL", "ws://127.0.0.1:5006/wse"), token=os.environ.get("WSE_TOKEN")
    )
    await client.connect()
    await client.subscribe(topics)
    feed.client = client
    feed.consumer = asyncio.create_task(feed.consume(client))
    try:
        yield
    finally:
        await client.close()
        feed.consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feed.consumer


app = FastAPI(title="WSE client service", lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, Any]:
    client = feed.client
    return {
        "wse_state": client.state.value if client else "none",
        "connection_id": client.connection_id if client else None,
        "topics": client.subscribed_topics if client else [],
    }


@app.get("/events")
async def events() -> list[dict[str, Any]]:
    return list(feed.latest)


@app.post("/send")
async def send(command: Command) -> dict[str, Any]:
    if feed.client is None:
        raise HTTPException(503, "WSE client not started")
    try:
        reply = await feed.client.request(command.type, command.payload, timeout=5.0)
    except WSEConnectionError as exc:
        raise HTTPException(503, f"WSE unavailable: {exc}") from exc
    except TimeoutError as exc:
        raise HTTPException(504, f"no reply from WSE: {exc}") from exc
    return _jsonable(reply)
