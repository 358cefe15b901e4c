"""The demo counter's click -> DOM with each Django session backend, in one run.

A page morph's reflex runs the page's middleware: the counter's loads the visitor's
session, changes it and saves it, and that is most of its work on the server
(``docs/reflexes.md``, "What a morph costs"). Each backend here gets a demo server of its
own (uvicorn, one process, memory bus, DEBUG off, ``DEMO_SESSION_ENGINE``), and one page
each in the same Chromium; the pages take turns in rounds, so a noisy moment of the
(shared) machine hits every backend alike::

    .venv/bin/python -m loadtest.session_backends --engines db,cached_db --clicks 300

prints a Markdown table (``--record`` also writes it to ``loadtest/results/``). Engines
are named as in ``django.contrib.sessions.backends``; the cache is the demo's own, the
process's memory.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import statistics
import sys
from collections.abc import Iterator

from playwright.sync_api import Page, sync_playwright

from loadtest.browser_latency import (
    ARGS,
    CHROMIUM,
    CLICK_JS,
    _commit,
    percentile,
    publish,
    watch_posts,
)
from loadtest.processes import demo_server

BACKENDS = "django.contrib.sessions.backends."


@contextlib.contextmanager
def counters(transport: str, engines: list[str]) -> Iterator[dict[str, Page]]:
    """A demo server per session engine and a counter page on each, connected."""
    with contextlib.ExitStack() as stack:
        urls = {
            engine: stack.enter_context(
                demo_server(transport, settings={"DEMO_SESSION_ENGINE": BACKENDS + engine})
            )
            for engine in engines
        }
        browser = stack.enter_context(sync_playwright()).chromium.launch(
            executable_path=CHROMIUM, args=ARGS
        )
        pages = {}
        for engine, url in urls.items():
            page = browser.new_page()
            watch_posts(page)
            page.goto(url + "/")
            page.wait_for_function(
                f"window.Sockpuppet && window.Sockpuppet.transport === {transport!r}"
            )
            pages[engine] = page
        yield pages
        browser.close()


def measure(transport: str, engines: list[str], clicks: int, rounds: int) -> dict[str, list[float]]:
    """Back-to-back clicks on each engine's counter, the engines taking turns in ``rounds``
    (in reverse order every other round)."""
    times: dict[str, list[float]] = {engine: [] for engine in engines}
    per_round = max(1, clicks // rounds)
    with counters(transport, engines) as pages:
        for page in pages.values():  # warm up
            page.evaluate(CLICK_JS, ["#increment", "#count", 20, 0])
        for n in range(rounds):
            for engine in engines if n % 2 == 0 else engines[::-1]:
                times[engine] += pages[engine].evaluate(
                    CLICK_JS, ["#increment", "#count", per_round, 0]
                )
    return times


def report(results: dict[str, dict[str, list[float]]], command: str) -> str:
    lines = [
        f"# Session backends, {datetime.date.today().isoformat()}",
        "",
        f"Command: `{command}`",
        "",
        f"Code at `{_commit()}`. The demo counter's +1, click -> morphed count in the DOM, ms "
        "in Chromium, back to back; a demo server per session engine (uvicorn, one process, "
        "memory bus, DEBUG off, SQLite), their pages taking turns in rounds.",
        "",
        "| transport | sessions | samples | p50 | p90 | p99 | mean | p50 minus the first |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for transport, times in results.items():
        first = percentile(next(iter(times.values())), 50)
        for engine, values in times.items():
            p50, p90, p99 = (percentile(values, q) for q in (50, 90, 99))
            lines.append(
                f"| {transport} | {engine} | {len(values)} | {p50:.2f} | {p90:.2f} | "
                f"{p99:.2f} | {statistics.mean(values):.2f} | {p50 - first:+.2f} |"
            )
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="db,cached_db", help="session engines, comma list")
    parser.add_argument("--clicks", type=int, default=300, help="clicks per engine and transport")
    parser.add_argument("--rounds", type=int, default=10, help="turns each engine takes")
    parser.add_argument("--transports", default="websocket,sse,longpoll")
    parser.add_argument("--record", action="store_true", help="write it to loadtest/results/")
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    results = {
        transport: measure(transport, engines, args.clicks, args.rounds)
        for transport in args.transports.split(",")
    }
    command = "python -m loadtest.session_backends " + " ".join(sys.argv[1:])
    publish(report(results, command.strip()), "session-backends", args.record)


if __name__ == "__main__":
    main()
