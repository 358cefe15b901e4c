"""Cookies a reflex sets reach Chromium's jar before the page is left, and in order.

A reflex's request never reaches the browser, so the cookies it sets travel on their own.
The HTTP transports carry them on ``POST send``'s answer, one POST at a time. Over a
WebSocket they come as a ``cookies`` message that the client posts back to ``POST
cookies``. Two ways that used to go wrong there:

- A login cycles the session key; a redirect right after it started the next page load
  while the ``POST cookies`` was still on its way (or cancelled it), and the page loaded
  logged out. Now the server sends ``cookies`` before the answer, and the client holds an
  answer that leaves the page until the cookies are stored. The test holds each ``POST
  cookies`` back a little, as a slow network would, so that a navigation that does not wait
  always wins the race.
- With signed-cookie sessions every reflex that writes the session sets a cookie. Two
  ``POST cookies`` in flight at once could land in either order, and an older session
  would overwrite a newer one. Now they go one at a time, in order. The test delays the
  first one in the page, so that a second sent alongside it would land first.
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
SIGNED_COOKIES = "django.contrib.sessions.backends.signed_cookies"

# The page's first `POST cookies` leaves 300 ms late; `__cookiesStored` counts answers.
FIRST_COOKIES_LATE = """(() => {
  const original = window.fetch.bind(window)
  let sent = 0
  window.__cookiesStored = 0
  window.fetch = (url, options) => {
    if (!String(url).endsWith("/sockpuppet/cookies")) return original(url, options)
    const late = sent++ === 0 ? new Promise((resolve) => setTimeout(resolve, 300)) : null
    return Promise.resolve(late)
      .then(() => original(url, options))
      .finally(() => { window.__cookiesStored += 1 })
  }
})()"""


def slowly(route: Route) -> None:
    time.sleep(SLOW_NETWORK_S)  # the browser goes on meanwhile: a slow link, not a wait
    route.continue_()


def open_on(page: Page, url: str, transport: str) -> None:
    page.goto(url)
    page.evaluate("(transport) => Sockpuppet.start({ transports: [transport] })", transport)
    page.wait_for_function(
        "(transport) => Sockpuppet.connected && Sockpuppet.transport === transport", arg=transport
    )


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = serve_app(tmp_path_factory)
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def cookie_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = serve_app(tmp_path_factory, TESTS_SESSION_ENGINE=SIGNED_COOKIES)
    yield deployment
    deployment.stop()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_login_then_a_redirect_lands_logged_in(
    app: Deployment, page: Page, transport: str
) -> None:
    page.route("**/sockpuppet/cookies", slowly)
    open_on(page, app.url + "/", transport)
    expect(page.locator("#user")).to_have_text("anonymous")

    page.evaluate("() => { Sockpuppet.stimulate('CounterReflex#sign_in_and_return') }")

    expect(page).to_have_url(app.url + "/?signed-in")
    expect(page.locator("#user")).to_have_text("alice")


def test_signed_cookie_sessions_keep_the_newest_change_over_a_websocket(
    cookie_app: Deployment, page: Page
) -> None:
    page.add_init_script(FIRST_COOKIES_LATE)
    open_on(page, cookie_app.url + "/", "websocket")

    page.evaluate(
        """() => Promise.all([
             Sockpuppet.stimulate("CounterReflex#increment"),
             Sockpuppet.stimulate("CounterReflex#increment"),
           ])"""
    )
    expect(page.locator("#count")).to_have_text("2")
    page.wait_for_function("() => window.__cookiesStored === 2")

    page.reload()
    expect(page.locator("#count")).to_have_text("2")
