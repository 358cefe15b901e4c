"""The system under soak: ``loadtest/stack.py``'s programs, the demo served with the probe.

The same Redis, demo processes and nginx as ``stack.running``, but each uvicorn runs
``loadtest.soak:application`` (the demo behind ``GET /__soak__``) with the soak's
``--settings`` and ``--env``.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from loadtest import stack
from loadtest.soak.workload import TRANSPORTS
from tests.support.redis import RedisServer
from tests.support.server import ROOT, Uvicorn, base_env, migrate


@contextlib.contextmanager
def running(logs: Path, options: argparse.Namespace) -> Iterator[stack.Stack]:
    """``stack.running`` with the probed demo: Redis, the processes, nginx; all stopped by
    pid on exit, their logs kept in ``logs``."""
    with contextlib.ExitStack() as stops:
        folder = Path(stops.enter_context(tempfile.TemporaryDirectory(prefix="sockpuppet-soak-")))
        stops.callback(stack._keep_logs, folder, logs)
        database = folder / "db.sqlite3"
        migrate(database)
        redis = RedisServer(folder / "redis").start()
        stops.callback(redis.stop)
        env = base_env(
            database,
            {
                "SOCKPUPPET_BUS": redis.url,
                "SOCKPUPPET_TRANSPORTS": ",".join(TRANSPORTS),
                "DEMO_DEBUG": "0",
                "DEMO_LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": options.settings,
                **dict(item.split("=", 1) for item in options.env),
            },
        )
        servers = []
        for number in range(options.workers):
            log = folder / f"uvicorn-{number}.log"
            server = Uvicorn("loadtest.soak:application", cwd=ROOT, env=env, log_path=log)
            stops.callback(server.stop)
            servers.append(server.start())
        proxy = None
        if options.nginx:
            proxy = stack._BigNginx(folder / "nginx", [s.port for s in servers])
            stops.callback(proxy.stop)
            proxy.start()
        yield stack.Stack(redis, servers, proxy, env)
