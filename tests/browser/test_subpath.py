"""A site served under a sub-path (``https://host/app/``), in Chromium, on every transport.

nginx passes ``/app/…`` to the app with the prefix stripped, as ``docs/deployment.md``'s
sub-path locations do, and uvicorn runs with ``--root-path /app``. The page must find its
endpoints under the prefix, and a reflex's ``reverse()`` and ``redirect()`` must give
``/app/…`` URLs as the page's own links do (the reflex threads had no script prefix, so
every link of a morphed page pointed outside the site).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import PageProblems, start_on, watched_page
from tests.support.nginx import Nginx, documented_locations
from tests.transports.conftest import Deployment

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test app under ``/app`` behind nginx; yields the site's URL (with ``/app``)."""
    # DEBUG off and static files from the proxy, as in production. (With DEBUG, Django's own
    # static files handler reads STATIC_URL as the app starts, before any request gave it
    # the prefix, and Django keeps that.)
    app = Deployment(
        tmp_path_factory, "subpath", uvicorn_options=["--root-path", "/app"], TESTS_DEBUG="0"
    )
    static = f"location /app/static/ {{ alias {ROOT}/sockpuppet/static/; }}"
    locations = documented_locations("sockpuppet-subpath-locations") + static
    proxy = Nginx(app.folder / "nginx", app.ports, locations=locations).start()
    try:
        yield proxy.url + "/app"
    finally:
        proxy.stop()
        app.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, PageProblems]]:
    with watched_page(browser) as watched:
        yield watched


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_site_under_a_sub_path_connects_and_its_reflexes_keep_the_prefix(
    site: str, page: tuple[Page, PageProblems], transport: str
) -> None:
    tab, problems = page
    tab.goto(site + "/")
    start_on(tab, transport)

    tab.evaluate("() => Sockpuppet.stimulate('CounterReflex#increment')")
    expect(tab.locator("#count")).to_have_text("1")
    tab.evaluate("() => Sockpuppet.stimulate('CounterReflex#where')")
    expect(tab.locator("#note")).to_have_text("/app/class/")

    tab.evaluate("() => { Sockpuppet.stimulate('CounterReflex#leave') }")
    expect(tab).to_have_url(site + "/class/")
    expect(tab.locator("#count")).to_have_text("1")  # the same session, found there
    assert problems.errors == []
