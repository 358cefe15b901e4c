"""Starting the servers a benchmark measures: real uvicorn processes on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def uvicorn(app: str, env: dict[str, str] | None = None, workers: int = 1) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1; yields its base URL; stops it on exit."""
    with uvicorn_process(app, env, workers) as (url, _pid):
        yield url


@contextlib.contextmanager
def uvicorn_process(
    app: str, env: dict[str, str] | None = None, workers: int = 1, options: Sequence[str] = ()
) -> Iterator[tuple[str, int]]:
    """``uvicorn``, with more command-line ``options``; yields the base URL and the pid."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="uvicorn-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
        *options,
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{app} exited: {Path(log.name).read_text()[-2000:]}")
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{app} did not start") from None
                time.sleep(0.1)  # polling a port that is not open yet: nothing to await
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    Path(log.name).unlink()  # kept when the run failed, to read


@contextlib.contextmanager
def demo_server(
    transports: str = "websocket", bus: str = "memory", settings: Mapping[str, str] | None = None
) -> Iterator[str]:
    """The demo on a fresh migrated SQLite database, DEBUG off; yields its base URL.
    ``settings``: more environment variables of ``demo/settings.py``."""
    with demo_process(transports, bus, settings=settings) as (url, _pid):
        yield url


@contextlib.contextmanager
def demo_process(
    transports: str = "websocket",
    bus: str = "memory",
    uvicorn_options: Sequence[str] = (),
    settings: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """``demo_server`` with more uvicorn ``options`` and demo ``settings`` (environment
    variables of ``demo/settings.py``); yields the base URL and the pid."""
    with tempfile.TemporaryDirectory(prefix="sockpuppet-bench-") as folder:
        env = {
            "DJANGO_SETTINGS_MODULE": "demo.settings",
            "DEMO_DATABASE": str(Path(folder) / "db.sqlite3"),
            "DEMO_DEBUG": "0",
            "SOCKPUPPET_TRANSPORTS": transports,
            "SOCKPUPPET_BUS": bus,
            "SOCKPUPPET_MAX_REFLEXES_PER_SECOND": "100000",  # a benchmark clicks back to back
            **(settings or {}),
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
        )
        with uvicorn_process("demo.asgi:application", env, options=uvicorn_options) as served:
            yield served
