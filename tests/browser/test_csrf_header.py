"""A project that names its own CSRF header (``CSRF_HEADER_NAME``), in Chromium.

``negotiate`` is CSRF-protected: the client must send the page's token in the header
Django reads it from. It always sent ``X-CSRFToken``, so such a project's pages never
connected (Django audit).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import PageProblems, start_on, watched_page
from tests.transports.conftest import Deployment, serve_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with serve_app(tmp_path_factory, TESTS_CSRF_HEADER_NAME="HTTP_X_XSRF_TOKEN") as deployment:
        yield deployment


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, PageProblems]]:
    with watched_page(browser) as watched:
        yield watched


def test_a_page_connects_with_the_project_s_own_csrf_header(
    app: Deployment, page: tuple[Page, PageProblems]
) -> None:
    tab, problems = page
    sent: list[dict[str, str]] = []
    tab.on("request", lambda r: sent.append(r.headers) if r.url.endswith("/negotiate") else None)
    tab.goto(app.url + "/")
    start_on(tab, "websocket")
    tab.evaluate("() => Sockpuppet.stimulate('CounterReflex#increment')")
    expect(tab.locator("#count")).to_have_text("1")
    assert sent and all("x-xsrf-token" in headers for headers in sent)
    assert problems.errors == []
