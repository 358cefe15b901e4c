"""Content a template puts after ``</body>`` stays on the page through page morphs.

Browsers parse it into the end of the body. A page morph's HTML must hold it there too,
or the morph would remove it from the page (lxml, which cuts the body out of such a page,
leaves it beside the body: ``sockpuppet/fragments.py`` moves it in).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.transports.conftest import Deployment, serve_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with serve_app(tmp_path_factory) as deployment:
        yield deployment


def test_content_after_the_body_survives_a_page_morph(app: Deployment, page: Page) -> None:
    page.goto(app.url + "/after-body/")
    page.wait_for_function("() => Sockpuppet.connected")
    assert page.evaluate("() => document.querySelector('#after-body').parentNode === document.body")
    page.evaluate("() => Sockpuppet.stimulate('CounterReflex#increment')")
    expect(page.locator("#count")).to_have_text("1")
    expect(page.locator("#after-body")).to_have_text("placed after the body")
