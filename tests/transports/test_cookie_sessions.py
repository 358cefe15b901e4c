"""Signed-cookie sessions: a reflex's session change lives in a cookie the browser must get.

Over WebSocket the connection keeps the changed cookie for its next reflexes; over the
HTTP transports the ``POST send`` answer sets it in the browser (regression: SSE and
long-poll reflexes each started from the page's original session, so a counter never
passed 1).
"""

from __future__ import annotations

import pytest

from tests.support.wire import Link, Tab
from tests.transports.conftest import serve_app


@pytest.fixture(scope="module")
def cookie_server(tmp_path_factory):
    server = serve_app(
        tmp_path_factory, TESTS_SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"
    )
    yield server
    server.stop()


async def test_session_changes_accumulate(cookie_server, transport):
    tab = Tab(cookie_server.url)
    await tab.negotiate()
    async with Link(tab, transport) as link:
        for expected in range(1, 6):
            await link.send(tab.reflex("CounterReflex#increment", selectors=["#count"]))
            # Over WebSocket each changed session cookie also comes as a `cookies` hand-off
            # for the browser's jar (tests/transports/test_login.py covers it).
            answer = await link.receive(skip=("heartbeat", "cookies"))
            assert answer["operations"][0]["html"] == str(expected)
