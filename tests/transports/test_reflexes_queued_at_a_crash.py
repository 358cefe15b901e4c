"""Regression: reflexes queued on a WebSocket when its process died were never run.

Bug: the dispatcher claimed a reflex's id (``bus.claim``; on the Redis bus the claim
outlives the process) as its frame arrived, then queued the reflex behind the one running.
When the process died, the queued reflexes were claimed but had never run: the client's
retries, sent to the restarted process with the same ids, were refused as duplicates and
got no answer (the browser settled them as errors 30 s later: clicks lost).
Cause: at-most-once claimed at arrival instead of at start.
Fix: the id is claimed when its reflex starts (``Dispatcher._work``). What runs at the
instant of a crash stays at most once. Found by ``tests/browser/test_outage.py``.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import websockets

from tests.support.redis import RedisServer
from tests.support.wire import Link, Tab
from tests.transports.conftest import serve_app


@pytest.mark.timeout(90)
async def test_reflexes_queued_when_the_process_died_run_when_the_client_retries(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    redis_server.flushall()
    app = serve_app(tmp_path_factory, SOCKPUPPET_BUS=redis_server.url)
    process = app.processes[0]
    try:
        tab = Tab(app.url)
        await tab.negotiate()
        slow = tab.reflex("CounterReflex#slow", selectors=["#count"])  # sleeps 0.3 s
        queued = [tab.reflex("CounterReflex#increment", selectors=["#count"]) for _ in range(3)]
        with contextlib.suppress(websockets.ConnectionClosed):
            async with Link(tab, "websocket") as link:
                await link.send(slow, *queued, {"type": "ping", "id": "all-received"})
                # Pings are answered at once: every frame before it has arrived, and the
                # slow reflex is still running, the others queued behind it.
                while (await link.receive())["type"] != "pong":
                    pass
                assert process.process is not None
                process.process.kill()
                process.process.wait(timeout=10)
        process.start()

        # The client re-sends every reflex it has no answer for, with the same ids.
        answers: dict[str, str] = {}
        async with Link(tab, "websocket") as link:
            await link.send(slow, *queued)

            async def take() -> None:
                while len(answers) < len(queued):
                    message = await link.receive()
                    if message["type"] == "operations" and message["reflexId"] != slow["id"]:
                        answers[message["reflexId"]] = message["operations"][0]["html"]

            await asyncio.wait_for(take(), 10)
        # The slow one was running when the process died: it ran at most once (here: never,
        # it was killed in its sleep). The queued ones run now, once each, in order.
        assert [answers[m["id"]] for m in queued] == ["1", "2", "3"]
    finally:
        app.stop()
