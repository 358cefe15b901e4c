"""The run: the clients, the publisher and the storms, from the first client to the last
one leaving; samples at the baseline, the end of the warm-up, the end of the load, once
drained, and once the clients left."""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import time
from dataclasses import dataclass

import httpx
import redis.asyncio as aioredis

from loadtest import procstat, stack
from loadtest.soak.checks import leftovers
from loadtest.soak.client import Client
from loadtest.soak.record import Record
from loadtest.soak.sampling import Probe, Sample
from loadtest.soak.waits import pause
from loadtest.soak.workload import KINDS, STREAM, TRANSPORTS


class Soak:
    """The clients, the publisher, the storms and the two phases' events."""

    def __init__(self, options: argparse.Namespace, hosts: list[str], token: str) -> None:
        self.options = options
        self.token = token
        self.stream = f"n.{STREAM}"
        self.quiet = asyncio.Event()  # the load is over: no reflex, drop or broadcast more
        self.closing = asyncio.Event()  # the clients close their transports
        self.published: list[tuple[int, int]] = []  # seq, position
        self.publish_failures: list[str] = []
        self.storms: list[int] = []
        self.clients = [
            Client(self, i, TRANSPORTS[i % 3], hosts[(i // 3) % len(hosts)])
            for i in range(options.clients)
        ]

    def progress(self, sample: Sample) -> None:
        """One line on stderr: how the run goes."""
        records = [c.record for c in self.clients]
        print(
            f"soak {sample.at:4.0f} s: {sum(c.link is not None for c in self.clients)}"
            f"/{len(self.clients)} connected, {sum(len(r.sent) for r in records)} reflexes"
            f" ({sum(len(c.outbox) for c in self.clients)} unanswered),"
            f" {len(self.published)} broadcasts; RSS {[kb // 1024 for kb in sample.rss_kb]} MiB,"
            f" tasks {sample.tasks}, subscriptions {sample.subscriptions},"
            f" Redis keys {sample.redis_keys} + {sample.claims} claims",
            file=sys.stderr,
            flush=True,
        )

    async def publish(self) -> None:
        """A numbered broadcast every ``--interval`` seconds until the load ends."""
        from sockpuppet.channel import Channel

        rng = random.Random(f"{self.options.seed}-publisher")
        seq = 0
        while not self.quiet.is_set():
            detail = {"seq": seq, "t": time.time()}
            try:
                async with asyncio.timeout(10):
                    channel = Channel(STREAM).dispatch_event(STREAM, detail=detail)
                    self.published.append((seq, await channel.abroadcast()))
            except Exception as exc:
                self.publish_failures.append(f"seq {seq}: {type(exc).__name__}: {exc}"[:160])
            seq += 1
            await pause(self.quiet, rng.uniform(*self.options.interval))

    async def storm(self, at: list[float], started: float) -> None:
        """Cut half of the clients' transports at once, at each of ``at`` (seconds)."""
        rng = random.Random(f"{self.options.seed}-storms")
        for when in at:
            if await pause(self.quiet, started + when - time.monotonic()):
                return
            connected = [c for c in self.clients if c.link is not None]
            for client in rng.sample(connected, len(connected) // 2):
                client.kick()
            self.storms.append(len(connected) // 2)


@dataclass
class Outcome:
    records: list[Record]
    published: list[tuple[int, int]]
    publish_failures: list[str]
    storms: list[int]
    samples: dict[str, Sample]  # baseline, warm, end, drained, left
    series: list[Sample]  # every sample during the load
    cpu: dict[str, float]
    wall: float
    drained: bool
    crashes: list[str]  # clients that ended by an exception (a bug of the soak itself)


async def soak(options: argparse.Namespace, running: stack.Stack) -> Outcome:
    """The run itself, from the first client to the last one leaving."""
    from sockpuppet.bus import reset_bus
    from sockpuppet.streams import sign

    redis = aioredis.Redis.from_url(running.redis.url, socket_timeout=30)
    http = httpx.AsyncClient(timeout=10)
    try:
        for server in running.servers:
            for page in {k[0] for k in KINDS.values()}:
                (await http.get(server.url + page)).raise_for_status()
        probe = Probe(running, redis, http)
        samples = {"baseline": await probe.sample()}
        run = Soak(options, running.hosts, sign(STREAM))
        cpu = _cpu(running)
        probe.started = started = time.monotonic()
        ramp = options.clients / options.ramp
        clients = [asyncio.create_task(c.live(i / options.ramp)) for i, c in enumerate(run.clients)]
        publisher = asyncio.create_task(run.publish())
        at = [options.duration * (k + 1) / (options.storms + 1) for k in range(options.storms)]
        storms = asyncio.create_task(run.storm([max(a, ramp) for a in at], started))
        series: list[Sample] = []
        warm = min(options.duration, ramp + options.warmup)
        sampling = asyncio.create_task(probe.every(warm, options.sample_every, series, run))
        await asyncio.sleep(max(0.0, started + options.duration - time.monotonic()))
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        series.append(await probe.sample())
        run.progress(series[-1])
        samples["warm"], samples["end"] = series[0], series[-1]
        run.quiet.set()
        await asyncio.wait_for(asyncio.gather(publisher, storms), 30)
        drain_end = time.monotonic() + options.drain
        while not all(c.settled for c in run.clients) and time.monotonic() < drain_end:
            await asyncio.sleep(0.5)  # the clients' own tasks take the last answers meanwhile
        drained = all(c.settled for c in run.clients)
        wall = time.monotonic() - started
        samples["drained"] = await probe.sample()
        run.progress(samples["drained"])
        cpu = {k: v - cpu[k] for k, v in _cpu(running).items()}
        run.closing.set()
        ended = await asyncio.wait_for(asyncio.gather(*clients, return_exceptions=True), 60)
        crashes = [
            f"{client.record.name} crashed: {end!r}"[:200]
            for client, end in zip(run.clients, ended, strict=True)
            if isinstance(end, BaseException)
        ]
        samples["left"] = await _settled(probe, samples["baseline"])
        run.progress(samples["left"])
        return Outcome(
            [c.record for c in run.clients],
            run.published,
            run.publish_failures,
            run.storms,
            samples,
            series,
            cpu,
            wall,
            drained,
            crashes,
        )
    finally:
        await http.aclose()
        await redis.aclose()
        await reset_bus()


async def _settled(probe: Probe, baseline: Sample) -> Sample:
    """After the clients left: a sample once the servers let go (at most 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        now = await probe.sample()
        if not leftovers(baseline, now) or time.monotonic() > deadline:
            return now
        await asyncio.sleep(1)  # the servers notice closed connections by themselves


def _cpu(running: stack.Stack) -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    found = {
        "demo": sum(procstat.cpu_seconds(p) for p in running.pids),
        "soak (clients)": own.ru_utime + own.ru_stime,
        "machine": procstat.busy_seconds(),
    }
    for name, program in (("redis", running.redis), ("nginx", running.nginx)):
        if program is not None and program.process is not None:
            found[name] = procstat.cpu_seconds(program.process.pid)
    return found
