"""The docs' HTML and JavaScript samples, in Chromium, doing what their text says (issue 5).

The HTML samples are served as they stand in ``docs/*.md`` (``tests/docsamples``: the page
is the sample, read by position at each request); the JavaScript samples of client.md run
on ``/docsamples/cart/``, whose ``CartReflex`` is the one they call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.docsamples.samples import sample
from tests.support.browser import wait_connected
from tests.transports.conftest import Deployment

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The test app (with tests/docsamples) under uvicorn, for the whole module."""
    deployment = Deployment(tmp_path_factory, "docs")
    yield deployment
    deployment.stop()


def open_sample(page: Page, app: Deployment, doc: str, index: int) -> Page:
    page.goto(f"{app.url}/docsamples/html/{doc}/{index}/")
    wait_connected(page)
    return page


def js(index: int) -> str:
    return sample("client.md", "js", index)


@pytest.mark.parametrize("doc", ["client.md", "reflexes.md"])
def test_the_counter_page_sample_counts_on_click(page: Page, app: Deployment, doc: str) -> None:
    open_sample(page, app, doc, 0)
    expect(page.locator("#count")).to_have_text("0")
    page.get_by_role("button", name="+1").click()
    expect(page.locator("#count")).to_have_text("1")
    page.get_by_role("button", name="+1").click()
    expect(page.locator("#count")).to_have_text("2")


def test_the_stream_sample_receives_the_broadcast_sample(page: Page, app: Deployment) -> None:
    """broadcasting.md's page follows "chat:lobby"; its first sample, run in the server by
    a reflex, appends to ``#messages``."""
    open_sample(page, app, "broadcasting.md", 0)
    assert "chat:lobby" not in page.content()  # the page got the name signed only
    page.evaluate("() => Sockpuppet.stimulate('DocsBroadcastReflex#broadcast')")
    expect(page.locator("#messages li")).to_have_text(["hi"])


def test_the_narrowing_sample_connects_without_websocket(page: Page, app: Deployment) -> None:
    sockets: list[Any] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    open_sample(page, app, "transports.md", 0)
    assert page.evaluate("() => Sockpuppet.transport") == "sse"
    assert sockets == []


def open_cart(page: Page, app: Deployment) -> Page:
    page.goto(f"{app.url}/docsamples/cart/")
    wait_connected(page)
    return page


def test_the_stimulate_sample_resolves_with_the_documented_result(
    page: Page, app: Deployment
) -> None:
    result = open_cart(page, app).evaluate(
        f"""async () => {{
          const button = document.getElementById("add")
          {js(0)}
          return {{
            keys: Object.keys(result).sort(),
            target: result.target,
            outcome: result.outcome,
            sameElement: result.element === button,
            cart: document.getElementById("cart").textContent,
          }}
        }}"""
    )
    assert result["keys"] == sorted(["id", "element", "target", "outcome", "event", "payload"])
    assert result == {**result, "target": "CartReflex#add", "outcome": "success"}
    assert result["sameElement"] and result["cart"] == "42"  # applied when it resolves
    expect(page.locator("#form-sent")).to_have_text("no form")  # serializeForm: false


@pytest.mark.allow_page_errors
def test_the_event_listener_sample_toasts_errors_and_marks_offline(
    page: Page, app: Deployment
) -> None:
    open_cart(page, app).evaluate(
        f"() => {{ window.toasts = []; window.toast = (m) => toasts.push(m); {js(1)} }}"
    )
    page.evaluate("() => Sockpuppet.stimulate('CartReflex#fail').catch(() => null)")
    page.wait_for_function("() => window.toasts.length === 1")
    assert "the cart is on fire" in page.evaluate("() => toasts[0]")
    page.evaluate("() => Sockpuppet.stop()")
    expect(page.locator("body")).to_have_class("offline")
    page.evaluate("() => Sockpuppet.start()")
    expect(page.locator("body")).not_to_have_class("offline")


def test_the_controller_sample_stimulates_and_disables_while_running(
    page: Page, app: Deployment
) -> None:
    open_cart(page, app).evaluate(
        """() => {
          window.disabled = []
          const button = document.getElementById("controlled")
          new MutationObserver(() => disabled.push(button.disabled))
            .observe(button, { attributes: true, attributeFilter: ["disabled"] })
        }"""
    )
    page.evaluate(f"() => {{ {js(2)} }}")
    page.locator("#controlled").click()
    expect(page.locator("#cart")).to_have_text("1")
    page.wait_for_function("() => window.disabled.length === 2")
    assert page.evaluate("() => window.disabled") == [True, False]  # beforeAdd, afterAdd
