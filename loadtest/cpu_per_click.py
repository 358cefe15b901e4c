"""Whose CPU a click costs: the server's event loop, its other threads, and Chromium.

``loadtest.browser_latency`` times click -> DOM beside the bare transport; this runs the
same three round trips (the bare-ASGI echo, the playground's Ping, the demo counter's
+1), interleaved in rounds, and divides the CPU time each party used while they ran by
their number:

- server loop: the uvicorn process's main thread (the transport, the dispatcher, the bus);
- server threads: its other threads (the reflexes' threads, where Django runs);
- Chromium: every Chromium process the benchmark started (the page's JavaScript, the
  network service, style, layout, paint and compositing of what a morph changed).

On a machine of two cores the browser and the server share them, as they never do in
production: the record says how much of a click's time is the browser's own work, and
how much the server's work grows beside it.

    .venv/bin/python -m loadtest.cpu_per_click --clicks 300

prints a Markdown table; ``--record`` also writes it to ``loadtest/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Callable
from pathlib import Path

from loadtest.browser_latency import (
    BASELINE_JS,
    CLICK_JS,
    PING_JS,
    _commit,
    machine,
    pages,
    percentile,
    publish,
)
from loadtest.procstat import descendants, thread_cpu

SIDES = ("bare ASGI baseline", "ping (no state, no morph)", "reflex click -> DOM")
PARTIES = ("server loop", "server threads", "Chromium")


def chromium_pids() -> list[int]:
    """The Chromium processes this benchmark started (below Playwright's driver)."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip().startswith("chrom"):
                found.append(pid)
        except OSError:
            continue  # it ended meanwhile
    return found


def cpu(server: int) -> dict[str, float]:
    """CPU seconds used so far by each party (``server``: the uvicorn process's pid)."""
    threads = thread_cpu(server)
    loop = threads.pop(server, 0.0)
    browser = sum(sum(thread_cpu(pid).values()) for pid in chromium_pids())
    return {"server loop": loop, "server threads": sum(threads.values()), "Chromium": browser}


def measure(transport: str, clicks: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Each side's round trips (ms) and its parties' CPU per round trip (ms, one value per
    round) on ``transport``."""
    pids: dict[str, int] = {}
    results: dict[str, dict[str, list[float]]] = {
        side: {"times": [], **{party: [] for party in PARTIES}} for side in SIDES
    }
    per_round = max(1, clicks // rounds)
    with pages(transport, pids=pids) as (echo_url, bare, demo, playground):
        runs: dict[str, tuple[int, Callable[[int], list[float]]]] = {
            SIDES[0]: (
                pids["echo"],
                lambda n: bare.evaluate(BASELINE_JS[transport], [echo_url, n, 0]),
            ),
            SIDES[1]: (
                pids["demo"],
                lambda n: playground.evaluate(PING_JS, ["#ping-server", n, 0]),
            ),
            SIDES[2]: (
                pids["demo"],
                lambda n: demo.evaluate(CLICK_JS, ["#increment", "#count", n, 0]),
            ),
        }
        for _server, run in runs.values():
            run(20)  # warm up
        for _ in range(rounds):
            for side, (server, run) in runs.items():
                before = cpu(server)
                times = run(per_round)
                after = cpu(server)
                results[side]["times"] += times
                for party in PARTIES:
                    results[side][party].append((after[party] - before[party]) * 1000 / len(times))
    return results


def report(results: dict[str, dict[str, dict[str, list[float]]]], command: str) -> str:
    lines = [
        f"# CPU per click, {datetime.date.today().isoformat()}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}; uvicorn, one process, memory bus, DEBUG off. Code at `{_commit()}`.",
        "",
        "Round trips back to back, as `loadtest.browser_latency` makes them. p50: the round "
        "trip's time inside Chromium (ms). CPU: milliseconds of CPU per round trip, the median "
        "of the rounds' (each round's CPU time divided by its round trips): the server's "
        "event loop thread, its other threads (the reflexes'), every Chromium process.",
        "",
        "| transport | what | samples | p50 | " + " | ".join(f"{p} CPU" for p in PARTIES) + " |",
        "|---|---|---|---|" + "---|" * len(PARTIES),
    ]
    for transport, sides in results.items():
        for side, values in sides.items():
            cells = [f"{percentile(values[party], 50):.2f}" for party in PARTIES]
            lines.append(
                f"| {transport} | {side} | {len(values['times'])} | "
                f"{percentile(values['times'], 50):.2f} | " + " | ".join(cells) + " |"
            )
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clicks", type=int, default=300, help="round trips per transport and side"
    )
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--transports", default="websocket,sse,longpoll")
    parser.add_argument(
        "--record", action="store_true", help="write the table to loadtest/results/"
    )
    options = parser.parse_args()
    results = {t: measure(t, options.clicks, options.rounds) for t in options.transports.split(",")}
    command = "python -m loadtest.cpu_per_click " + " ".join(sys.argv[1:])
    publish(report(results, command), "cpu-per-click", options.record)


if __name__ == "__main__":
    main()
