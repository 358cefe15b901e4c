"""What the run script needs to know from the Locust users: who follows, what arrived.

- A Redis counter (``LOADTEST_REDIS``, key ``loadtest:followers``) of users whose
  transport is proven: the publisher waits for the expected number before it publishes
  and stamps each broadcast with the count, so a missing receipt shows; the idle scenario
  samples the servers' memory when it reaches a level.
- A receipts file per Locust process in ``LOADTEST_RUN``: ``<seq> <ms> <arrival ms>`` per
  broadcast received (publish -> handled by the user; publish -> its bytes read), from which
  the run script works out each broadcast's last delivery.

Without those variables (a hand-run ``locust``) every function does nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

import redis

KEY = "loadtest:followers"

_clients: dict[int, redis.Redis] = {}
_files: dict[int, IO[str]] = {}
_counted: set[int] = set()


def _redis() -> redis.Redis | None:
    url = os.environ.get("LOADTEST_REDIS")
    if not url:
        return None
    pid = os.getpid()  # Locust's --processes forks: one client per process
    if pid not in _clients:
        # Thousands of users' greenlets share a few connections, waiting their turn.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=20, timeout=60, socket_timeout=10
        )
        _clients[pid] = redis.Redis(connection_pool=pool)
    return _clients[pid]


def joined(link: Any) -> None:
    client = _redis()
    if client is not None and id(link) not in _counted:
        _counted.add(id(link))
        client.incr(KEY)


def left(link: Any) -> None:
    client = _redis()
    if client is not None and id(link) in _counted:
        _counted.discard(id(link))
        client.decr(KEY)


def count(url: str) -> int:
    with redis.Redis.from_url(url, socket_timeout=10) as client:
        return int(client.get(KEY) or 0)


def receipt(seq: Any, ms: float, arrival_ms: float) -> None:
    folder = os.environ.get("LOADTEST_RUN")
    if not folder or seq is None:
        return
    pid = os.getpid()
    if pid not in _files:
        path = Path(folder) / f"receipts-{pid}.txt"
        _files[pid] = path.open("a", buffering=1)  # line-buffered: nothing lost at exit
    _files[pid].write(f"{seq} {ms:.3f} {arrival_ms:.3f}\n")
