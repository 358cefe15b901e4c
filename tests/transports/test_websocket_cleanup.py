"""A WebSocket that ends after its sender already failed (the client vanished mid-send)
still lets go of its bus subscription: the soak test found the leak (loadtest/soak/)."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.utils import ClientDisconnected

from sockpuppet.bus.memory import MemoryBus
from transports.websocket import WebSocketTransport


async def test_a_sender_that_failed_does_not_keep_the_subscription():
    bus = MemoryBus()
    transport = WebSocketTransport()
    transport.subscription = await bus.subscribe(["c.gone"])

    async def failed_send() -> None:
        raise ClientDisconnected

    transport.sender = asyncio.create_task(failed_send())
    await asyncio.gather(transport.sender, return_exceptions=True)  # it has ended, failing
    await transport.disconnect(1006)
    assert not bus._followers.get("c.gone")
