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
  always wins the race. Over SSE and long-poll the cookies come on ``POST send``'s answer
  and the redirect on the stream, which a proxy may deliver first: an answer that leaves
  the page also waits for the POSTs on their way (tested with those answers held back).
- With signed-cookie sessions every reflex that writes the session sets a cookie. Two
  ``POST cookies`` in flight at once could land in either order, and an older session
  would overwrite a newer one. Now they go one at a time, in order. The test delays the
  first one in the page, so that a second sent alongside it would land first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Route, expect

from tests.support.browser import PageProblems, start_on
from tests.transports.conftest import Deployment, serve_app

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]
SLOW_NETWORK_S = 0.3
SIGNED_COOKIES = "django.contrib.sessions.backends.signed_cookies"
TOKEN_REFUSED = re.compile(
    r"console.error: Failed to load resource: the server responded with a status of 401 .*"
)

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
    start_on(page, transport)


def sign_in_and_out(page: Page) -> None:
    """A login (it rotates the CSRF secret), then a logout (it ends the session), in reflexes."""
    page.evaluate("() => Sockpuppet.stimulate('CounterReflex#sign_in')")
    expect(page.locator("#user")).to_have_text("alice")
    page.evaluate("() => Sockpuppet.stimulate('CounterReflex#sign_out')")
    expect(page.locator("#user")).to_have_text("anonymous")


def assert_connects_again(page: Page, page_problems: PageProblems, transport: str) -> None:
    """Connect again, as after a network drop: the old token is refused, so the page must
    negotiate with a CSRF token that matches; then a reflex must work."""
    others = [name for name in TRANSPORTS if name != transport]
    page.evaluate("(allowed) => Sockpuppet.start({ transports: allowed })", [transport, *others])
    page.wait_for_function(
        "(transport) => Sockpuppet.connected && Sockpuppet.transport === transport", arg=transport
    )
    page.evaluate("() => Sockpuppet.stimulate('CounterReflex#increment')")
    expect(page.locator("#count")).to_have_text("1")
    assert all(TOKEN_REFUSED.fullmatch(problem) for problem in page_problems.errors)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with serve_app(tmp_path_factory) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def late_answers_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Each ``POST send``'s ``202`` (and the cookies it sets) leaves 0.3 s late."""
    with serve_app(tmp_path_factory, TESTS_SEND_ANSWERS_LATE=str(SLOW_NETWORK_S)) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def cookie_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with serve_app(tmp_path_factory, TESTS_SESSION_ENGINE=SIGNED_COOKIES) as deployment:
        yield deployment


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


@pytest.mark.parametrize("transport", ["sse", "longpoll"])
def test_a_login_then_a_redirect_waits_for_the_post_that_carries_the_cookies(
    late_answers_app: Deployment, page: Page, transport: str
) -> None:
    """Over SSE and long-poll the cookies come on ``POST send``'s answer, the redirect on
    the stream: a proxy may deliver the stream first. The client leaves only once the POST
    is answered."""
    open_on(page, late_answers_app.url + "/", transport)
    page.evaluate("() => { Sockpuppet.stimulate('CounterReflex#sign_in_and_return') }")
    expect(page).to_have_url(late_answers_app.url + "/?signed-in")
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


@pytest.fixture(scope="module", params=["cookie", "httponly", "session"])
def csrf_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """The test app keeping its CSRF secret in a cookie the page reads, in one it cannot
    read (``CSRF_COOKIE_HTTPONLY``), or in the session (``CSRF_USE_SESSIONS``)."""
    with serve_app(tmp_path_factory, TESTS_CSRF=str(request.param)) as deployment:
        yield deployment


@pytest.mark.allow_page_errors  # Chromium logs the refusal of the old token
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_after_a_login_and_a_logout_in_reflexes_the_page_connects_again(
    csrf_app: Deployment, page: Page, page_problems: PageProblems, transport: str
) -> None:
    """The login rotates the CSRF secret; the logout ends the session the connection's
    token was bound to, so the page must negotiate again, with a CSRF token that matches."""
    open_on(page, csrf_app.url + "/", transport)
    sign_in_and_out(page)
    assert_connects_again(page, page_problems, transport)


@pytest.mark.allow_page_errors  # Chromium logs the refusal of the old token
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_tab_connects_again_after_a_login_and_a_logout_in_another_tab(
    app: Deployment, page: Page, page_problems: PageProblems, transport: str
) -> None:
    """Another tab's login rotates the CSRF cookie under this tab's rendered token; once its
    logout ends the session, this tab negotiates again with the cookie's token."""
    open_on(page, app.url + "/", transport)
    other = page.context.new_page()
    open_on(other, app.url + "/", transport)
    sign_in_and_out(other)
    other.close()
    assert_connects_again(page, page_problems, transport)


def test_a_websocket_tab_runs_its_reflex_in_the_session_another_tab_logged_in(
    app: Deployment, page: Page
) -> None:
    """This tab's WebSocket opened with the session cookie the other tab's login replaced:
    its click runs once, logged in, and the browser stays logged in (it used to run as
    nobody in an empty session, and delete the browser's new session cookie)."""
    open_on(page, app.url + "/", "websocket")
    other = page.context.new_page()
    open_on(other, app.url + "/", "websocket")
    other.evaluate("() => Sockpuppet.stimulate('CounterReflex#sign_in')")
    expect(other.locator("#user")).to_have_text("alice")
    other.close()

    page.evaluate("() => Sockpuppet.stimulate('CounterReflex#increment')")
    expect(page.locator("#user")).to_have_text("alice")
    expect(page.locator("#count")).to_have_text("1")
    page.reload()
    expect(page.locator("#user")).to_have_text("alice")
    expect(page.locator("#count")).to_have_text("1")
