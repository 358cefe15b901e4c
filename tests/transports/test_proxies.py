"""Each transport through a real nginx, in the three configurations of DESIGN §8.

What a proxy lets through decides which transport can work; the browser tests show the
client picking it. Here the protocol client checks each transport's proof (a ping answered
by a pong through it) the way the browser client does, within a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.support.nginx import Nginx
from tests.support.wire import Link, Tab

PROOF_DEADLINE = 3.0


@pytest.fixture(scope="module", params=["passes", "no-websocket", "buffering"])
def proxy(request, app_server, tmp_path_factory) -> Iterator[Nginx]:
    nginx = Nginx(
        tmp_path_factory.mktemp(f"nginx-{request.param}"), app_server.ports, request.param
    ).start()
    yield nginx
    nginx.stop()


async def proof(tab: Tab, transport: str) -> bool:
    """Whether a ping is answered through ``transport`` within the deadline."""

    async def round_trip() -> bool:
        async with Link(tab, transport) as link:
            await link.send({"type": "ping", "id": transport})
            while True:
                message = await link.receive()
                if message["type"] == "pong" and message["id"] == transport:
                    return True

    try:
        return await asyncio.wait_for(round_trip(), PROOF_DEADLINE)
    except (TimeoutError, OSError, Exception):
        return False


EXPECTED = {
    "passes": {"websocket": True, "sse": True, "longpoll": True},
    "no-websocket": {"websocket": False, "sse": True, "longpoll": True},
    "buffering": {"websocket": False, "sse": False, "longpoll": True},
}


@pytest.mark.parametrize("transport", ["websocket", "sse", "longpoll"])
async def test_which_transports_pass_each_proxy(proxy, transport):
    tab = Tab(proxy.url)
    await tab.negotiate()
    assert await proof(tab, transport) is EXPECTED[proxy.mode][transport]


async def test_reflexes_work_through_the_proxy_on_the_transport_that_passes(proxy):
    tab = Tab(proxy.url)
    await tab.negotiate()
    transport = next(t for t in ("websocket", "sse", "longpoll") if EXPECTED[proxy.mode][t])
    async with Link(tab, transport) as link:
        for expected in (1, 2, 3):
            await link.send(tab.reflex("CounterReflex#increment", selectors=["#count"]))
            assert (await link.receive())["operations"][0]["html"] == str(expected)
