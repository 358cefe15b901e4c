"""A real uvicorn serving the test app (tests/asgi.py) on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, stop, wait_until
from tests.support.wire import Tab

ROOT = Path(__file__).resolve().parents[2]


class AppServer:
    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "uvicorn.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> AppServer:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(self._answers, self.process, timeout=30, what="uvicorn (test app)", log=self.log)
        return self

    def stop(self) -> None:
        stop(self.process)

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url + "/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


def serve_app(factory: pytest.TempPathFactory, **extra: str) -> AppServer:
    """A migrated database and a started server; ``extra`` environment for tests.settings."""
    folder = factory.mktemp("app")
    env = {
        "TESTS_DB": str(folder / "db.sqlite3"),
        "SOCKPUPPET_TRANSPORTS": "websocket,sse,longpoll",
        **extra,
    }
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **env},
        check=True,
        timeout=120,
    )
    return AppServer(folder, env).start()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The test app with database sessions (Django's default)."""
    server = serve_app(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture
async def tab(app_server: AppServer) -> Tab:
    tab = Tab(app_server.url)
    await tab.negotiate()
    return tab


@pytest.fixture(params=["websocket", "sse", "longpoll"])
def transport(request: pytest.FixtureRequest) -> str:
    """Every test that takes it runs on each transport."""
    return str(request.param)
