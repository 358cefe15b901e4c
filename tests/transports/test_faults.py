"""Faults of the Redis bus: it stops and comes back empty; clients recover, nothing crashes."""

from __future__ import annotations

import pytest
import websockets

from tests.support.wire import Link, Tab


@pytest.fixture
def redis_deployment(app_server, redis_server):
    if app_server.name == "memory":
        pytest.skip("faults of the Redis bus")
    yield app_server
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()


async def count(link: Link, tab: Tab) -> str:
    await link.send(tab.reflex("CounterReflex#increment", selectors=["#count"]))
    while True:
        message = await link.receive()
        if message["type"] == "operations":
            return str(message["operations"][0]["html"])


@pytest.mark.timeout(90)
async def test_redis_down_is_a_clear_refusal_and_clients_recover_when_it_returns(
    redis_deployment, redis_server, transport
):
    tab = Tab(redis_deployment.url)
    await tab.negotiate()
    async with Link(tab, transport) as link:
        assert await count(link, tab) == "1"
    redis_server.stop()
    if transport == "websocket":
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with Link(tab, transport) as link:
                await link.receive()
        assert closed.value.rcvd.code == 1013 and "unreachable" in closed.value.rcvd.reason
    else:
        with pytest.raises(AssertionError, match="unreachable"):
            async with Link(tab, transport) as link:
                await count(link, tab)
    redis_server.start()
    # Redis came back empty: the resume from the old cursor ends in resync, then all works.
    async with Link(tab, transport) as link:
        assert (await link.receive())["type"] == "resync"
        assert await count(link, tab) == "2"
