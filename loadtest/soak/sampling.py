"""Resource samples of the system under soak: per demo process (from ``/proc`` and the
probe), Redis, and the soak's own process."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import redis.asyncio as aioredis

from loadtest import procstat, stack
from loadtest.soak.probe import PROBE

if TYPE_CHECKING:
    from loadtest.soak.run import Soak


@dataclass
class Sample:
    """Resources at one moment: per demo process, Redis, and this process."""

    at: float
    rss_kb: list[int]
    fds: list[int]
    threads: list[int]  # from /proc
    tasks: list[int | None]  # asyncio tasks, from the probe
    subscriptions: list[int | None]
    streams: list[list[str]]  # the first streams followed
    redis_keys: int  # besides claims
    claims: int
    redis_memory: int
    own_tasks: int
    own_rss_kb: int


@dataclass
class Probe:
    """Reads what the system under test holds: its processes, Redis, the probe endpoint."""

    running: stack.Stack
    redis: aioredis.Redis
    http: httpx.AsyncClient
    started: float = field(default_factory=time.monotonic)

    async def sample(self) -> Sample:
        probes: list[dict[str, Any]] = []
        for server in self.running.servers:
            try:
                probes.append((await self.http.get(server.url + PROBE, timeout=10)).json())
            except Exception:
                probes.append({})
        pids = self.running.pids
        keys = {key async for key in self.redis.scan_iter(count=1000)}  # both counts at once
        claims = sum(key.startswith(b"sockpuppet:claim:") for key in keys)
        return Sample(
            at=round(time.monotonic() - self.started, 1),
            rss_kb=[procstat.rss_kb(p) for p in pids],
            fds=[len(os.listdir(f"/proc/{p}/fd")) for p in pids],
            threads=[len(os.listdir(f"/proc/{p}/task")) for p in pids],
            tasks=[p.get("tasks") for p in probes],
            subscriptions=[p.get("subscriptions") for p in probes],
            streams=[p.get("streams", []) for p in probes],
            redis_keys=len(keys) - claims,
            claims=claims,
            redis_memory=int((await self.redis.info("memory"))["used_memory"]),
            own_tasks=len(asyncio.all_tasks()),
            own_rss_kb=procstat.rss_kb(os.getpid()),
        )

    async def every(self, first: float, every: float, series: list[Sample], run: Soak) -> None:
        """A sample at ``first`` seconds, then every ``every``, until cancelled: at its own
        pace, so a slow sample never stretches the load."""
        moment = first
        while True:
            await asyncio.sleep(max(0.0, self.started + moment - time.monotonic()))
            series.append(await self.sample())
            run.progress(series[-1])
            moment = max(moment + every, time.monotonic() - self.started)
