"""A page under a strict Content-Security-Policy works on every transport, in Chromium.

``default-src 'self'`` (``tests/testapp/middleware.py``) allows no inline script, no
``eval`` and no other origin: the client's config is JSON in a non-executed ``<script>``,
its bundle a file under ``STATIC_URL``, and its connections same-origin (``'self'`` covers
``ws:`` to the page's own host). Chromium reports any violation on the console, which fails
the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import start_on
from tests.testapp.middleware import POLICY
from tests.transports.conftest import Deployment, serve_app

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with serve_app(tmp_path_factory, TESTS_CSP="1") as deployment:
        yield deployment


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reflexes_work_under_a_strict_content_security_policy(
    app: Deployment, page: Page, transport: str
) -> None:
    response = page.goto(app.url + "/")
    assert response is not None and response.headers["content-security-policy"] == POLICY
    start_on(page, transport)
    page.evaluate("() => Sockpuppet.stimulate('CounterReflex#increment')")
    expect(page.locator("#count")).to_have_text("1")
    page.evaluate("() => Sockpuppet.stimulate('CounterReflex#selector')")
    expect(page.locator("#note")).to_have_text("selector")
