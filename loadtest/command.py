"""The Locust command line and environment of a run (``locustfile.py`` reads the latter)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from loadtest.stack import Stack
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
USER_CLASSES = {"websocket": "WebSocketUser", "sse": "SSEUser", "longpoll": "LongPollUser"}
# Locust tags per scenario: which of the users' tasks run (none given: all of them).
TAGS = {"reflex": ["reflex"], "broadcast": ["broadcast"], "mixed": [], "idle": ["broadcast"]}


def locust_command(
    options: argparse.Namespace,
    folder: Path,
    hosts: list[str],
    total: float,
    *,
    users: int | None = None,
    name: str = "locust",
) -> list[str]:
    # The user classes come first: --tags takes every word after it.
    classes = [USER_CLASSES[t] for t in options.transports]
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py"), *classes,
        "--headless", "--only-summary", "--loglevel", "WARNING",
        "-u", str(users or options.users), "-r", str(options.spawn_rate), "-t", f"{total:.0f}s",
        "--stop-timeout", str(int(options.timeout) + 5),
        "--host", hosts[0],
        "--csv", str(folder / name), "--html", str(folder / f"{name}.html"),
    ]  # fmt: skip
    if options.processes > 1:
        # Locust's master listens for its forks on *:5557 unless told: loopback, a free port.
        port = str(free_port())
        command += ["--processes", str(options.processes), "--master-bind-host", "127.0.0.1"]
        command += ["--master-bind-port", port, "--master-port", port]
    if TAGS[options.scenario]:
        command += ["--tags", *TAGS[options.scenario]]
    return command


def locust_env(options: argparse.Namespace, folder: Path, running: Stack) -> dict[str, str]:
    return {
        **running.env,
        "LOADTEST_HOSTS": ",".join(running.hosts),
        "LOADTEST_MORPHS": options.morphs,
        "LOADTEST_WAIT": str(options.wait),
        "LOADTEST_TIMEOUT": str(options.timeout),
        "LOADTEST_REDIS": running.redis.url,
        "LOADTEST_RUN": str(folder),
    }


def stack_options(options: argparse.Namespace, transports: list[str]) -> dict[str, Any]:
    """Keyword arguments of ``stack.running`` for a run's options."""
    return {
        "workers": options.workers,
        "transports": ",".join(transports),
        "nginx": options.nginx,
        "extra": {
            "DJANGO_SETTINGS_MODULE": options.settings,
            **dict(item.split("=", 1) for item in options.env),
        },
    }
