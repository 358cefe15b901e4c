"""One command for a load run: start everything, run Locust headless, write the report.

    python -m loadtest.run --users 60 --spawn-rate 60 --duration 30s --workers 1 \\
        --transports websocket,sse,longpoll --scenario reflex --morphs page

Starts Redis, ``--workers`` demo processes on the Redis bus (and nginx with ``--nginx``)
from a temporary folder, runs ``locust -f locustfile.py --headless`` for the ramp
(users / spawn rate) plus ``--duration``, and writes Locust's CSV (``locust_*.csv``) and
HTML report (``locust.html``), the servers' logs and a one-page ``summary.md`` into
``loadtest/out/<timestamp>-<scenario>/``; then stops every process it started, by pid.

Scenarios: ``reflex`` (users fire reflexes), ``broadcast`` (users listen while
``loadtest/publisher.py`` broadcasts every ``--interval`` s), ``mixed`` (both), ``idle``
(per transport, fresh servers: RSS with none, a few and ``--users`` idle connections;
``loadtest/memory.py``). ``--settings loadtest.settings`` runs the demo with SQLite set
up for concurrent writers; ``--env`` passes variables to the demo processes, e.g.
``--env DEMO_SESSION_ENGINE=django.contrib.sessions.backends.signed_cookies``.
Results worth keeping are written up in ``loadtest/results/``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import resource
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from loadtest import memory, procstat, stack
from loadtest.command import TAGS, USER_CLASSES, locust_command, locust_env, stack_options
from loadtest.report import Run, markdown
from tests.support.processes import stop

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "loadtest" / "out"


def seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--users", type=int, default=30, help="Locust users (idle: connections per transport)")
    add("--spawn-rate", type=float, default=30)
    add("--duration", default="30s", help="measured time after the ramp, e.g. 30s, 1m")
    add("--workers", type=int, default=1, help="demo server processes")
    add("--processes", type=int, default=1, help="Locust processes (--processes of locust)")
    add("--transports", default="websocket,sse,longpoll")
    add("--scenario", choices=sorted(TAGS), default="reflex")
    add(
        "--morphs",
        default="page,selector,nothing",
        help="reflex kinds users pick from (page, selector, nothing, noop)",
    )
    add("--wait", type=float, default=0.5, help="mean seconds between a user's reflexes")
    add("--interval", type=float, default=1.0, help="seconds between broadcasts")
    add("--timeout", type=float, default=30.0, help="seconds a reflex may take")
    add("--nginx", action="store_true", help="nginx in front, round-robin over the workers")
    add("--settings", default="demo.settings", help="settings module of the demo processes")
    add("--env", action="append", default=[], metavar="KEY=VALUE", help="for the demo processes")
    add("--out", type=Path, help="folder for the results (default loadtest/out/<timestamp>)")
    options = parser.parse_args(argv)
    options.transports = [t.strip() for t in options.transports.split(",") if t.strip()]
    unknown = set(options.transports) - set(USER_CLASSES)
    if unknown:
        parser.error(f"unknown transports: {', '.join(sorted(unknown))}")
    return options


def settings(options: argparse.Namespace) -> dict[str, object]:
    keys = (
        "scenario",
        "users",
        "spawn_rate",
        "duration",
        "workers",
        "processes",
        "nginx",
        "settings",
    )
    chosen: dict[str, object] = {k: getattr(options, k) for k in keys}
    chosen["transports"] = "+".join(options.transports)
    if options.env:
        chosen["env"] = " ".join(options.env)
    if options.scenario in ("reflex", "mixed"):
        chosen.update(morphs=options.morphs, wait=options.wait)
    if options.scenario in ("broadcast", "mixed"):
        chosen["interval"] = options.interval
    return chosen


def load(options: argparse.Namespace, folder: Path, run: Run) -> None:
    """The reflex, broadcast and mixed scenarios: one Locust run against one stack."""
    ramp = options.users / options.spawn_rate
    total = ramp + seconds(options.duration)
    with stack.running(folder / "logs", **stack_options(options, options.transports)) as running:
        env = locust_env(options, folder, running)
        publisher = None
        if options.scenario in ("broadcast", "mixed"):
            publisher = subprocess.Popen(
                [sys.executable, "-m", "loadtest.publisher", "--expect", str(options.users),
                 "--interval", str(options.interval), "--duration", str(total - 2),
                 "--patience", str(ramp + 20),
                 "--log", str(folder / "published.txt")],
                cwd=ROOT, env=env,
            )  # fmt: skip
        try:
            _measure(options, folder, run, running, env, total)
        finally:
            if publisher is not None:
                stop(publisher)


def _measure(
    options: argparse.Namespace,
    folder: Path,
    run: Run,
    running: stack.Stack,
    env: dict[str, str],
    total: float,
) -> None:
    """Locust for the whole run, and the CPU each part used meanwhile."""
    server_cpu = sum(procstat.cpu_seconds(p) for p in running.pids)
    redis_cpu = procstat.cpu_seconds(running.redis.process.pid)  # type: ignore[union-attr]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = procstat.busy_seconds()
    started = time.monotonic()
    forks = _locust(locust_command(options, folder, running.hosts, total), env, folder, total)
    run.wall = time.monotonic() - started
    run.machine_cpu = procstat.busy_seconds() - busy
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.locust_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    run.locust_cpu += forks
    run.server_cpu = sum(procstat.cpu_seconds(p) for p in running.pids) - server_cpu
    run.redis_cpu = procstat.cpu_seconds(running.redis.process.pid) - redis_cpu  # type: ignore[union-attr]
    run.rss_kb = [procstat.rss_kb(p) for p in running.pids]


def _locust(command: list[str], env: dict[str, str], folder: Path, total: float) -> float:
    """Run Locust to its end; returns the CPU seconds of its forked workers, if any (the
    main process's own come with ``RUSAGE_CHILDREN``; its forks are not reaped into it)."""
    workers: dict[int, float] = {}
    with (folder / "locust.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + total + 120
            while process.poll() is None and time.monotonic() < deadline:
                for pid in procstat.children(process.pid):
                    with contextlib.suppress(OSError):
                        workers[pid] = procstat.cpu_seconds(pid)
                time.sleep(0.5)  # sampling the workers' CPU time while they run
        finally:
            stop(process)
    return sum(workers.values())


def main(argv: list[str] | None = None) -> Path:
    options = parse(argv)
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    folder = options.out or OUT / f"{stamp}-{options.scenario}"
    folder.mkdir(parents=True, exist_ok=True)
    files = stack.raise_open_files()
    command = "python -m loadtest.run " + shlex.join(argv if argv is not None else sys.argv[1:])
    run = Run(folder, command, {**settings(options), "open_files": files})
    if options.scenario == "idle":
        run.memory = memory.measure(options, folder)
    else:
        load(options, folder, run)
    (folder / "summary.md").write_text(markdown(run))
    print(f"{folder / 'summary.md'}")
    return folder


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: every process started is stopped on the way


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    main()
