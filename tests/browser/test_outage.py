"""Outages mid-session, in Chromium: no click lost, none run twice, order kept, and what
was broadcast meanwhile arrives.

Each test cuts a page's connection while it clicks, on each transport, in one of three
deployments:

- ``crash-memory``, ``crash-redis``: the uvicorn process is killed (SIGKILL: every TCP
  connection dies at once, nothing is flushed, all a memory bus holds is gone) and started
  again on its port, with the memory bus or the Redis bus;
- ``proxy-memory``: the page talks through nginx, which is stopped and started again while
  the server keeps running: a dropped connection without a restart. (Playwright's
  ``set_offline`` is no cut: in Chromium it fails new requests only, while an open
  WebSocket, an SSE stream and a held poll carry on. Two processes behind nginx on the
  Redis bus, cut the same way, are ``test_scale_out.py``'s.)

The clicks go to the playground's ``#record`` button, which sends the next number (the
page counts the clicks) to a reflex appending it to a list in the session; the page shows
the list. 50 clicks around the outage must show ``1 2 … 50``: each ran once, in order.

Where the cut lands:

- ``proxy-memory``: amid the clicks, answers in flight. The server keeps the claims of
  reflex ids and the history: the client resumes the answers and re-sends the rest, each
  run once.
- ``crash-*``: once the clicks before it are answered. A reflex running at the instant its
  process dies is at most once (claimed, maybe half done, no answer: see docs/transports.md);
  the clicks right after the kill go into the dead connection and are re-sent. With the
  memory bus the restarted process has lost the history: the client gets ``resync`` and
  re-renders (the list lives in the database-backed session, so it is right); with the
  Redis bus the answers resume.

Meanwhile a second page, on a server the cut does not reach (another process on the Redis
bus; the server itself, past nginx), broadcasts a note to the playground's wall: the
cut-off page shows it once it is back (not after a memory bus crash: the note died with
the process, and no other process shares that bus).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PageProblems, events, wait_connected, wait_for_events
from tests.support.nginx import Nginx
from tests.support.server import DemoServer

pytestmark = [pytest.mark.browser, pytest.mark.allow_page_errors]

TRANSPORTS = ["websocket", "sse", "longpoll"]
RECORD = "PlaygroundReflex#record"
ALL = " ".join(str(n) for n in range(1, 51))
# Reconnecting waits out a full-jitter backoff capped at 10 s, then proves the transport.
RECONNECT_MS = 15_000

# What Chromium logs by itself while the server is away; anything else fails the test.
NETWORK_NOISE = re.compile(
    r"WebSocket connection to '.*' failed|Failed to load resource: net::ERR_"
    r"|Failed to load resource: the server responded with a status of 502 \(Bad Gateway\)"
)


@dataclass
class Site:
    """Where the page goes, how its connection is cut and restored, and where another
    page can broadcast from meanwhile (None: nowhere the cut does not reach)."""

    url: str
    cut: Callable[[], None]
    restore: Callable[[], None]
    sender_url: str | None
    crash: bool = False
    loses_history: bool = False


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def proxies() -> Iterator[list[Nginx]]:
    """nginx processes a test started; each stopped (by its own pid) at teardown."""
    started: list[Nginx] = []
    yield started
    for nginx in started:
        nginx.stop()


@pytest.fixture(params=["crash-memory", "crash-redis", "proxy-memory"])
def site(
    request: pytest.FixtureRequest,
    transport: str,
    server_factory: Callable[..., DemoServer],
    proxies: list[Nginx],
    tmp_path: Path,
) -> Site:
    if request.param == "crash-memory":
        server = server_factory(transports=transport)
        return Site(server.url, server.kill, server.start, None, True, loses_history=True)
    if request.param == "crash-redis":
        bus = request.getfixturevalue("clean_redis").url
        server = server_factory(transports=transport, bus=bus)
        other = server_factory(transports=transport, bus=bus)
        return Site(server.url, server.kill, server.start, other.url, crash=True)
    server = server_factory(transports=transport)
    nginx = Nginx(tmp_path / "nginx", [server.port], "passes")
    proxies.append(nginx.start())
    return Site(nginx.url, nginx.stop, nginx.start, server.url)


def click(page: Page, times: int) -> None:
    for _ in range(times):
        page.locator("#record").click()


def broadcast(page: Page, note: str) -> None:
    page.locator("#wall-note").fill(note)
    page.locator("#wall-note").press("Enter")
    expect(page.locator("#wall .note").first).to_have_text(note)


def test_fifty_clicks_around_an_outage_run_once_each_in_order(
    site: Site,
    transport: str,
    page: Page,
    new_page: Callable[[], Page],
    page_problems: PageProblems,
) -> None:
    page.goto(site.url + "/playground/")
    wait_connected(page, transport)
    sender = None
    if site.sender_url is not None:
        sender = new_page()
        sender.goto(site.sender_url + "/playground/")
        wait_connected(sender, transport)
    recorded = page.locator("#sequence-count")
    wall = page.locator("#wall .note")

    click(page, 20)
    if site.crash:
        expect(recorded).to_have_text("20")
    site.cut()
    click(page, 5)  # the client may not know yet: sent into a dead connection, or queued
    wait_for_events(page, "disconnected")
    expect(page.locator("#transport-badge")).to_have_text("offline")
    if sender is not None:
        broadcast(sender, "Sent while you were away")
    click(page, 15)  # queued while disconnected
    assert page.evaluate("Sockpuppet.connected") is False
    expect(wall).to_have_count(0)

    site.restore()
    wait_for_events(page, "reconnected", timeout=RECONNECT_MS)
    assert wait_connected(page) == transport
    click(page, 10)

    expect(page.locator("#sequence")).to_have_text(ALL)
    expect(recorded).to_have_text("50")
    assert len(wait_for_events(page, "success", target=RECORD, count=50)) == 50
    assert not events(page, "error")
    # A memory bus restarted empty cannot replay: the client is told, and re-renders.
    assert bool(events(page, "resync")) == site.loses_history
    if sender is not None:
        expect(wall).to_have_text(["Sent while you were away"])
        broadcast(sender, "And this one live")
        expect(wall).to_have_text(["And this one live", "Sent while you were away"])
    unexpected = [e for e in page_problems.errors if not NETWORK_NOISE.search(e)]
    assert not unexpected, unexpected

    page.reload()
    wait_connected(page, transport)
    expect(page.locator("#sequence")).to_have_text(ALL)
