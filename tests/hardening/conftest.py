"""A server of the test app per module, with the limits and timings that module attacks
(set through the environment: tests/settings.py), and a watch on its log."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.server import Uvicorn
from tests.transports.conftest import Deployment

# What an unhandled exception leaves in the server log.
FAILURE = re.compile(r"Traceback|Exception in ASGI application|Internal Server Error")


class Watched:
    """One uvicorn process of the test app (memory bus) and what it logged since a mark."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.url = deployment.url
        self.process: Uvicorn = deployment.processes[0]
        self._mark = 0

    def mark(self) -> None:
        self._mark = len(self.process.log())

    def logged(self) -> str:
        """What the server logged since the last mark."""
        return self.process.log()[self._mark :]

    def assert_healthy(self) -> None:
        """Running, and no unhandled exception logged since the mark."""
        assert self.process.running, f"the server died:\n{self.process.log_tail()}"
        logged = self.logged()
        failure = FAILURE.search(logged)
        where = failure.start() if failure else 0
        assert failure is None, (
            f"the server logged a failure:\n{logged[where - 500 : where + 3000]}"
        )


def serve(factory: pytest.TempPathFactory, name: str, **env: str) -> Iterator[Watched]:
    """Start one process of the test app for a module; stop it (by pid) afterwards."""
    deployment = Deployment(factory, name, **env)
    try:
        yield Watched(deployment)
    finally:
        deployment.stop()


@pytest.fixture
def healthy(server: Watched) -> Iterator[Watched]:
    """The module's server; the test fails if the server logged a failure meanwhile."""
    server.mark()
    yield server
    server.assert_healthy()
