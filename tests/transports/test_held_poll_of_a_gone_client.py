"""Regression: a long-poll held on for its whole hold after its client went away.

Bug: ``GET poll`` held (up to ``LONGPOLL_TIMEOUT``, 25 s) with its bus subscription open
even when the browser had closed the request: a closed tab kept a subscription (a Redis
pub/sub channel) for up to 25 s, and a server stopping gracefully waited for it, then cut
it with a 500. Cause: nothing listened for ``http.disconnect`` during the hold.
Fix: the hold races the client's disconnect (``transports/longpoll.py``, ``_unless_gone``).
Found by the browser tests' teardown (each long-poll test's server took 3 s to stop).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import httpx
import pytest

from sockpuppet.bus.redis import LINGER, channel
from tests.support.redis import RedisServer
from tests.support.wire import Tab
from tests.transports.conftest import serve_app


async def subscribers(redis_server: RedisServer, stream: str) -> int:
    with redis_server.client() as client:
        return int(dict(client.pubsub_numsub(channel(stream)))[channel(stream).encode()])


async def until(condition: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    """Whether ``condition()`` became true within ``timeout`` seconds (checked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)  # polling a condition outside our control: Redis's view
    return True


@pytest.mark.timeout(60)
async def test_a_poll_whose_client_went_away_lets_go_of_its_subscription(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    redis_server.flushall()
    app = serve_app(tmp_path_factory, SOCKPUPPET_BUS=redis_server.url)
    try:
        tab = Tab(app.url)
        await tab.negotiate()
        stream = f"c.{tab.grant['connectionId']}"
        url = f"{app.url}/sockpuppet/poll?token={quote(tab.grant['token'])}"

        async def held() -> bool:
            return await subscribers(redis_server, stream) == 1

        async def released() -> bool:
            return await subscribers(redis_server, stream) == 0

        async with httpx.AsyncClient(cookies=tab.cookies, timeout=60) as client:
            poll = asyncio.create_task(client.get(url))  # nothing to answer yet: it holds
            assert await until(held, 10), "the poll never held"
            poll.cancel()  # the browser closes the request
            await asyncio.gather(poll, return_exceptions=True)
        # Released within moments, not at the end of the 25 s hold; the Redis bus keeps a
        # stream nobody follows LINGER seconds more, for a poll that comes right back.
        released_in = LINGER + 5
        assert await until(released, released_in), (
            "the poll still holds a subscription for a gone client"
        )
    finally:
        app.stop()
