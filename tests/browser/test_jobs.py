"""The background job in Chromium, on the embedded defaults: no Celery broker, so the job
runs in a thread of the web process and broadcasts on its memory bus."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import wait_connected, wait_for_events
from tests.support.server import DemoServer

pytestmark = pytest.mark.browser

STEPS = 5

# Every value the progress bar takes, as the page saw it (not just the last one).
RECORD_PROGRESS = """() => {
  window.__progress = [];
  if (window.__progressObserved) return;
  window.__progressObserved = true;
  const bar = document.getElementById("job-progress");
  new MutationObserver(() => window.__progress.push(Number(bar.getAttribute("value"))))
    .observe(bar, { attributes: true, attributeFilter: ["value"] });
}"""


def test_the_progress_bar_follows_the_job_to_done(
    server_factory: Callable[..., DemoServer], new_page: Callable[[], Page]
) -> None:
    env = {"DEMO_JOB_STEPS": str(STEPS), "DEMO_JOB_STEP_SECONDS": "0.05"}
    server = server_factory(env=env)
    page = new_page()
    page.goto(server.url + "/jobs/")
    wait_connected(page)
    expect(page.locator("#job-runner")).to_have_attribute("data-runner", "thread")
    page.evaluate(RECORD_PROGRESS)
    # A second tab of the same session follows the same job.
    other = page.context.new_page()
    other.goto(server.url + "/jobs/")
    wait_connected(other)

    page.locator("#job-start").click()
    wait_for_events(page, "success", target="JobReflex#start")
    for tab in (page, other):
        expect(tab.locator("#job")).to_have_attribute("data-state", "done")
        expect(tab.locator("#job-progress")).to_have_attribute("value", "100")
        expect(tab.locator("#job-label")).to_have_text(
            f"Done: {STEPS} steps in a thread of the web process."
        )
    expect(page.locator("#job-start")).to_be_enabled()
    assert page.evaluate("() => window.__progress") == [0, 20, 40, 60, 80, 100]

    # Once more: the bar starts over from 0.
    page.evaluate(RECORD_PROGRESS)
    page.locator("#job-start").click()
    page.wait_for_function("() => window.__progress.at(-1) === 100")
    expect(page.locator("#job")).to_have_attribute("data-state", "done")
    expect(page.locator("#job-start")).to_be_enabled()
    assert page.evaluate("() => window.__progress") == [0, 20, 40, 60, 80, 100]
