"""The command: its options, then a run, its checks and its outputs."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import signal
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import loadtest.soak
from loadtest import stack
from loadtest.run import seconds
from loadtest.soak.checks import check, growth
from loadtest.soak.report import markdown
from loadtest.soak.run import soak
from loadtest.soak.servers import running
from loadtest.soak.watchdog import Watchdog
from tests.support.server import ROOT

OUT = ROOT / "loadtest" / "out"
RESULTS = ROOT / "loadtest" / "results"


def span(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return seconds(low), seconds(high or low)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.soak",
        description=loadtest.soak.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--clients", type=int, default=300)
    add("--workers", type=int, default=2, help="demo processes")
    add("--duration", type=seconds, default=600.0, help="load time, e.g. 10m, 90s")
    add("--warmup", type=seconds, default=60.0, help="after the ramp, before the first sample")
    add("--ramp", type=float, default=50.0, help="clients started per second")
    add("--think", type=span, default=(1.0, 3.0), help="seconds between a client's reflexes")
    add("--interval", type=span, default=(0.5, 1.0), help="seconds between broadcasts")
    add("--drop-every", type=span, default=(30.0, 90.0), help="seconds between a client's cuts")
    add("--storms", type=int, default=2, help="moments half the clients cut at once")
    add("--drain", type=seconds, default=60.0, help="most seconds to wait for the last messages")
    add("--timeout", type=float, default=30.0, help="seconds to connect, and for an answer")
    add("--sample-every", type=seconds, default=60.0, help="seconds between resource samples")
    add("--max-rss-growth", type=float, default=10.0, help="percent (plus 8 MiB) allowed")
    add("--no-nginx", dest="nginx", action="store_false", help="clients alternate processes")
    add("--settings", default="loadtest.settings", help="settings module of the demo")
    add("--env", action="append", default=[], metavar="KEY=VALUE", help="for the demo processes")
    add("--seed", type=int, default=1)
    add("--out", type=Path, help="folder for the output (default loadtest/out/<timestamp>-soak)")
    add("--record", action="store_true", help="also write loadtest/results/<date>-soak.md")
    options = parser.parse_args(argv)
    options.argv = list(sys.argv[1:] if argv is None else argv)
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    folder = options.out or OUT / f"{stamp}-soak"
    folder.mkdir(parents=True, exist_ok=True)
    stack.raise_open_files()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the programs on the way out
    hard = options.clients / options.ramp + options.duration + options.drain + 180
    with running(folder / "logs", options) as started:
        os.environ.update(DJANGO_SETTINGS_MODULE=options.settings, SOCKPUPPET_BUS=started.redis.url)
        with asyncio.Runner() as runner:
            watchdog = Watchdog(started, runner.get_loop())
            watchdog.start(hard + 30)
            try:
                outcome = runner.run(asyncio.wait_for(soak(options, started), hard))
            finally:
                watchdog.cancel()
    verdict = check(outcome.records, outcome.published)
    messages = verdict.failures + [f"publish failed: {f}" for f in outcome.publish_failures[:3]]
    messages += outcome.crashes[:3]
    if not outcome.drained:
        messages.append(f"not every client settled within --drain {options.drain:.0f} s")
    resources = growth(outcome.series, outcome.samples, options.max_rss_growth)
    owners = {f"c.{r.connection}": r.name for r in outcome.records}
    for n, streams in enumerate(outcome.samples["left"].streams):
        left = [f"{s} ({owners[s]})" for s in streams if s in owners]
        verdict.examples += [f"demo {n} still follows {s} after every client left" for s in left]
    failures = messages + resources
    summary = markdown(options, outcome, verdict, failures)
    (folder / "summary.md").write_text(summary)
    (folder / "records.json").write_text(json.dumps([asdict(r) for r in outcome.records]))
    reconnects = Counter[str]()
    for record in outcome.records:
        reconnects.update(record.reconnects)
    result = {
        "messages": messages,
        "resources": resources,
        "verdict": asdict(verdict),
        "reconnects": reconnects,
    }
    (folder / "result.json").write_text(json.dumps(result, indent=1))
    print(summary)
    if options.record:
        day = datetime.date.today().isoformat()
        path, runs = RESULTS / f"{day}-soak.md", 1
        while path.exists():  # never over an earlier record of the day
            runs += 1
            path = RESULTS / f"{day}-soak-{runs}.md"
        path.write_text(summary)
        print(f"recorded in {path.relative_to(ROOT)}")
    print(f"output in {folder}")
    return 1 if failures else 0
