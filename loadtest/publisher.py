"""Broadcasts timestamped events to the ``bench`` stream, from a plain Python process.

Like a Celery worker would: ``Channel("bench").dispatch_event(...)`` on the Redis bus
(``DJANGO_SETTINGS_MODULE=demo.settings``, ``SOCKPUPPET_BUS=redis://…``). It waits until
``--expect`` Locust users follow the stream (``loadtest/followers.py``; at most
``--patience`` seconds, then it goes ahead with those who do), then publishes
one event every ``--interval`` seconds until ``--count`` or ``--duration`` runs out,
each with ``detail = {"t": time.time(), "seq": n, "followers": <count then>}``, and
writes ``<seq> <t> <followers>`` lines to ``--log``.

    python -m loadtest.publisher --expect 1000 --interval 1 --duration 30 --log out.txt
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import redis.asyncio as aioredis

from loadtest.followers import KEY


async def publish(options: argparse.Namespace) -> None:
    from sockpuppet.channel import Channel

    counter = aioredis.Redis.from_url(os.environ["LOADTEST_REDIS"])
    deadline = time.monotonic() + options.duration
    patience = time.monotonic() + options.patience
    try:
        while int(await counter.get(KEY) or 0) < options.expect:
            if time.monotonic() > min(patience, deadline):
                break  # publish to those who made it: each broadcast says how many
            await asyncio.sleep(0.1)  # polling a counter other processes move
        with Path(options.log).open("w", buffering=1) as log:
            for seq in range(options.count):
                if time.monotonic() > deadline:
                    break
                followers = int(await counter.get(KEY) or 0)
                sent = time.time()
                detail = {"t": sent, "seq": seq, "followers": followers}
                await Channel("bench").dispatch_event("bench", detail=detail).abroadcast()
                log.write(f"{seq} {sent:.6f} {followers}\n")
                await asyncio.sleep(options.interval)  # the publishing rate, not a wait
    finally:
        await counter.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expect", type=int, default=1, help="followers to wait for")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds, waiting included")
    parser.add_argument("--patience", type=float, default=60.0, help="seconds to wait for --expect")
    parser.add_argument("--log", required=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    asyncio.run(publish(parser.parse_args()))


if __name__ == "__main__":
    main()
