"""A real ``redis-server`` on a free loopback port, in its own folder, without persistence."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import redis

from tests.support.processes import free_port, stop, wait_until


class RedisServer:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = port or free_port()
        self.log_path = folder / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self) -> str:
        """The same server through its Unix socket."""
        return f"unix://{self.folder / 'redis.sock'}?db=0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self, timeout: float = 15) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (scripts/install installs it)")
        command = [
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--unixsocket", str(self.folder / "redis.sock"),
            "--unixsocketperm", "700",
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(
            self._pong, self.process, timeout=timeout, what="redis-server", log=self.log_path
        )
        return self

    def stop(self) -> None:
        stop(self.process)

    def restart(self, timeout: float = 15) -> RedisServer:
        self.stop()
        return self.start(timeout=timeout)

    def flushall(self) -> None:
        with self.client() as client:
            client.flushall()

    def _pong(self) -> bool:
        try:
            with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False

    def __repr__(self) -> str:
        return f"<RedisServer {self.url} pid={self.process.pid if self.process else None}>"
