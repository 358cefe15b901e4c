"""Behind a proxy that terminates HTTPS, in Chromium, on every transport.

nginx serves HTTPS (a self-signed certificate) with the configuration of
``docs/deployment.md`` and passes plain HTTP to the app, which runs with Django's usual
production settings for that: ``SECURE_PROXY_SSL_HEADER``, ``SECURE_SSL_REDIRECT`` and
secure session and CSRF cookies (``TESTS_BEHIND_TLS`` in ``tests/settings.py``). The page
must connect (``wss://`` or HTTPS streams), a page morph must not turn into a redirect to
HTTPS (the reflex's request is as secure as the page's), and a login inside a reflex must
reach the browser as a secure cookie.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import PageProblems, start_on, watched_page
from tests.support.nginx import Nginx
from tests.transports.conftest import Deployment

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test app behind nginx terminating HTTPS; yields the site's https:// URL."""
    app = Deployment(tmp_path_factory, "tls", TESTS_BEHIND_TLS="1")
    proxy = Nginx(app.folder / "nginx", app.ports, tls=True).start()
    try:
        yield proxy.url
    finally:
        proxy.stop()
        app.stop()


@pytest.fixture
def secure_page(browser: Browser) -> Iterator[tuple[Page, PageProblems]]:
    with watched_page(browser, ignore_https_errors=True) as watched:  # our own certificate
        yield watched


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reflexes_work_behind_a_proxy_terminating_https(
    site: str, secure_page: tuple[Page, PageProblems], transport: str
) -> None:
    page, problems = secure_page
    page.goto(site + "/")
    start_on(page, transport)

    page.evaluate("() => Sockpuppet.stimulate('CounterReflex#increment')")
    expect(page.locator("#count")).to_have_text("1")
    assert page.url == site + "/"  # the page morph did not become a redirect to HTTPS

    page.evaluate("() => { Sockpuppet.stimulate('CounterReflex#sign_in_and_return') }")
    expect(page).to_have_url(site + "/?signed-in")
    expect(page.locator("#user")).to_have_text("alice")
    session = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    assert session and all(cookie["secure"] for cookie in session)
    assert problems.errors == []
