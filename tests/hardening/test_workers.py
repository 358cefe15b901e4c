"""``uvicorn --workers 2`` on the memory bus says, in the server's log, that it cannot work.

Each worker process would hold its own memory bus: a tab's ``POST send`` landing on one
worker and its stream on another would never get its answer. A server's workers run no
Django system checks, so the application warns (``sockpuppet.W002``) as each worker loads
it; the same check covers ``manage.py check`` (``tests/engine/test_checks.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import wait_until
from tests.support.server import Uvicorn

ROOT = Path(__file__).resolve().parents[2]
WARNING = "sockpuppet.W002"


@pytest.mark.parametrize(("workers", "warnings"), [(1, 0), (2, 2)])
def test_the_memory_bus_with_several_workers_warns_in_the_log(
    tmp_path: Path, workers: int, warnings: int
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        "TESTS_DB": str(tmp_path / "db.sqlite3"),
        "SOCKPUPPET_BUS": "memory",
    }
    for name in ("WEB_CONCURRENCY", "UVICORN_WORKERS", "GUNICORN_CMD_ARGS"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v", "0"],
        cwd=ROOT, env=env, check=True, timeout=120,
    )  # fmt: skip
    server = Uvicorn(
        "tests.asgi:application",
        cwd=ROOT,
        env=env,
        log_path=tmp_path / "uvicorn.log",
        options=["--workers", str(workers)],
    )
    server.start()
    try:
        # Every worker has loaded the application once it logged that it started.
        assert server.process is not None
        wait_until(
            lambda: server.log().count("Application startup complete") >= workers,
            server.process,
            timeout=30,
            what=f"{workers} workers",
            log=server.log_path,
        )
        assert server.log().count(WARNING) == warnings
    finally:
        server.stop()
    if warnings:
        assert 'SOCKPUPPET["BUS"] is "memory" but 2 worker processes' in server.log()
