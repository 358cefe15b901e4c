"""The system under load: Redis, N demo processes on the Redis bus, optionally nginx.

Started with the test suite's own helpers (``tests/support``), each program on a free
loopback port in one temporary folder, and stopped by its pid when the ``with`` ends:

- one ``redis-server`` (the bus; the Locust users' follower counter lives there too);
- N single-process uvicorns of the demo sharing one migrated SQLite database (so any
  process can serve any request, as behind a load balancer), ``DEMO_DEBUG=0``;
- with ``nginx=True``, nginx in the configuration ``docs/deployment.md`` recommends,
  balancing the processes round-robin with no affinity.
"""

from __future__ import annotations

import contextlib
import resource
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.nginx import Nginx
from tests.support.redis import RedisServer
from tests.support.server import ROOT, Uvicorn, base_env, migrate

CONNECTIONS = 16384  # nginx's worker_connections: two per proxied client


@dataclass
class Stack:
    redis: RedisServer
    servers: list[Uvicorn]
    nginx: Nginx | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def hosts(self) -> list[str]:
        """Where users connect: nginx, or each process directly."""
        return [self.nginx.url] if self.nginx else [s.url for s in self.servers]

    def describe(self) -> str:
        """One line per program: what, pid, where (to attach a profiler, say)."""
        lines = [f"redis {self.redis.process.pid if self.redis.process else '-'} {self.redis.url}"]
        lines += [f"demo {s.pid} {s.url}" for s in self.servers]
        if self.nginx and self.nginx.process:
            lines.append(f"nginx {self.nginx.process.pid} {self.nginx.url}")
        return "\n".join([*lines, ""])

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers if s.pid is not None]


class _BigNginx(Nginx):
    """The test suite's nginx with room for thousands of connections."""

    def config(self) -> str:
        return (
            super()
            .config()
            .replace(
                "worker_processes 1;",
                f"worker_processes 1;\nworker_rlimit_nofile {2 * CONNECTIONS};",
            )
            .replace("worker_connections 4096;", f"worker_connections {CONNECTIONS};")
        )


def raise_open_files() -> int:
    """Raise this process's (and its children's) open-file limit to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@contextlib.contextmanager
def running(
    logs: Path,
    *,
    workers: int,
    transports: str,
    nginx: bool = False,
    extra: dict[str, str] | None = None,
    app: str = "demo.asgi:application",
) -> Iterator[Stack]:
    """Start everything in a temporary folder; stop it all (by pid) on exit, keeping the
    programs' logs in ``logs``. Each process serves ``app`` (the demo, or the demo behind
    the soak's probe)."""
    with contextlib.ExitStack() as stops:
        folder = Path(stops.enter_context(tempfile.TemporaryDirectory(prefix="sockpuppet-load-")))
        stops.callback(_keep_logs, folder, logs)
        database = folder / "db.sqlite3"
        migrate(database)
        redis = RedisServer(folder / "redis").start()
        stops.callback(redis.stop)
        env = {
            "SOCKPUPPET_BUS": redis.url,
            "SOCKPUPPET_TRANSPORTS": transports,
            "DEMO_DEBUG": "0",
            "DEMO_LOG_LEVEL": "WARNING",
            # Load users fire back to back, faster than any person: no per-connection limit.
            "SOCKPUPPET_MAX_REFLEXES_PER_SECOND": "100000",
            **(extra or {}),
        }
        servers = []
        for number in range(workers):
            server = Uvicorn(
                app,
                cwd=ROOT,
                env=base_env(database, env),
                log_path=folder / f"uvicorn-{number}.log",
            )
            stops.callback(server.stop)
            servers.append(server.start())
        proxy = None
        if nginx:
            proxy = _BigNginx(folder / "nginx", [s.port for s in servers])
            stops.callback(proxy.stop)
            proxy.start()
        started = Stack(redis, servers, proxy, base_env(database, env))
        logs.mkdir(parents=True, exist_ok=True)
        (logs / "pids.txt").write_text(started.describe())
        yield started


def _keep_logs(folder: Path, logs: Path) -> None:
    logs.mkdir(parents=True, exist_ok=True)
    for log in folder.rglob("*.log"):
        shutil.copyfile(log, logs / log.relative_to(folder).as_posix().replace("/", "-"))
