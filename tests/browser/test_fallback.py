"""The client lands on the best transport that works, in Chromium, within 3 s of page load.

Through a real nginx in each configuration of DESIGN §8 (``tests/support/nginx.py``): one
that passes WebSockets (the configuration docs/deployment.md ships), one that refuses the
upgrade, one that buffers responses. Then on servers allowing a single transport
(``SOCKPUPPET["TRANSPORTS"]``; ``test_demo.py`` runs the whole demo on each), and through
the demo's transport switcher. Each time the counter's reflexes work over the transport
the client landed on.

Time is measured in the page: ``performance.now()`` when ``sockpuppet:connected`` fires is
milliseconds since the navigation started.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PageProblems, events, wait_connected
from tests.support.nginx import Nginx
from tests.support.server import DemoServer

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]
BEST = {"passes": "websocket", "no-websocket": "sse", "buffering": "longpoll"}
DEADLINE_MS = 3000

# When each proven transport was accepted, in ms since the navigation started.
CONNECTED_AT = """
window.__connectedAt = [];
window.addEventListener("sockpuppet:connected", () => {
  window.__connectedAt.push(performance.now());
}, true);
"""

# What Chromium itself logs when a proxy refuses the WebSocket upgrade: expected here.
REFUSED_UPGRADE = re.compile(r"WebSocket connection to '.*/sockpuppet/ws\?.*' failed")


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Callable[[DemoServer, str], Nginx]]:
    """Start nginx in front of a server in one of its modes; each is stopped at teardown."""
    started: list[Nginx] = []

    def start(server: DemoServer, mode: str) -> Nginx:
        nginx = Nginx(tmp_path / f"nginx-{len(started)}", [server.port], mode)
        started.append(nginx)
        return nginx.start()

    yield start
    for nginx in started:
        nginx.stop()


def landed(page: Page) -> tuple[str, float]:
    """The transport the client connected over, and when (ms since navigation started)."""
    transport = wait_connected(page)
    return transport, float(page.evaluate("() => window.__connectedAt[0]"))


def count_clicks(page: Page, times: int) -> None:
    count = page.locator("#count")
    start = int(count.inner_text())
    for _ in range(times):
        page.locator("#increment").click()
    expect(count).to_have_text(str(start + times))


@pytest.mark.allow_page_errors
@pytest.mark.parametrize("mode", list(BEST))
def test_the_client_lands_on_the_best_transport_each_proxy_lets_through(
    mode: str,
    server: DemoServer,
    proxy: Callable[[DemoServer, str], Nginx],
    page: Page,
    page_problems: PageProblems,
) -> None:
    nginx = proxy(server, mode)
    page.add_init_script(CONNECTED_AT)
    page.goto(nginx.url + "/")

    transport, at = landed(page)
    assert transport == BEST[mode]
    assert at < DEADLINE_MS, f"{transport} accepted {at:.0f} ms after the navigation started"
    assert [e["transport"] for e in events(page, "connected")] == [BEST[mode]]
    expect(page.locator("#transport-badge")).to_have_text(BEST[mode])

    count_clicks(page, 5)
    assert page.evaluate("Sockpuppet.transport") == BEST[mode], "the transport changed"
    assert not events(page, "error")
    # Only Chromium's own report of the refused upgrade, and only where it is refused.
    unexpected = [e for e in page_problems.errors if not REFUSED_UPGRADE.search(e)]
    assert not unexpected, unexpected
    assert bool(page_problems.errors) == (mode != "passes")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_demo_works_on_a_server_allowing_one_transport(
    transport: str, server_factory: Callable[..., DemoServer], page: Page
) -> None:
    server = server_factory(transports=transport)
    page.add_init_script(CONNECTED_AT)
    page.goto(server.url + "/")

    name, at = landed(page)
    assert name == transport
    assert at < DEADLINE_MS
    count_clicks(page, 5)

    # The switcher offers only what the server allows.
    for other in TRANSPORTS:
        link = page.locator(f'#transport-switcher [data-transport="{other}"]')
        if other == transport:
            expect(link).not_to_have_attribute("aria-disabled", "true")
        else:
            expect(link).to_have_attribute("aria-disabled", "true")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_switcher_forces_a_transport_for_the_tab_and_auto_gives_the_choice_back(
    transport: str, server: DemoServer, page: Page
) -> None:
    switcher = page.locator("#transport-switcher")
    page.goto(server.url + "/")
    wait_connected(page, "websocket")
    expect(switcher.locator("[aria-current]")).to_have_text("auto")

    switcher.locator(f'[data-transport="{transport}"]').click()
    expect(page).to_have_url(re.compile(rf"\?transport={transport}$"))
    wait_connected(page, transport)
    expect(page.locator("#transport-badge")).to_have_text(transport)
    expect(switcher.locator("[aria-current]")).to_have_attribute("data-transport", transport)
    count_clicks(page, 3)

    # The choice follows the visitor through the demo (this tab's sessionStorage).
    page.get_by_role("link", name="Playground", exact=True).click()
    expect(page).to_have_url(re.compile(r"/playground/$"))
    wait_connected(page, transport)
    expect(switcher.locator("[aria-current]")).to_have_attribute("data-transport", transport)

    # A forced transport is no evidence against the others: auto is back on WebSocket.
    switcher.locator('[data-transport="auto"]').click()
    expect(page).to_have_url(re.compile(r"\?transport=auto$"))
    wait_connected(page, "websocket")
    expect(page.locator("#transport-badge")).to_have_text("websocket")
    expect(switcher.locator("[aria-current]")).to_have_text("auto")
    assert [e["transport"] for e in events(page, "connected")] == ["websocket"]


def test_a_start_after_a_stop_keeps_the_transports_the_page_chose(
    server: DemoServer, page: Page
) -> None:
    """Regression. Bug: ``Sockpuppet.start()`` after ``stop()`` forgot the transports the
    page had narrowed to with ``start({transports})`` and connected over WebSocket."""
    page.goto(server.url + "/")
    wait_connected(page, "websocket")
    page.evaluate("() => Sockpuppet.start({ transports: ['longpoll'] })")
    wait_connected(page, "longpoll")
    page.evaluate("() => Sockpuppet.stop()")
    page.wait_for_function("() => Sockpuppet.state === 'closed'")
    page.evaluate("() => Sockpuppet.start()")
    wait_connected(page, "longpoll")
    count_clicks(page, 2)
    assert [e["transport"] for e in events(page, "connected")] == [
        "websocket",
        "longpoll",
        "longpoll",
    ]
