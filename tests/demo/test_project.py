"""The demo project as served by uvicorn: pages, static files, Django checks, migrations."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.server import ROOT, DemoServer, base_env
from tests.support.wire import Tab


@pytest.mark.parametrize("path", ["/", "/todos/", "/playground/", "/chat/", "/jobs/"])
def test_pages_render_with_the_client_and_the_badge(server: DemoServer, path: str) -> None:
    response = httpx.get(server.url + path)
    assert response.status_code == 200
    html = response.text
    assert 'id="sockpuppet-config"' in html
    assert "/static/sockpuppet/sockpuppet.js" in html
    assert 'id="transport-badge"' in html


@pytest.mark.parametrize(
    "path", ["/static/demo/demo.css", "/static/demo/demo.js", "/static/sockpuppet/sockpuppet.js"]
)
def test_static_files_are_served_with_debug_on(server: DemoServer, path: str) -> None:
    assert httpx.get(server.url + path).status_code == 200


@pytest.mark.parametrize("server", [{"transports": "websocket"}], indirect=True)
def test_transports_come_from_the_environment(server: DemoServer) -> None:
    html = httpx.get(server.url + "/").text
    assert '"transports": ["websocket"]' in html


def manage(
    *args: str, database: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base_env(database, env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_system_checks_pass(tmp_path: Path) -> None:
    result = manage("check", "--fail-level", "WARNING", database=tmp_path / "db.sqlite3")
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_are_up_to_date(tmp_path: Path) -> None:
    result = manage("makemigrations", "--check", "--dry-run", database=tmp_path / "db.sqlite3")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_celery_broker_without_the_redis_bus_is_refused(tmp_path: Path) -> None:
    """A Celery worker is another process: on the memory bus its broadcasts reach no one."""
    env = {"DEMO_CELERY_BROKER": "redis://127.0.0.1:6379/1", "SOCKPUPPET_BUS": "memory"}
    result = manage("check", database=tmp_path / "db.sqlite3", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Set SOCKPUPPET_BUS to a Redis URL" in result.stderr


def test_a_celery_broker_with_the_redis_bus_is_accepted(tmp_path: Path) -> None:
    env = {
        "DEMO_CELERY_BROKER": "redis://127.0.0.1:6379/1",
        "SOCKPUPPET_BUS": "redis://127.0.0.1:6379/0",
    }
    # Only the settings: the checks would also try to reach that Redis.
    result = manage("diffsettings", database=tmp_path / "db.sqlite3", env=env)
    assert result.returncode == 0, result.stderr
    assert "CELERY_BROKER_URL = 'redis://127.0.0.1:6379/1'" in result.stdout


@pytest.mark.parametrize(
    ("bus", "engine"),
    [("memory", "cached_db"), ("redis://127.0.0.1:6379/0", "db")],
)
def test_sessions_are_cached_only_in_one_process(tmp_path: Path, bus: str, engine: str) -> None:
    """On the memory bus the demo is one process: its sessions are read from its memory.
    Processes sharing a Redis bus read them from the database, never a copy another
    process changed since."""
    env = {"SOCKPUPPET_BUS": bus}
    result = manage("diffsettings", "--all", database=tmp_path / "db.sqlite3", env=env)
    assert result.returncode == 0, result.stderr
    assert f"SESSION_ENGINE = 'django.contrib.sessions.backends.{engine}'" in result.stdout


def test_page_requests_leave_no_database_connection_open(server: DemoServer) -> None:
    """Regression (operations audit). Bug: with ``CONN_MAX_AGE``, each page request's
    thread kept its SQLite connection until the garbage collector came: 1,500 new visitors
    took a process from 107 to 1,347 open files."""
    assert server.pid is not None

    def database_files() -> int:
        fds = Path(f"/proc/{server.pid}/fd")
        return sum("db.sqlite3" in str(fd.readlink()) for fd in fds.iterdir() if fd.exists())

    async def visit() -> None:  # a new visitor: the page, then its session's connection
        await Tab(server.url).negotiate()

    asyncio.run(visit())
    before = database_files()
    for _ in range(60):
        asyncio.run(visit())
    # Not one per visitor (two files each: the database and its WAL); a fixed pool's
    # threads may each keep one connection (three files with the shared memory index).
    assert database_files() - before < 30
