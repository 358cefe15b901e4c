"""Nothing lost, nothing twice: messages published from another process while the
connection is cut and restored arrive exactly once, in order (DESIGN §6)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from sockpuppet import streams
from tests.support.wire import Link, Tab

COUNT = 1000


async def publish(app_server, name: str, count: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "django", "publish_feed", name, str(count),
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **app_server.env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.timeout(120)
async def test_messages_from_another_process_arrive_once_in_order_across_two_cuts(
    app_server, transport
):
    if app_server.name == "memory":
        pytest.skip("the memory bus cannot carry messages between processes (by design)")
    tab = Tab(app_server.url)
    await tab.negotiate()
    tab.streams = [streams.sign("feed")]
    received: list[int] = []

    async def take(link: Link, upto: int) -> None:
        while len(received) < upto:
            message = await link.receive()
            assert message["type"] == "operations", message
            received.append(int(message["operations"][0]["text"]))

    async with Link(tab, transport) as link:
        await link.ready()
        publisher = await publish(app_server, "feed", COUNT)
        await take(link, 100)
    # Cut: the publisher goes on meanwhile.
    async with Link(tab, transport) as link:
        await take(link, 400)
    async with Link(tab, transport) as link:
        await take(link, COUNT)
    output, _ = await publisher.communicate()
    assert publisher.returncode == 0, output.decode()
    assert received == list(range(1, COUNT + 1))
