"""A reflex that logs in and then redirects lands on a page that is logged in, on every
transport.

A login cycles the session key, so the browser must store the new session cookie before it
loads the next page. The HTTP transports carry it on ``POST send``'s answer. Over a
WebSocket it travels as a ``cookies`` message that the client posts back to ``POST
cookies``. The navigation used to start as soon as the answer arrived, racing that request
(or cancelling it), and the next page loaded logged out. Now the server sends ``cookies``
before the answer, and the client holds an answer that leaves the page until the cookies
are stored. The test holds each ``POST cookies`` back a little, as a slow network
would, so that a navigation that does not wait for it always wins the race.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Route, expect

from tests.transports.conftest import Deployment, serve_app

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]
SLOW_NETWORK_S = 0.3


def slowly(route: Route) -> None:
    time.sleep(SLOW_NETWORK_S)  # the browser goes on meanwhile: a slow link, not a wait
    route.continue_()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = serve_app(tmp_path_factory)
    yield deployment
    deployment.stop()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_login_then_a_redirect_lands_logged_in(
    app: Deployment, page: Page, transport: str
) -> None:
    page.route("**/sockpuppet/cookies", slowly)
    page.goto(app.url + "/")
    page.evaluate("(transport) => Sockpuppet.start({ transports: [transport] })", transport)
    page.wait_for_function(
        "(transport) => Sockpuppet.connected && Sockpuppet.transport === transport", arg=transport
    )
    expect(page.locator("#user")).to_have_text("anonymous")

    page.evaluate("() => { Sockpuppet.stimulate('CounterReflex#sign_in_and_return') }")

    expect(page).to_have_url(app.url + "/?signed-in")
    expect(page.locator("#user")).to_have_text("alice")
