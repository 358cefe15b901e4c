"""Regression: a held long-poll held up the server's shutdown.

Bug: uvicorn, told to stop (a deploy's SIGTERM, each reload of ``uvicorn --reload``),
waits for the requests in progress, and a poll held for ``LONGPOLL_TIMEOUT`` (25 s)
held it that long, then was cut with no answer when ``--timeout-graceful-shutdown`` ran
out (the newcomer audit: a code change took 25 s to reload with a long-poll tab open).
Fix: held polls answer at once when uvicorn begins to exit (``transports/draining.py``).
"""

from __future__ import annotations

import json
import signal
from urllib.parse import quote

import httpx
import pytest

from tests.support.wire import Tab
from tests.transports.conftest import serve_app


@pytest.mark.timeout(60)
async def test_a_held_poll_answers_when_the_server_begins_to_shut_down(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    app = serve_app(tmp_path_factory)
    [server] = app.processes
    try:
        tab = Tab(app.url)
        await tab.negotiate()
        url = f"{app.url}/sockpuppet/poll?token={quote(tab.grant['token'])}"
        async with (
            httpx.AsyncClient(cookies=tab.cookies, timeout=60) as client,
            client.stream("GET", url) as poll,  # its headers come as it begins to hold
        ):
            assert poll.status_code == 200
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            answer = json.loads(await poll.aread())  # whole, not cut by the shutdown
        assert [message["type"] for message in answer] == ["heartbeat"]
        server.process.wait(timeout=10)  # it ends by the signal, as uvicorn re-raises it
        assert "graceful shutdown exceeded" not in server.log()
    finally:
        app.stop()
