"""The system under soak: ``loadtest/stack.py``'s programs, the demo served with the probe
(each uvicorn runs ``loadtest.soak:application``: the demo behind ``GET /__soak__``) with
the soak's ``--settings`` and ``--env``."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from loadtest import stack
from loadtest.soak.workload import TRANSPORTS


@contextlib.contextmanager
def running(logs: Path, options: argparse.Namespace) -> Iterator[stack.Stack]:
    """``stack.running`` with the probed demo: Redis, the processes, nginx; all stopped by
    pid on exit, their logs kept in ``logs``."""
    extra = {
        "DJANGO_SETTINGS_MODULE": options.settings,
        **dict(item.split("=", 1) for item in options.env),
    }
    with stack.running(
        logs,
        workers=options.workers,
        transports=",".join(TRANSPORTS),
        nginx=options.nginx,
        extra=extra,
        app="loadtest.soak:application",
    ) as started:
        yield started
