"""A Celery task's broadcasts reach a page in Chromium.

Real parts throughout: the demo under uvicorn and a ``celery -A demo worker`` process, both
on the session's redis-server as broker (database 1) and as Sockpuppet's bus (database 0).
The worker holds no connection: it publishes to Redis, and the web process holding the
browser's connection delivers each progress step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import wait_connected
from tests.support.celery import CeleryWorker
from tests.support.redis import RedisServer
from tests.support.server import DemoServer

pytestmark = pytest.mark.browser

STEPS = 4


@pytest.fixture
def stack(
    request: pytest.FixtureRequest,
    server_factory: Callable[..., DemoServer],
    clean_redis: RedisServer,
    tmp_path: Path,
) -> Iterator[tuple[DemoServer, CeleryWorker]]:
    """The demo and a worker sharing one Redis (bus and broker) and one SQLite database."""
    broker = clean_redis.url.rsplit("/", 1)[0] + "/1"
    jobs = {"DEMO_JOB_STEPS": str(STEPS), "DEMO_JOB_STEP_SECONDS": "0.05"}
    server = server_factory(bus=clean_redis.url, env={"DEMO_CELERY_BROKER": broker, **jobs})
    worker = CeleryWorker(tmp_path / "worker", server.env)  # its DEMO_DATABASE, bus, broker
    try:
        yield server, worker.start()
    finally:
        worker.stop()
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            print(f"\n{worker!r}{worker.log_tail()}")


def test_a_celery_tasks_broadcasts_move_the_progress_bar(
    stack: tuple[DemoServer, CeleryWorker], new_page: Callable[[], Page]
) -> None:
    server, worker = stack
    assert server.env["DEMO_DATABASE"] == worker.env["DEMO_DATABASE"]
    page = new_page()
    page.goto(server.url + "/jobs/")
    wait_connected(page)
    expect(page.locator("#job-runner")).to_have_attribute("data-runner", "celery")

    page.locator("#job-start").click()
    expect(page.locator("#job")).to_have_attribute("data-state", "done")
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    expect(page.locator("#job-label")).to_have_text(f"Done: {STEPS} steps in a Celery worker.")
    expect(page.locator("#job-start")).to_be_enabled()
    log = worker.log()
    assert "demo.jobs.tasks.crunch" in log and "succeeded" in log
