"""A real uvicorn process on a free loopback port, serving the demo or any ASGI app.

Each demo server gets its own folder with a copy of an already migrated SQLite database, its
own log file, and the environment variables ``demo.settings`` reads (transports, bus, DEBUG).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

import httpx

from tests.support.processes import free_port, stop, tail, wait_until

ROOT = Path(__file__).resolve().parents[2]


def base_env(database: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo.settings",
        "DEMO_DATABASE": str(database),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra or {})
    return env


def migrate(database: Path) -> None:
    """Create a migrated SQLite database at ``database``."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=base_env(database),
        check=True,
        timeout=120,
    )


class Uvicorn:
    """``uvicorn <app>`` on 127.0.0.1 in a subprocess, started by :meth:`start`."""

    def __init__(
        self,
        app: str,
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        port: int | None = None,
        options: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.options = list(options)  # more uvicorn options, e.g. ["--workers", "2"]
        self.cwd = cwd
        self.env = dict(env)
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 30) -> Self:
        """Spawn uvicorn and return once it answers HTTP."""
        if self.running:
            raise RuntimeError(f"server on port {self.port} is already running")
        command = [
            sys.executable, "-m", "uvicorn", self.app,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--no-access-log",
            "--timeout-graceful-shutdown", "3",
            *self.options,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(
            self._answers,
            self.process,
            timeout=timeout,
            what=f"uvicorn on port {self.port}",
            log=self.log_path,
        )
        return self

    def stop(self) -> None:
        """Stop the uvicorn process (SIGTERM, then SIGKILL)."""
        stop(self.process)

    def kill(self) -> None:
        """Kill the process at once, as a crash would."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, timeout: float = 30) -> Self:
        """Stop, then start again on the same port."""
        self.stop()
        return self.start(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def _answers(self) -> bool:
        try:
            httpx.get(self.url + "/", timeout=1.0)
        except httpx.TransportError:
            return False
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.app} {self.url} pid={self.pid}>"


class DemoServer(Uvicorn):
    """The demo project, with its own copy of a migrated database and its own settings."""

    def __init__(
        self,
        folder: Path,
        template_db: Path,
        *,
        transports: str | list[str] | None = None,
        bus: str | None = None,
        debug: bool = True,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.database = folder / "db.sqlite3"
        shutil.copyfile(template_db, self.database)
        extra = {"DEMO_DEBUG": "1" if debug else "0"}
        if transports is not None:
            names = transports if isinstance(transports, str) else ",".join(transports)
            extra["SOCKPUPPET_TRANSPORTS"] = names
        if bus is not None:
            extra["SOCKPUPPET_BUS"] = bus
        extra.update(env or {})
        super().__init__(
            "demo.asgi:application",
            cwd=ROOT,
            env=base_env(self.database, extra),
            log_path=folder / "uvicorn.log",
            port=port,
        )
