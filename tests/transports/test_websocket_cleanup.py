"""A WebSocket that ends after its sender already failed (the client vanished mid-send)
still lets go of its bus subscription: the soak test found the leak (loadtest/soak/)."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.utils import ClientDisconnected

from sockpuppet.bus.memory import MemoryBus
from sockpuppet.connection import Connection
from transports.common import occupancy
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


async def test_a_connection_whose_handler_fails_is_closed_and_lets_go_of_what_it_held(caplog):
    """A bug on a frame's way (the fuzzing found one: a cursor nested too deep) must not
    end the connection without its cleanup: the session's count of connections in this
    process would keep the place, and enough of them lock the session out."""
    bus = MemoryBus()
    transport = WebSocketTransport()
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    transport.base_send = send
    transport.subscription = await bus.subscribe(["c.broken"])
    connection = Connection(id="broken", transport="websocket", headers=[])
    occupancy.enter(connection)
    transport.counted = connection

    class Failing:
        async def receive(self, text: object) -> None:
            raise RuntimeError("a bug")

    transport.dispatcher = Failing()  # type: ignore[assignment]
    await transport.dispatch({"type": "websocket.receive", "text": "{}"})

    assert sent == [{"type": "websocket.close", "code": 1011}]
    assert not bus._followers.get("c.broken")
    assert connection.owner not in occupancy._open
    assert "WebSocket connection failed" in caplog.text and "a bug" in caplog.text
