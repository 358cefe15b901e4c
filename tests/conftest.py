"""Fixtures for the whole suite: Django in-process, and the real parts (uvicorn, Redis, Chromium).

In-process tests run against ``tests.settings`` (the test app in ``tests/testapp``) with a
throwaway SQLite file. Tests that need the real thing ask for ``server`` (uvicorn serving
the demo), ``redis_server`` and ``page`` (Chromium); the helpers live in ``tests/support``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, EVENT_RECORDER, TIMEOUT_MS, PageProblems
from tests.support.redis import RedisServer
from tests.support.server import DemoServer, migrate

_TMP = Path(tempfile.mkdtemp(prefix="sockpuppet-tests-"))


def pytest_configure(config: pytest.Config) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["TESTS_DB"] = str(_TMP / "in-process.sqlite3")
    import django

    django.setup()


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    # Fixtures are torn down in any order (a server may stop before the page closes): what a
    # page reports from here on is not the test's doing.
    problems = getattr(item, "funcargs", {}).get("page_problems")
    if isinstance(problems, PageProblems):
        problems.stop()


def _failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "report_call", None)
    return report is not None and report.failed


# --- uvicorn ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each server copies, so migrations run once per session."""
    path = tmp_path_factory.mktemp("template") / "db.sqlite3"
    migrate(path)
    return path


@pytest.fixture
def server_factory(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_db: Path
) -> Iterator[Callable[..., DemoServer]]:
    """Start demo servers: ``server_factory(transports="sse", bus=url, debug=True, env={})``.

    Every server it started is stopped (by pid) at teardown; on failure their logs are printed.
    """
    servers: list[DemoServer] = []

    def start(**options: Any) -> DemoServer:
        folder = tmp_path / f"server-{len(servers)}"
        server = DemoServer(folder, migrated_db, **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
    if _failed(request):
        for server in servers:
            print(f"\n{server!r}{server.log_tail()}")


@pytest.fixture
def server(request: pytest.FixtureRequest, server_factory: Callable[..., DemoServer]) -> DemoServer:
    """The demo under uvicorn. Options by indirect parametrisation:
    ``@pytest.mark.parametrize("server", [{"transports": "sse"}], indirect=True)``.
    """
    options: dict[str, Any] = getattr(request, "param", None) or {}
    return server_factory(**options)


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the whole session (no persistence)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def clean_redis(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, emptied for this test."""
    redis_server.flushall()
    return redis_server


# --- Chromium --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright's sync API (never `playwright install`)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page_problems() -> PageProblems:
    """Uncaught errors and console errors of ``page``; ``page`` fails the test on any, unless
    the test is marked ``allow_page_errors`` (then it may inspect them here)."""
    return PageProblems()


@pytest.fixture
def new_page(
    browser: Any, request: pytest.FixtureRequest, page_problems: PageProblems
) -> Iterator[Callable[[], Any]]:
    """Open pages, each in a fresh context (own cookies, so own Django session), recording
    ``sockpuppet:*`` events. The test fails on any page error unless it allows them."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(EVENT_RECORDER)
        page = context.new_page()
        page_problems.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    if not page_problems.errors or request.node.get_closest_marker("allow_page_errors"):
        return
    report = "page errors:\n  " + "\n  ".join(page_problems.errors)
    if _failed(request):
        print(report)  # the test failed already: add the errors to its report
    else:
        pytest.fail(report, pytrace=False)


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    """A page in a fresh context: see ``new_page``."""
    return new_page()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last. Playwright's sync API keeps an event loop running in the
    main thread while its session-scoped browser lives; pytest-asyncio's tests (and their
    loops) must all have run before it starts."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
