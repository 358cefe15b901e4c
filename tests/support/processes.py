"""Starting and stopping the real programs the tests talk to, each by its own pid."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ProcessDied(RuntimeError):
    pass


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    *,
    timeout: float,
    what: str,
    log: Path | None = None,
) -> None:
    """Wait until ``ready()`` is true; fail early, with the log, if the process exits first.

    Between attempts it waits on the process itself, so a crash ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    while not ready():
        try:
            code = process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not ready after {timeout:.0f}s{tail(log)}") from None
        else:
            raise ProcessDied(f"{what} exited with status {code}{tail(log)}")


def stop(process: subprocess.Popen[bytes] | None, *, timeout: float = 10) -> None:
    """Terminate the process (SIGTERM, then SIGKILL) and reap it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n--- " + log.name + " ---\n" + "\n".join(text)
