"""The same Django work back to back and after a pause: what a quiet moment costs here.

A person's clicks come with pauses between them, and on a shared virtual machine a
process that slept even a few milliseconds finds its CPU caches cold: the next piece of
work runs slower, the more code and data it touches. This times it in one process, with
no browser, server or thread hop, each call after 0, 3 and 50 ms of sleep, interleaved
in rounds so a noisy moment hits all alike:

- baseline: Django's own ``GET /`` of the demo counter page (test ``Client``: the
  middleware, the session's load, the view, the template), no Sockpuppet in it;
- ping: the playground's Ping reflex (``ReflexClient``: the middleware, no view, no morph);
- reflex: the counter's +1 reflex (the middleware, the session's load and save, the
  view, the template, lxml): the work behind ``loadtest.browser_latency``'s click.

    .venv/bin/python -m loadtest.after_idle [--samples 200] [--record]

prints a Markdown table (p50 per pause, and what the pause added to the back-to-back p50);
``--record`` also writes it to ``loadtest/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from collections.abc import Callable

from loadtest.browser_latency import _commit, percentile, publish

PAUSES_MS = (0, 3, 50)
HOST = "127.0.0.1"


def calls() -> dict[str, Callable[[], object]]:
    """The three calls, on the demo's settings and a fresh SQLite database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo.settings"
    os.environ["DEMO_DEBUG"] = "0"
    os.environ["DEMO_DATABASE"] = os.path.join(tempfile.mkdtemp(), "db.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from sockpuppet.testing import ReflexClient

    call_command("migrate", verbosity=0)
    tab = ReflexClient(Client(HTTP_HOST=HOST), host=HOST)
    home, playground = f"http://{HOST}/", f"http://{HOST}/playground/"

    def get() -> object:
        response = tab.client.get("/")
        assert response.status_code == 200, response.status_code
        return response

    def reflex(target: str, url: str) -> Callable[[], object]:
        def call() -> object:
            result = tab.reflex(target, url=url)
            assert result.type in ("operations", "nothing"), result.message
            return result

        return call

    get()  # the session exists before the first reflex writes it
    return {
        "Django GET / (baseline)": get,
        "ping reflex (no morph)": reflex("PlaygroundReflex#ping", playground),
        "counter +1 reflex (page morph)": reflex("CounterReflex#increment", home),
    }


def measure(samples: int) -> dict[tuple[str, int], list[float]]:
    work = calls()
    for call in work.values():  # warm up: imports, template and URL caches
        for _ in range(50):
            call()
    times: dict[tuple[str, int], list[float]] = {
        (name, pause): [] for name in work for pause in PAUSES_MS
    }
    for _ in range(samples):
        for pause in PAUSES_MS:
            for name, call in work.items():
                time.sleep(pause / 1000)  # the quiet being measured, not a wait for an event
                started = time.perf_counter()
                call()
                times[name, pause].append((time.perf_counter() - started) * 1000)
    return times


def report(times: dict[tuple[str, int], list[float]], command: str) -> str:
    lines = [
        f"# Django's work after a pause, {datetime.date.today().isoformat()}",
        "",
        f"Command: `{command}`",
        "",
        f"Code at `{_commit()}`. One process, no browser, no server, no thread hop: "
        "milliseconds per call, each after the pause shown, interleaved in rounds; "
        "the demo's settings (DEBUG off, `cached_db` sessions on SQLite).",
        "",
        "| what | pause ms | samples | p50 ms | p90 ms | p50 minus back-to-back p50 | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (name, pause), values in times.items():
        p50, back_to_back = percentile(values, 50), percentile(times[name, 0], 50)
        lines.append(
            f"| {name} | {pause} | {len(values)} | {p50:.3f} | {percentile(values, 90):.3f} "
            f"| {p50 - back_to_back:+.3f} | {p50 / back_to_back:.2f} |"
        )
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=200, help="calls per row")
    parser.add_argument("--record", action="store_true", help="write it to loadtest/results/")
    args = parser.parse_args()
    command = "python -m loadtest.after_idle " + " ".join(sys.argv[1:])
    publish(report(measure(args.samples), command.strip()), "after-idle", args.record)


if __name__ == "__main__":
    main()
