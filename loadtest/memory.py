"""Memory per idle connection: the demo processes' RSS with none, a few and N connections.

Per transport, on a fresh stack (so one transport's leftovers never count for another):
RSS of the demo processes after a first page view (none), once the first W users follow
the stream (the first connection loads code; W of them warm the allocator), and once all
N do. Locust's users of the ``broadcast`` tag only listen, so they are idle connections:
a WebSocket, an SSE stream, or a long-poll held (renewed every ``longpollTimeout``).
The Locust users count themselves in Redis (``loadtest/followers.py``) when their
transport is proven; that count says when to read RSS.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from loadtest import followers, procstat, stack
from loadtest.command import locust_command, locust_env, stack_options
from tests.support.processes import stop, wait_until

SETTLE = 2.0  # seconds for the last connections' buffers to be allocated


def measure(options: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    rows = []
    ramp = options.users / options.spawn_rate
    for transport in options.transports:
        sub = folder / transport
        sub.mkdir(exist_ok=True)
        one = argparse.Namespace(**{**vars(options), "transports": [transport]})
        warm = max(1, min(50, options.users // 10))
        with stack.running(sub / "logs", **stack_options(options, [transport])) as running:
            for host in running.hosts:
                httpx.get(host + "/", timeout=10).raise_for_status()
            rss = _rss(running)
            total = ramp + 120
            command = locust_command(one, sub, running.hosts, total)
            with (sub / "locust.log").open("ab") as log:
                process = subprocess.Popen(
                    command, env=locust_env(one, sub, running), stdout=log, stderr=log
                )
                try:
                    rows.append(_levels(transport, options.users, warm, running, process, rss))
                finally:
                    stop(process, timeout=30)
    return rows


def _levels(
    transport: str,
    users: int,
    warm: int,
    running: stack.Stack,
    process: subprocess.Popen[bytes],
    rss0: int,
) -> dict[str, Any]:
    url = running.redis.url
    timeout = users / 5 + 60  # negotiations are the slow part of the ramp
    wait_until(lambda: followers.count(url) >= warm, process, timeout=timeout, what="warm-up")
    rss_warm = _rss(running)
    wait_until(lambda: followers.count(url) >= users, process, timeout=timeout, what="all users")
    _settle(process)
    return {
        "transport": transport,
        "connections": followers.count(url),
        "warm": warm,
        "rss0": rss0,
        "rss_warm": rss_warm,
        "rss_all": _rss(running),
    }


def _settle(process: subprocess.Popen[bytes]) -> None:
    """Let the last connections finish their first exchanges (fails if Locust died)."""
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"locust exited early ({process.returncode}); see its log")
        time.sleep(0.1)  # a fixed settling time, not a wait for an event


def _rss(running: stack.Stack) -> int:
    return sum(procstat.rss_kb(pid) for pid in running.pids)
