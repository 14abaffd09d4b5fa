"""The seed's client snippets ("Python Client Integration"), unchanged but for the
URL and token, run against our server."""

from __future__ import annotations

import asyncio
import threading

from conftest import InProcess, make_token


async def test_async_client_snippet(ours: InProcess) -> None:
    url, token = ours.url, make_token()
    seen = []

    from wse_client import connect  # noqa: PLC0415 (as the seed writes it)

    async def main() -> None:
        async with connect(url, token=token) as client:
            await client.subscribe(["notifications", "live_data"])
            ours.server.publish_local("live_data", 'U{"t":"live","p":{"x":1}}')
            async for event in client:
                print(event.type, event.payload)
                seen.append(event)
                break

    await asyncio.wait_for(main(), 10)
    assert seen[0].type == "live"


def test_sync_client_snippet(ours: InProcess) -> None:
    url, token = ours.url, make_token()
    from wse_client import SyncWSEClient  # noqa: PLC0415

    client = SyncWSEClient(url, token=token)
    client.connect()
    client.subscribe(["notifications"])
    threading.Timer(0.2, ours.server.publish_local, ("notifications", 'U{"t":"n","p":{"k":"v"}}')).start()

    event = client.recv(timeout=5.0)
    print(event.type, event.payload)

    client.close()
    assert event.payload == {"k": "v"}


async def test_callback_and_configuration_snippets(ours: InProcess) -> None:
    url, token = ours.url, make_token()
    from wse_client import AsyncWSEClient  # noqa: PLC0415
    from wse_client.types import LoadBalancingStrategy, ReconnectConfig  # noqa: PLC0415

    client = AsyncWSEClient(
        url=url,
        token=token,
        reconnect=ReconnectConfig(
            max_attempts=-1,  # Infinite retries (default)
            base_delay=1.0,  # 1s initial delay
            max_delay=30.0,  # 30s max delay
            factor=1.5,  # Backoff multiplier
        ),
        endpoints=[url, url.replace("/wse", "/fallback")],
        load_balancing=LoadBalancingStrategy.WEIGHTED_RANDOM,
        queue_size=10000,  # Event queue size
    )
    got = asyncio.Event()

    @client.on("notifications")
    def handle_notification(event):  # type: ignore[no-untyped-def]  # the seed's untyped handler
        print(f"Notification: {event.payload}")
        got.set()

    @client.on("price_update")
    def handle_price(event):  # type: ignore[no-untyped-def]
        print(f"Price: {event.payload['symbol']} = {event.payload['price']}")

    async with client:
        await client.subscribe(["alerts"])
        ours.server.publish_local("alerts", 'U{"t":"notifications","p":{"text":"hi"}}')
        ours.server.publish_local("alerts", 'U{"t":"price_update","p":{"symbol":"ACME","price":1.5}}')
        await asyncio.wait_for(got.wait(), 5)
        assert client.reconnect_config.max_attempts == -1
