"""The one-page Markdown summary of a run, from Locust's CSV and the run's own records."""

from __future__ import annotations

import csv
import math
import os
import platform
import statistics
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

REFLEX_KINDS = ("page", "selector", "nothing", "noop")


@dataclass
class Run:
    """What a run did and measured, beside Locust's CSV in ``folder``."""

    folder: Path
    command: str
    settings: dict[str, Any]
    server_cpu: float = 0.0  # CPU seconds of the demo processes during the load
    locust_cpu: float = 0.0
    redis_cpu: float = 0.0
    machine_cpu: float = 0.0  # CPU seconds of every process on the machine meanwhile
    wall: float = 0.0  # seconds Locust ran
    rss_kb: list[int] = field(default_factory=list)  # each demo process at the end
    memory: list[dict[str, Any]] = field(default_factory=list)  # idle scenario rows


def _rows(folder: Path, suffix: str) -> list[dict[str, str]]:
    """The rows of every Locust CSV ``*<suffix>`` of the run (the idle scenario has several)."""
    found = []
    for path in sorted(folder.rglob(f"*{suffix}")):
        with path.open() as f:
            found += [row for row in csv.DictReader(f) if row.get("Name") != "Aggregated"]
    return found


def _nearest_rank(values: list[float], q: float) -> float | None:
    """The q-th percentile by nearest rank: a value that occurred (with fewer than 100
    broadcasts, p99 is the worst of them)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def stats(folder: Path) -> list[dict[str, str]]:
    """Locust's request statistics, without the aggregate."""
    return _rows(folder, "_stats.csv")


def failures(folder: Path) -> list[dict[str, str]]:
    return _rows(folder, "_failures.csv")


def deliveries(folder: Path) -> dict[str, Any] | None:
    """Each broadcast's receipts against its followers: losses and last delivery."""
    log = folder / "published.txt"
    if not log.exists():
        return None
    followers = {}
    for line in log.read_text().splitlines():
        seq, _sent, count = line.split()
        followers[int(seq)] = int(count)
    received: dict[int, list[float]] = defaultdict(list)
    arrived: dict[int, list[float]] = defaultdict(list)  # when the bytes were read
    for path in folder.glob("receipts-*.txt"):
        for line in path.read_text().splitlines():
            seq, ms, *arrival = line.split()
            received[int(seq)].append(float(ms))
            arrived[int(seq)].append(float(arrival[0] if arrival else ms))
    last = [max(received[s]) for s in followers if received[s]]
    last_arrived = [max(arrived[s]) for s in followers if arrived[s]]
    median = [statistics.median(received[s]) for s in followers if received[s]]
    return {
        "broadcasts": len(followers),
        "followers": max(followers.values(), default=0),
        "expected": sum(followers.values()),
        "received": sum(len(received[s]) for s in followers),
        "short": sum(max(0, followers[s] - len(received[s])) for s in followers),
        "last_p50": statistics.median(last) if last else None,
        "last_p99": _nearest_rank(last, 99),
        "last_max": max(last) if last else None,
        "arrived_p50": statistics.median(last_arrived) if last_arrived else None,
        "arrived_p99": _nearest_rank(last_arrived, 99),
        "arrived_max": max(last_arrived) if last_arrived else None,
        "median_p50": statistics.median(median) if median else None,
    }


def machine() -> str:
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    redis_version = next((w[2:] for w in redis.split() if w.startswith("v=")), "?")
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("Django", "channels", "uvicorn", "locust")
    )
    return (
        f"{platform.machine()}, {cores} cores (shared), {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {packages}; Redis {redis_version}"
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def requests_table(rows: list[dict[str, str]]) -> list[str]:
    lines = [
        "| transport | name | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: (r["Type"], r["Name"])):
        lines.append(
            f"| {r['Type']} | {r['Name']} | {r['Request Count']} | {r['Failure Count']} "
            f"| {float(r['Requests/s']):.1f} | {r['50%']} | {r['95%']} | {r['99%']} "
            f"| {float(r['Max Response Time']):.0f} |"
        )
    return lines


def resources(run: Run, rows: list[dict[str, str]]) -> list[str]:
    """Reflexes per second and per CPU-second; who used the machine's CPU meanwhile."""
    if not run.wall:
        return []
    ours = run.server_cpu + run.locust_cpu + run.redis_cpu
    cores = (os.cpu_count() or 1) * run.wall
    lines = [
        "",
        "## Throughput and resources",
        "",
        f"- CPU seconds used during the {run.wall:.0f} s of load: demo processes "
        f"{run.server_cpu:.1f}, Locust {run.locust_cpu:.1f}, Redis {run.redis_cpu:.1f}; other "
        f"programs on the machine {max(0.0, run.machine_cpu - ours):.1f} (there were "
        f"{os.cpu_count()} cores x {run.wall:.0f} s = {cores:.0f}).",
    ]
    if run.rss_kb:
        rss = ", ".join(f"{k // 1024} MiB" for k in run.rss_kb)
        lines.append(f"- Demo processes' RSS at the end: {rss}.")
    done = sum(
        int(r["Request Count"]) - int(r["Failure Count"]) for r in rows if r["Name"] in REFLEX_KINDS
    )
    if done:
        workers = run.settings.get("workers", 1)
        lines.append(
            f"- Reflexes answered: {done} in {run.wall:.1f} s: **{done / run.wall:.0f}/s**, "
            f"{done / run.wall / workers:.0f}/s per demo process ({workers})."
        )
    if done and run.server_cpu:
        lines.append(
            f"- Reflexes per CPU-second of the demo processes: **{done / run.server_cpu:.0f}** "
            "(what one process would do with a core to itself, if it scaled linearly)."
        )
    return lines


def broadcast(folder: Path) -> list[str]:
    d = deliveries(folder)
    if d is None:
        return []
    return [
        "",
        "## Broadcast fan-out",
        "",
        f"- {d['broadcasts']} broadcasts to up to {d['followers']} followers: "
        f"{d['received']} receipts of {d['expected']} expected, **{d['short']} missing**.",
        f"- Last delivery per broadcast (publish -> the last follower has it): "
        f"p50 {_ms(d['last_p50'])} ms, p99 {_ms(d['last_p99'])} ms, max {_ms(d['last_max'])} ms; "
        f"median delivery p50 {_ms(d['median_p50'])} ms.",
        f"- The same, timed when the last follower's bytes were read (before Locust decodes "
        f"and records them, behind the other followers of its process): "
        f"p50 {_ms(d['arrived_p50'])} ms, p99 {_ms(d['arrived_p99'])} ms, "
        f"max {_ms(d['arrived_max'])} ms.",
    ]


def memory_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "",
        "## Memory per idle connection",
        "",
        "| transport | connections | RSS, none (MiB) | RSS, first W (MiB) | RSS, all (MiB) "
        "| KiB per connection (W -> all) | KiB per connection (none -> all) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        n, w = m["connections"], m["warm"]
        lines.append(
            f"| {m['transport']} | {n} | {m['rss0'] / 1024:.1f} | {m['rss_warm'] / 1024:.1f} (W={w}) "
            f"| {m['rss_all'] / 1024:.1f} | **{(m['rss_all'] - m['rss_warm']) / max(1, n - w):.1f}** "
            f"| {(m['rss_all'] - m['rss0']) / max(1, n):.1f} |"
        )
    return lines


def markdown(run: Run) -> str:
    rows = stats(run.folder)
    settings = ", ".join(f"{k}={v}" for k, v in run.settings.items())
    lines = [
        f"# Load test {run.folder.name}: {run.settings.get('scenario')}",
        "",
        f"Command: `{run.command}`",
        "",
        f"Machine: {machine()}.",
        "",
        f"Settings: {settings}. Demo processes: uvicorn (one process each), DEBUG off, Redis "
        "bus, SQLite; database sessions unless `DEMO_SESSION_ENGINE` says otherwise.",
        "",
        "## Requests",
        "",
        "Reflex rows: send -> the answer with its reflex id. `connect`: negotiate + open + "
        "ping/pong proof. `broadcast`: publish -> receipt. Locust rounds percentiles "
        "(whole ms below 100 ms, 10 ms steps below 1 s).",
        "",
        *requests_table(rows),
        *resources(run, rows),
        *broadcast(run.folder),
        *memory_table(run.memory),
    ]
    problems = failures(run.folder)
    lines += ["", "## Failures", ""]
    if not problems:
        lines.append("None.")
    for p in problems:
        lines.append(f"- {p['Method']} {p['Name']}: {p['Occurrences']} x {p['Error'][:300]}")
    return "\n".join([*lines, ""])
