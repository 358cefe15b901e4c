"""Memory per idle connection: the demo processes' RSS with none, W and N connections.

Per transport, on a fresh stack (one transport's leftovers never count for another):

1. RSS after a first page view: no connection;
2. a first Locust run opens W connections (a tenth of N, at most 100: the first ones
   load code and grow the allocator's pools); once they are all up and the ramp has
   settled, RSS again;
3. a second Locust run, beside the first, opens the other N - W; settled, RSS again.

KiB per connection = (RSS at N - RSS at W) / (N - W). The users run the ``broadcast``
tag only, so they just hold their transport: a WebSocket, an SSE stream, or a long-poll
(renewed every ``longpollTimeout``). They count themselves in Redis
(``loadtest/followers.py``) once their transport is proven; that count says when.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from loadtest import followers, procstat, stack
from loadtest.command import locust_command, locust_env, stack_options
from tests.support.processes import stop, wait_until

SETTLE = 3.0  # seconds after the last connection, for the ramp's leftovers to finish


def measure(options: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    rows = []
    for transport in options.transports:
        sub = folder / transport
        sub.mkdir(exist_ok=True)
        one = argparse.Namespace(**{**vars(options), "transports": [transport]})
        with stack.running(sub / "logs", **stack_options(options, [transport])) as running:
            rows.append(_levels(one, sub, running))
    return rows


def _levels(options: argparse.Namespace, folder: Path, running: stack.Stack) -> dict[str, Any]:
    users = options.users
    warm = max(1, min(100, users // 10))
    for host in running.hosts:
        httpx.get(host + "/", timeout=10).raise_for_status()
    row = {"transport": options.transports[0], "warm": warm, "rss0": _rss(running)}
    with _locust(options, folder, running, warm, "locust-warm") as first:
        _reach(running, first, warm)
        row["rss_warm"] = _rss(running)
        with _locust(options, folder, running, users - warm, "locust") as second:
            _reach(running, second, users)
            row["rss_all"] = _rss(running)
            row["connections"] = followers.count(running.redis.url)
    return row


@contextlib.contextmanager
def _locust(
    options: argparse.Namespace, folder: Path, running: stack.Stack, users: int, name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A Locust run of ``users`` listeners, long enough to outlast the measurement."""
    total = users / options.spawn_rate + 300
    command = locust_command(options, folder, running.hosts, total, users=users, name=name)
    with (folder / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            command, env=locust_env(options, folder, running), stdout=log, stderr=log
        )
        try:
            yield process
        finally:
            stop(process, timeout=60)


def _reach(running: stack.Stack, process: subprocess.Popen[bytes], level: int) -> None:
    """Wait until ``level`` users follow, then for the ramp's leftovers to settle."""
    url = running.redis.url
    timeout = level / 5 + 60  # negotiations are the slow part of a ramp
    wait_until(lambda: followers.count(url) >= level, process, timeout=timeout, what="users")
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"locust exited early ({process.returncode}); see its log")
        time.sleep(0.1)  # a fixed settling time, not a wait for an event


def _rss(running: stack.Stack) -> int:
    return sum(procstat.rss_kb(pid) for pid in running.pids)
