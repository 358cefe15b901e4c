"""The ``bus`` fixture runs each bus test on every backend (STYLE 3): ``memory`` and
``redis`` (a real redis-server started by the tests, emptied for each test)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from sockpuppet.bus import Bus, Message, Subscription
from sockpuppet.bus.memory import MemoryBus
from sockpuppet.bus.redis import RedisBus, log_key, position_key
from tests.support.redis import RedisServer

WAIT = 5  # seconds a message may take; a failure, not a synchronisation


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "memory":
        bus: Bus = MemoryBus(history_length=5, max_queue=10)
    else:
        server = request.getfixturevalue("clean_redis")
        bus = RedisBus(server.url, history_length=5, max_queue=10)
    yield bus
    await bus.close()


@pytest.fixture
async def redis_bus(clean_redis: RedisServer) -> AsyncIterator[Callable[..., RedisBus]]:
    """Make RedisBus instances on the test's Redis, each standing for a process."""
    buses: list[RedisBus] = []

    def make(**options: Any) -> RedisBus:
        buses.append(RedisBus(clean_redis.url, **options))
        return buses[-1]

    yield make
    for bus in buses:
        await bus.close()


async def receive(subscription: Subscription, count: int = 1) -> list[Message]:
    return [await asyncio.wait_for(subscription.get(), WAIT) for _ in range(count)]


def drain(subscription: Subscription) -> list[Message]:
    """What the subscription holds right now."""
    messages = []
    while (message := subscription.get_nowait()) is not None:
        messages.append(message)
    return messages


async def settled(bus: Bus) -> None:
    """Return once every announcement published so far has been handed to subscribers.

    A marker published on a fresh stream comes after them on the (ordered) pub/sub
    connection; on the memory bus delivery is immediate anyway.
    """
    marker = await bus.subscribe(["settled"])
    try:
        await bus.publish("settled", {"type": "marker"})
        await receive(marker)
    finally:
        await marker.close()


def append_silently(
    server: RedisServer, stream: str, message: Message, history_length: int = 1000
) -> int:
    """A durable publish whose announcement got lost: the history entry, no PUBLISH."""
    with server.client() as client:
        position = int(client.incr(position_key(stream)))
        body = json.dumps({**message, "stream": stream, "position": position})
        client.xadd(
            log_key(stream),
            {"m": body},
            id=f"{position}-0",
            maxlen=history_length,
            approximate=False,
        )
    return position
