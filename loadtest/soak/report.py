"""The Markdown summary of a run: verdict, command, machine, settings, messages, per
transport and resources."""

from __future__ import annotations

import argparse
import datetime
import shlex
from collections import Counter
from typing import Any

from loadtest.soak import machine
from loadtest.soak.checks import Verdict
from loadtest.soak.record import Record
from loadtest.soak.run import Outcome
from loadtest.soak.sampling import Sample
from loadtest.soak.workload import MAX_IN_FLIGHT, TRANSPORTS


def percentiles(values: list[int]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    at = [ordered[min(len(ordered) - 1, int(len(ordered) * q))] for q in (0.5, 0.99)]
    return f"{at[0]} / {at[1]} / {ordered[-1]}"


def markdown(
    options: argparse.Namespace, outcome: Outcome, verdict: Verdict, failures: list[str]
) -> str:
    records, samples = outcome.records, outcome.samples
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    ok = "**PASS**: every invariant held" if not failures else "**FAIL**: " + "; ".join(failures)
    lines = [
        f"# Soak test, {when}",
        "",
        ok,
        "",
        "```",
        "python -m loadtest.soak " + shlex.join(options.argv),
        "```",
        "",
        "## Machine and versions",
        "",
        *[f"- {line}" for line in machine.describe()],
        "",
        "## Settings",
        "",
        f"- {options.clients} clients ({', '.join(TRANSPORTS)}, a third each), each its own"
        f" session; {options.workers} demo processes ({options.settings}) on one Redis,"
        + (
            " behind nginx round-robin (no affinity)"
            if options.nginx
            else " alternated by the clients"
        ),
        f"- load {options.duration:.0f} s (ramp {options.clients / options.ramp:.0f} s, warm-up"
        f" until {min(options.duration, options.clients / options.ramp + options.warmup):.0f} s),"
        f" then drain up to {options.drain:.0f} s; seed {options.seed}",
        f"- a reflex every {_span(options.think)} s per client (page, selector, nothing morphs;"
        f" at most {MAX_IN_FLIGHT} unanswered); a broadcast every {_span(options.interval)} s",
        f"- each client cuts its transport every {_span(options.drop_every)} s;"
        f" {options.storms} storm(s) cut half the clients at once"
        f" ({' and '.join(map(str, outcome.storms)) or 'none'} cut)",
        "",
        "## Messages",
        "",
        "| | count |",
        "|---|---|",
        f"| reflexes sent | {verdict.reflexes_sent} |",
        f"| answered | {verdict.answered} |",
        f"| answered twice | {verdict.reflexes_duplicated} |",
        f"| lost | {verdict.reflexes_lost} |",
        f"| error / wrong answers | {verdict.errors} / {verdict.wrong} |",
        f"| re-sent after a reconnect (same id) | {sum(r.resent for r in records)} |",
        f"| answered after {options.timeout:.0f} s | {sum(r.late for r in records)} |",
        f"| broadcasts published (failed) | {verdict.published} ({len(outcome.publish_failures)}) |",
        f"| broadcast receipts expected | {verdict.expected} |",
        f"| delivered | {verdict.delivered} |",
        f"| lost / duplicated / out of order | {verdict.broadcasts_lost} /"
        f" {verdict.broadcasts_duplicated} / {verdict.out_of_order} |",
        f"| resyncs | {verdict.resyncs} |",
        f"| gaps in positions / delivered again | {verdict.gaps} / {verdict.again} |",
        f"| drained in time | {'yes' if outcome.drained else 'no'} |",
        "",
        *_per_transport(records),
        "",
        *_resources(samples, outcome),
    ]
    if verdict.examples:
        lines += ["", "## First problems", "", *[f"- {e}" for e in verdict.examples[:20]]]
    return "\n".join(lines) + "\n"


def _span(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}-{bounds[1]:g}"


def _per_transport(records: list[Record]) -> list[str]:
    lines = [
        "| transport | clients | reflexes | ms p50 / p99 / max | broadcasts | ms p50 / p99 / max"
        " | connects | drops / storms / lost / stalled | failed connects |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    reasons: Counter[str] = Counter()
    for transport in TRANSPORTS:
        mine = [r for r in records if r.transport == transport]
        redo = Counter[str]()
        for r in mine:
            redo.update(r.reconnects)
        reasons.update(why.split(":")[0] for r in mine for why in r.losses + r.failed_connects)
        lines.append(
            f"| {transport} | {len(mine)} | {sum(len(r.answers) for r in mine)}"
            f" | {percentiles([ms for r in mine for ms in r.reflex_ms])}"
            f" | {sum(len(r.seqs) for r in mine)}"
            f" | {percentiles([ms for r in mine for ms in r.broadcast_ms])}"
            f" | {sum(r.connects for r in mine)}"
            f" | {redo['drop']} / {redo['storm']} / {redo['lost']} / {redo['stalled']}"
            f" | {sum(len(r.failed_connects) for r in mine)} |"
        )
    if reasons:
        lines += ["", "Lost transports and failed connects, by cause: "]
        lines[-1] += ", ".join(f"{why} ({n})" for why, n in reasons.most_common(8)) + "."
    return ["## Per transport", "", *lines]


def _resources(samples: dict[str, Sample], outcome: Outcome) -> list[str]:
    def each(values: list[Any]) -> str:
        return " + ".join("-" if v is None else str(v) for v in values)

    lines = [
        "## Resources",
        "",
        "Per demo process (`a + b`); *warm* is the end of the warm-up, *end* the end of the"
        " load, *left* after the clients closed. Redis keys without the reflex claims"
        " (kept an hour by design, one per reflex run).",
        "",
        "| moment | s | RSS MiB | asyncio tasks | subscriptions | open files | threads"
        " | Redis keys (claims) | Redis MiB | soak tasks |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in samples.items():
        lines.append(
            f"| {name} | {s.at:.0f} | {each([kb // 1024 for kb in s.rss_kb])} | {each(s.tasks)}"
            f" | {each(s.subscriptions)} | {each(s.fds)} | {each(s.threads)}"
            f" | {s.redis_keys} ({s.claims}) | {s.redis_memory / 2**20:.1f}"
            f" | {s.own_tasks} |"
        )
    lines += ["", "During the load:", "", "| s | RSS MiB | tasks | Redis keys (claims) |"]
    lines.append("|---|---|---|---|")
    for s in outcome.series:
        lines.append(
            f"| {s.at:.0f} | {each([kb // 1024 for kb in s.rss_kb])} | {each(s.tasks)}"
            f" | {s.redis_keys} ({s.claims}) |"
        )
    cpu = ", ".join(f"{k} {v:.0f} s" for k, v in outcome.cpu.items())
    others = 2 * outcome.cpu["machine"] - sum(outcome.cpu.values())
    lines += [
        "",
        f"CPU over the {outcome.wall:.0f} s of load and drain: {cpu}"
        f" (other programs on the machine: {others:.0f} s).",
    ]
    return lines
