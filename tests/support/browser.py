"""Chromium through Playwright: launch options, and waiting on what the client reports.

Every page gets :data:`EVENT_RECORDER` as an init script: it records each ``sockpuppet:*``
DOM event (reflex lifecycle and connection events) in ``window.__sockpuppetEvents``, so tests
wait on the events themselves instead of sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Error, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

EVENT_NAMES = [
    "before",
    "success",
    "error",
    "halted",
    "forbidden",
    "after",
    "finalize",
    "connected",
    "disconnected",
    "reconnected",
    "resync",
]

EVENT_RECORDER = """
(() => {
  const events = (window.__sockpuppetEvents = []);
  const names = __NAMES__;
  const record = (event) => {
    const detail = event.detail || {};
    const el = event.target instanceof Element ? event.target : null;
    events.push({
      type: event.type.slice("sockpuppet:".length),
      target: typeof detail.target === "string" ? detail.target : null,
      reflexId: detail.reflexId || null,
      transport: detail.transport || null,
      message: detail.error || detail.message || null,
      elementId: el ? el.id || null : null,
    });
  };
  // Capture on window: sees events dispatched on elements, document and window alike.
  for (const name of names) window.addEventListener("sockpuppet:" + name, record, true);
})();
""".replace("__NAMES__", json.dumps(EVENT_NAMES))


@dataclass
class PageProblems:
    """Uncaught page errors and console errors seen by one page."""

    errors: list[str] = field(default_factory=list)
    watching: bool = True

    def watch(self, page: Page) -> None:
        page.on("pageerror", self._on_page_error)
        page.on("console", self._on_console)

    def stop(self) -> None:
        """Ignore what comes next (the test is over)."""
        self.watching = False

    def _on_page_error(self, error: Error) -> None:
        if self.watching:
            self.errors.append(f"uncaught: {error.message}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if not self.watching or message.type != "error":
            return
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # the browser asks for one on its own; not every page declares an icon
        self.errors.append(f"console.error: {message.text}")

    def clear(self) -> None:
        self.errors.clear()


def start_on(page: Page, transport: str) -> None:
    """Start the page's client on ``transport`` alone and wait until it is proven."""
    page.evaluate("(transport) => Sockpuppet.start({ transports: [transport] })", transport)
    page.wait_for_function(
        "(transport) => Sockpuppet.connected && Sockpuppet.transport === transport", arg=transport
    )


@contextmanager
def watched_page(browser: Browser, **context_options: Any) -> Iterator[tuple[Page, PageProblems]]:
    """A page of a context of its own (``context_options``: ``new_context``'s), watched
    for problems; the context closes on exit."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    try:
        yield page, problems
    finally:
        context.close()


def wait_connected(page: Page, transport: str | None = None, timeout: float = TIMEOUT_MS) -> str:
    """Wait until ``window.Sockpuppet`` reports a proven transport; return its name."""
    page.wait_for_function(
        "() => window.Sockpuppet && window.Sockpuppet.connected === true"
        " && !!window.Sockpuppet.transport",
        timeout=timeout,
    )
    name = str(page.evaluate("() => window.Sockpuppet.transport"))
    if transport is not None and name != transport:
        raise AssertionError(f"connected over {name!r}, expected {transport!r}")
    return name


def events(page: Page, type: str | None = None) -> list[dict[str, Any]]:
    """The ``sockpuppet:*`` events recorded so far, oldest first (optionally of one type)."""
    recorded: list[dict[str, Any]] = page.evaluate("() => window.__sockpuppetEvents || []")
    return [e for e in recorded if type is None or e["type"] == type]


def wait_for_events(
    page: Page,
    type: str,
    *,
    count: int = 1,
    target: str | None = None,
    timeout: float = TIMEOUT_MS,
) -> list[dict[str, Any]]:
    """Wait until ``count`` events of ``type`` (for reflex ``target``, if given) were seen."""
    page.wait_for_function(
        """([type, target, count]) => (window.__sockpuppetEvents || []).filter(
             (e) => e.type === type && (target === null || e.target === target)
           ).length >= count""",
        arg=[type, target, count],
        timeout=timeout,
    )
    found = [e for e in events(page, type) if target is None or e["target"] == target]
    return found


def reflex_count(page: Page, type: str, target: str | None = None) -> int:
    return len([e for e in events(page, type) if target is None or e["target"] == target])
