"""Two demo processes on the Redis bus behind nginx balancing round-robin, no affinity.

A tab's page load, negotiate, stream, POSTs and polls land on either process; its reflexes
still reach it, in order. And 1,000 messages published from a third process (a plain
script, as a Celery worker would) reach a subscribed page exactly once, in order, while
its connection is cut and restored twice (DESIGN §6).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import wait_connected, wait_for_events
from tests.support.nginx import Nginx
from tests.support.redis import RedisServer
from tests.support.server import ROOT, DemoServer, base_env

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]
MESSAGES = 1000

PUBLISHER = """
import time
import django
django.setup()
from sockpuppet import Channel
for n in range(1, {count} + 1):
    Channel("playground:wall").append("#wall", f"<li class='feed'>{{n}}</li>").broadcast()
    time.sleep(0.004)  # pacing, so the cuts land while messages flow
"""


class Cluster:
    def __init__(self, folder: Path, template_db: Path, redis: RedisServer) -> None:
        self.database = folder / "shared.sqlite3"
        shutil.copyfile(template_db, self.database)
        env = {"DEMO_DATABASE": str(self.database), "DEMO_DEBUG": "0"}
        self.servers = [
            DemoServer(folder / f"process-{n}", template_db, bus=redis.url, env=env).start()
            for n in range(2)
        ]
        self.proxy = Nginx(folder / "nginx", [s.port for s in self.servers], "passes").start()
        self.env = base_env(self.database, {"SOCKPUPPET_BUS": redis.url, "DEMO_DEBUG": "0"})

    @property
    def url(self) -> str:
        return self.proxy.url

    def cut(self, page: Page, count: int) -> None:
        """Drop every connection: nginx goes away, and comes back on the same port once
        the page noticed (its ``count``-th disconnect). Gone and back at once, it could
        go unseen by a long-poll between two polls: the next poll simply reconnects."""
        self.proxy.stop()
        wait_for_events(page, "disconnected", count=count, timeout=30_000)
        self.proxy.start()

    def stop(self) -> None:
        self.proxy.stop()
        for server in self.servers:
            server.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, migrated_db, redis_server) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("cluster"), migrated_db, redis_server)
    yield cluster
    cluster.stop()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_on(page: Page, cluster: Cluster, path: str, transport: str) -> Page:
    page.goto(f"{cluster.url}{path}?transport={transport}")
    wait_connected(page, transport)
    return page


def test_reflexes_through_two_processes(cluster, page, transport):
    open_on(page, cluster, "/", transport)
    for _ in range(12):
        page.click("#increment")
    expect(page.locator("#count")).to_have_text("12")


@pytest.mark.timeout(120)
@pytest.mark.allow_page_errors  # the cuts make the browser log failed requests
def test_a_thousand_messages_arrive_once_in_order_across_two_cuts(cluster, page, transport):
    open_on(page, cluster, "/playground/", transport)
    feed = page.locator("#wall li.feed")
    publisher = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER.format(count=MESSAGES)],
        cwd=ROOT, env={**os.environ, **cluster.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for cut, after in enumerate((100, 400), start=1):
            page.wait_for_function(f"document.querySelectorAll('#wall li.feed').length >= {after}")
            cluster.cut(page, cut)
            wait_for_events(page, "reconnected", count=cut, timeout=30_000)
        page.wait_for_function(
            f"document.querySelectorAll('#wall li.feed').length >= {MESSAGES}", timeout=60_000
        )
    finally:
        output, _ = publisher.communicate(timeout=60)
    assert publisher.returncode == 0, output.decode()
    numbers = [int(n) for n in feed.all_inner_texts()]
    assert numbers == list(range(1, MESSAGES + 1))
