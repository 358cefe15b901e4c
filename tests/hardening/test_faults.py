"""Faults (issue 7): a client that vanishes mid-reflex, reflexes that hang or answer
huge, idle streams behind a proxy that cuts idle connections.

Elsewhere already: a reflex that raises (tests/transports/test_transports.py, on every
transport; tests/engine/test_reflexes.py, without DEBUG), an answer kept for a client that
closed cleanly (tests/transports/test_transports.py), Redis stopping and coming back empty
(tests/transports/test_faults.py), a process dying with reflexes queued
(tests/transports/test_reflexes_queued_at_a_crash.py).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import websockets

from tests.hardening.conftest import Watched, serve
from tests.support.nginx import Nginx, documented_locations
from tests.support.wire import Link, Tab

REFLEX_TIMEOUT = 1
HEARTBEAT = 0.3
PROXY_IDLE_TIMEOUT = 1  # seconds nginx keeps an upstream connection that sends nothing
# Threads of the loop's default executor (Python's default size), where sessions load.
DEFAULT_THREADS = min(32, (os.cpu_count() or 1) + 4)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    yield from serve(
        tmp_path_factory,
        "faults",
        SOCKPUPPET_REFLEX_TIMEOUT=str(REFLEX_TIMEOUT),
        SOCKPUPPET_HEARTBEAT=str(HEARTBEAT),
        SOCKPUPPET_LONGPOLL_TIMEOUT="0.5",
        SOCKPUPPET_REFLEX_THREADS=str(DEFAULT_THREADS + 1),
    )


async def newcomer(url: str) -> Tab:
    tab = Tab(url)
    await tab.negotiate()
    return tab


async def answer_to(link: Link, reflex: dict[str, Any]) -> dict[str, Any]:
    await link.send(reflex)
    while True:
        message = await link.receive()
        if message.get("reflexId") == reflex["id"]:
            return message


async def release(url: str) -> None:
    """End a HostileReflex#held or #hang, from another tab."""
    helper = await newcomer(url)
    async with Link(helper, "websocket") as link:
        assert (await answer_to(link, helper.reflex("HostileReflex#release")))["type"] == "nothing"


async def started(link: Link) -> None:
    """HostileReflex#held tells its session it started."""
    message = await link.receive()
    assert message["operations"][0]["text"] == "started", message


# --- a client that vanishes mid-reflex ---------------------------------------------


async def test_a_websocket_client_that_vanishes_mid_reflex_finds_its_answer(healthy):
    """The socket is dropped without a closing handshake while its reflex runs: the
    reflex finishes, its answer waits in history for the resume, and the server logs no
    error (a dropped client is routine)."""
    tab = await newcomer(healthy.url)
    held = tab.reflex("HostileReflex#held", selectors=["#count"])
    link = Link(tab, "websocket")
    await link.__aenter__()
    await link.send(held)
    await started(link)
    link._ws.transport.abort()  # gone: no close frame, no FIN
    await link.__aexit__(None, None, None)
    await release(healthy.url)
    async with Link(tab, "sse") as resumed:
        answer = await resumed.receive()
    assert answer["reflexId"] == held["id"] and answer["operations"][0]["html"] == "1"


async def test_a_post_whose_client_vanishes_mid_reflex_still_answers(healthy):
    """``POST send`` runs its reflexes before answering: the client gives up on the POST
    (its connection closed) while the reflex runs. The reflex finishes; its answer is on
    the connection's stream for the stream or poll that is still there."""
    tab = await newcomer(healthy.url)
    held = tab.reflex("HostileReflex#held", selectors=["#count"])
    async with Link(tab, "sse") as link:
        await link.ready()
        async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies) as client:
            post = asyncio.create_task(
                client.post(
                    f"/sockpuppet/send?token={quote(tab.grant['token'])}",
                    json=[held],
                    headers={"Origin": tab.base_url},
                )
            )
            await started(link)
            post.cancel()  # the client is gone mid-reflex
            with pytest.raises(asyncio.CancelledError):
                await post
        await release(healthy.url)
        answer = await link.receive()
    assert answer["reflexId"] == held["id"] and answer["operations"][0]["html"] == "1"


# --- a reflex that hangs or answers huge -----------------------------------------------


async def test_reflexes_that_hang_do_not_starve_new_connections(healthy):
    """As many reflexes hang as the loop's default executor has threads: they hold
    threads of the reflex pool only, so a new tab still connects (its session loads) and
    its reflex runs on the pool's last thread."""
    tabs = [await newcomer(healthy.url) for _ in range(DEFAULT_THREADS)]
    links = [Link(tab, "websocket") for tab in tabs]
    try:
        for tab, link in zip(tabs, links, strict=True):
            await link.__aenter__()
            await link.send(tab.reflex("HostileReflex#held", selectors=["#count"]))
            await started(link)
        late = await newcomer(healthy.url)
        async with asyncio.timeout(10), Link(late, "websocket") as link:
            answer = await answer_to(link, late.reflex("CounterReflex#increment"))
        assert answer["type"] == "operations"
    finally:
        await release(healthy.url)
        for link in links:
            await link.__aexit__(None, None, None)


@pytest.mark.parametrize("transport", ["websocket", "longpoll"])
async def test_a_hanging_reflex_is_answered_with_a_timeout_and_nothing_else_stalls(
    healthy, transport
):
    tab, other = await newcomer(healthy.url), await newcomer(healthy.url)
    hang = tab.reflex("HostileReflex#hang")
    try:
        async with Link(tab, transport) as link:
            sending = asyncio.create_task(link.send(hang))  # a POST waits for its reflexes
            async with Link(other, "websocket") as bystander:  # served while it hangs
                answer = await answer_to(bystander, other.reflex("CounterReflex#increment"))
                assert answer["type"] == "operations"
            timeout = await link.receive()
            await sending
            assert timeout["reflexId"] == hang["id"] and timeout["type"] == "error"
            assert f"did not finish within {REFLEX_TIMEOUT} seconds" in timeout["message"]
            after = await answer_to(
                link, tab.reflex("CounterReflex#increment", selectors=["#count"])
            )
            assert after["operations"][0]["html"] == "1"  # the connection goes on
    finally:
        await release(healthy.url)
    healthy.mark()  # the timeout is logged, as it should be: an error of the app


@pytest.mark.parametrize("transport", ["websocket", "sse", "longpoll"])
async def test_a_huge_page_morph_is_delivered(healthy, transport):
    tab = await newcomer(healthy.url)
    size = 5_000_000
    huge = tab.reflex("HostileReflex#huge", args=[size], selectors=["#note"])
    if transport == "websocket":  # a browser takes frames of any size; the default client not
        headers = {"Cookie": tab.cookie_header, "Origin": tab.base_url}
        async with websockets.connect(
            tab.ws_url(), additional_headers=headers, max_size=None
        ) as ws:
            await ws.send(json.dumps(huge))
            while (answer := json.loads(await ws.recv()))["type"] == "heartbeat":
                pass
    else:
        async with Link(tab, transport) as link:
            answer = await answer_to(link, huge)
    assert answer["reflexId"] == huge["id"] and answer["operations"][0]["html"] == "x" * size


# --- heartbeats against a proxy's idle timeout -------------------------------------


class IdleCuttingProxy(Nginx):
    """docs/deployment.md's nginx configuration, its idle timeout cut to one second."""

    def config(self) -> str:
        documented = documented_locations()
        strict = documented.replace(
            "proxy_read_timeout 75s", f"proxy_read_timeout {PROXY_IDLE_TIMEOUT}s"
        )
        assert strict != documented, "docs/deployment.md no longer sets proxy_read_timeout 75s"
        return super().config().replace(documented, strict)


@pytest.fixture(scope="module")
def proxy(server: Watched, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    nginx = IdleCuttingProxy(tmp_path_factory.mktemp("nginx"), [server.process.port]).start()
    yield nginx.url
    nginx.stop()


@pytest.mark.parametrize("transport", ["websocket", "sse"])
async def test_heartbeats_keep_an_idle_stream_alive_through_a_proxy(healthy, proxy, transport):
    """Nothing happens on the stream for three times the proxy's idle timeout: the
    heartbeats (every HEARTBEAT seconds) keep it open, and it still works afterwards."""
    tab = await newcomer(proxy)
    async with Link(tab, transport) as link:
        await link.ready()
        beats = 0
        while beats * HEARTBEAT < 3 * PROXY_IDLE_TIMEOUT:  # paced by the server
            message = await link.receive(skip=())
            assert message["type"] == "heartbeat", message
            beats += 1
        await link.ready()


async def test_long_polls_are_answered_within_a_proxys_idle_timeout(healthy, proxy):
    tab = await newcomer(proxy)
    async with httpx.AsyncClient(base_url=proxy, cookies=tab.cookies, timeout=10) as client:
        for _ in range(3):  # idle: each poll is held LONGPOLL_TIMEOUT, then answered
            polled = await client.get(f"/sockpuppet/poll?token={quote(tab.grant['token'])}")
            assert polled.status_code == 200 and polled.json()[0]["type"] == "heartbeat"
