"""A real Celery worker of the demo (``celery -A demo worker``) in a subprocess.

It runs with the demo's settings and the environment a demo server was given (its
database, bus and broker), so its tasks read the same sessions and broadcast on the same
Redis. Ready once it logs ``ready.``: it then consumes from the broker.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from tests.support.processes import stop, tail, wait_until
from tests.support.server import ROOT


class CeleryWorker:
    def __init__(self, folder: Path, env: Mapping[str, str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.env = dict(env)
        self.log_path = folder / "celery.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Self:
        command = [
            str(ROOT / ".venv" / "bin" / "celery"), "-A", "demo", "worker",
            "--pool=solo", "--concurrency=1", "-l", "info",
            "--hostname", "sockpuppet-tests@%h",
            # No waiting for other workers at startup: there are none.
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(
            lambda: " ready." in self.log(),
            self.process,
            timeout=timeout,
            what="celery worker",
            log=self.log_path,
        )
        return self

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL."""
        stop(self.process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def __repr__(self) -> str:
        return f"<CeleryWorker pid={self.process.pid if self.process else None}>"
