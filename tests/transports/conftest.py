"""The test app (tests/asgi.py) served for real, in three deployments.

``app_server`` runs every test of this folder on each:

- ``memory``: one uvicorn process, the in-memory bus;
- ``redis``: one process, the Redis bus (a real redis-server of the test session);
- ``redis-2``: two processes on the Redis bus behind nginx balancing round-robin with no
  affinity, so a tab's requests (negotiate, stream, POSTs, polls) land on both.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.support.nginx import Nginx
from tests.support.processes import free_port
from tests.support.server import Uvicorn
from tests.support.wire import Tab

ROOT = Path(__file__).resolve().parents[2]


def app_process(folder: Path, env: dict[str, str], options: Sequence[str] = ()) -> Uvicorn:
    """One ``uvicorn tests.asgi:application`` on a free loopback port, started (with more
    uvicorn ``options``)."""
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    port = free_port()
    server = Uvicorn(
        "tests.asgi:application",
        cwd=ROOT,
        env=full_env,
        log_path=folder / f"uvicorn-{port}.log",
        port=port,
        options=options,
    )
    return server.start()


class Deployment:
    """One or more app processes, behind nginx when more than one."""

    def __init__(
        self,
        factory: pytest.TempPathFactory,
        name: str,
        processes: int = 1,
        uvicorn_options: Sequence[str] = (),
        **extra: str,
    ) -> None:
        self.name = name
        self.folder = factory.mktemp(f"app-{name}")
        self.env = {
            "TESTS_DB": str(self.folder / "db.sqlite3"),
            "SOCKPUPPET_TRANSPORTS": "websocket,sse,longpoll",
            **extra,
        }
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "-v", "0"],
            cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **self.env},
            check=True, timeout=120,
        )  # fmt: skip
        self.processes = [
            app_process(self.folder, self.env, uvicorn_options) for _ in range(processes)
        ]
        self.proxy = Nginx(self.folder / "nginx", self.ports).start() if processes > 1 else None
        self.url = self.proxy.url if self.proxy else self.processes[0].url

    @property
    def ports(self) -> list[int]:
        return [p.port for p in self.processes]

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for process in self.processes:
            process.stop()

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_app(factory: pytest.TempPathFactory, **extra: str) -> Deployment:
    """One process of the test app, with ``extra`` environment for tests.settings."""
    return Deployment(factory, "custom", **extra)


@pytest.fixture(scope="module", params=["memory", "redis", "redis-2"])
def app_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """The test app with database sessions (Django's default), on each deployment."""
    if request.param == "memory":
        deployment = Deployment(tmp_path_factory, "memory")
    else:
        redis_server = request.getfixturevalue("redis_server")
        processes = 2 if request.param == "redis-2" else 1
        deployment = Deployment(
            tmp_path_factory, request.param, processes, SOCKPUPPET_BUS=redis_server.url
        )
    yield deployment
    deployment.stop()


@pytest.fixture(params=["websocket", "sse", "longpoll"])
def transport(request: pytest.FixtureRequest) -> str:
    """Every test that takes it runs on each transport."""
    return str(request.param)


@pytest.fixture
async def tab(app_server: Deployment) -> Tab:
    tab = Tab(app_server.url)
    await tab.negotiate()
    return tab
