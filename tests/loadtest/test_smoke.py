"""The load test works end to end: ``loadtest/run.py`` starts Redis and the demo, runs
``locustfile.py`` headless on every transport, and writes Locust's CSV and a summary.

A few users for a few seconds, reflexes and broadcasts together (``--scenario mixed``):
enough to prove every user class negotiates, proves its transport, gets answers to its
reflexes and receives broadcasts, with nothing failed or lost. The numbers are not
judged here; ``loadtest/results/`` records them.
"""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRANSPORTS = ("websocket", "sse", "longpoll")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("loadtest")
    command = [
        sys.executable, "-m", "loadtest.run",
        "--users", "6", "--spawn-rate", "6", "--duration", "6s", "--workers", "1",
        "--transports", ",".join(TRANSPORTS), "--scenario", "mixed",
        "--wait", "0.2", "--interval", "0.3", "--timeout", "10", "--out", str(out),
        "--morphs", "page,selector,nothing,noop",
    ]  # fmt: skip
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=100)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return out


def table(module: str, *args: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    """Run a benchmark module briefly; its output and the cells of its table's rows for
    the transports it ran (``--transports``)."""
    finished = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    transports = tuple(f"| {t} |" for t in args[args.index("--transports") + 1].split(","))
    rows = [
        line.strip("| ").split(" | ")
        for line in finished.stdout.splitlines()
        if line.startswith(transports)
    ]
    return finished, rows


def rows(out: Path) -> list[dict[str, str]]:
    with (out / "locust_stats.csv").open() as f:
        return [row for row in csv.DictReader(f) if row["Name"] != "Aggregated"]


@pytest.mark.timeout(120)
def test_every_transport_answers_reflexes_without_failures(run: Path) -> None:
    stats = rows(run)
    failures = {(r["Type"], r["Name"]): int(r["Failure Count"]) for r in stats}
    assert not any(failures.values()), (run / "summary.md").read_text()
    for transport in TRANSPORTS:
        reflexes = [
            r
            for r in stats
            if r["Type"] == transport and r["Name"] in ("page", "selector", "nothing", "noop")
        ]
        assert sum(int(r["Request Count"]) for r in reflexes) > 0, f"no reflex on {transport}"
    kinds = {r["Name"] for r in stats}
    assert {"page", "selector", "nothing", "noop"} <= kinds, f"kinds run: {sorted(kinds)}"


@pytest.mark.timeout(120)
def test_every_follower_receives_every_broadcast(run: Path) -> None:
    stats = rows(run)
    for transport in TRANSPORTS:
        received = [r for r in stats if r["Type"] == transport and r["Name"] == "broadcast"]
        assert received and int(received[0]["Request Count"]) > 0, f"no broadcast on {transport}"
    summary = (run / "summary.md").read_text()
    assert "**0 missing**" in summary, summary
    assert "timed when the last follower's bytes were read" in summary, summary
    # Each receipt: seq, publish -> handled, publish -> its bytes read (never later).
    receipts = [
        line.split()
        for path in run.glob("receipts-*.txt")
        for line in path.read_text().splitlines()
    ]
    assert receipts and all(len(r) == 3 and float(r[2]) <= float(r[1]) for r in receipts)
    assert (run / "locust.html").exists()


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue  # the thread ended meanwhile
        for child in children:
            found |= {child, *_descendants(child)}
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.timeout(120)
def test_a_run_stopped_midway_stops_everything_it_started(tmp_path: Path) -> None:
    """SIGTERM (a CI job cancelled, a `kill`) must not leave Locust, the publisher, the
    demo or Redis running: the run unwinds and stops each by pid."""
    command = [
        sys.executable, "-m", "loadtest.run",
        "--users", "3", "--spawn-rate", "3", "--duration", "60s", "--workers", "1",
        "--transports", "websocket", "--scenario", "broadcast", "--interval", "0.5",
        "--out", str(tmp_path),
    ]  # fmt: skip
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        run = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=output)
        published = tmp_path / "published.txt"
        deadline = time.monotonic() + 60
        while not (published.exists() and published.read_text().strip()):
            assert run.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "no broadcast within 60 s"
            time.sleep(0.2)  # another process's file: nothing to await
        started = _descendants(run.pid)
        assert len(started) >= 4  # Redis, the demo, the publisher, Locust
        run.send_signal(signal.SIGTERM)
        assert run.wait(60) == 128 + signal.SIGTERM
    left = [pid for pid in started if _alive(pid)]
    assert not left, f"still running after the run ended: {left}"


@pytest.mark.timeout(180)
def test_the_websocket_memory_benchmark_measures_compression_on_and_off() -> None:
    """``loadtest.websocket_memory``: a browser-like client gets permessage-deflate from
    uvicorn by default and not with the switch docs/deployment.md gives; a client that
    offers nothing (as the load test's) never gets it."""
    command = [
        sys.executable,
        "-m",
        "loadtest.websocket_memory",
        "--connections",
        "6",
        "--warm",
        "2",
    ]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert finished.returncode == 0, finished.stderr[-3000:]
    table = [line for line in finished.stdout.splitlines() if line.startswith("| ")][1:]
    extensions = {line.split(" | ")[0][2:]: line.split(" | ")[2] for line in table}
    assert extensions["browser"].startswith("permessage-deflate"), finished.stdout
    assert extensions["browser, deflate off"] == "none", finished.stdout
    assert extensions["no offer"] == "none", finished.stdout


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_the_morph_benchmark_times_both_morphers_on_both_pages() -> None:
    """``loadtest.morph_cost`` bundles the client's morph beside morphdom, and times both on
    the demo page and the enlarged one; a morph that broke the page would fail it."""
    command = [sys.executable, "-m", "loadtest.morph_cost", "--samples", "2", "--batch", "2"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = [line.split(" | ") for line in finished.stdout.splitlines() if line.startswith("| ")]
    measured = {(row[0][2:], row[2]) for row in rows[1:]}
    assert measured == {
        (page, name) for page in ("small", "large") for name in ("morphdom", "sockpuppet")
    }, finished.stdout


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_the_browser_latency_benchmark_times_baseline_ping_and_click_on_every_transport() -> None:
    """``loadtest.browser_latency`` drives the demo in Chromium beside the bare ASGI app:
    every transport gets its three rows and its two differences from the baseline. With
    ``--bus redis`` (a redis-server of its own; the memory bus, the default, is the steps
    benchmark's below), as a deployment of several processes runs."""
    command = [
        *(sys.executable, "-m", "loadtest.browser_latency", "--bus", "redis"),
        *("--clicks", "4", "--rounds", "2", "--gap", "5"),
    ]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=230)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = [line.split(" | ") for line in finished.stdout.splitlines() if line.startswith("| ")]
    samples = {(row[0][2:], row[1]): row[2] for row in rows if len(row) == 7 and row[2].isdigit()}
    assert samples == {
        (transport, what): "4"
        for transport in ("websocket", "sse", "longpoll")
        for what in ("bare ASGI baseline", "ping (no state, no morph)", "reflex click -> DOM")
    }, finished.stdout
    differences = [row for row in rows if len(row) == 3 and row[1].endswith(" ms")]
    assert [row[0][2:] for row in differences] == ["websocket", "sse", "longpoll"], finished.stdout
    assert "Each round trip starts 5 ms after the last one ended." in finished.stdout
    assert "uvicorn, one process, redis bus," in finished.stdout


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_the_session_backends_benchmark_clicks_the_counter_on_each_engine() -> None:
    """``loadtest.session_backends`` serves the demo once per session engine and clicks
    each one's counter in turn, every transport asked for."""
    command = [
        *(sys.executable, "-m", "loadtest.session_backends", "--engines", "db,cached_db"),
        *("--clicks", "4", "--rounds", "2", "--transports", "websocket,longpoll"),
    ]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = [line.split(" | ") for line in finished.stdout.splitlines() if line.startswith("| ")]
    samples = {(row[0][2:], row[1]): row[2] for row in rows[1:]}
    assert samples == {
        (transport, engine): "4"
        for transport in ("websocket", "longpoll")
        for engine in ("db", "cached_db")
    }, finished.stdout


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_the_steps_benchmark_splits_the_long_poll_round_trips() -> None:
    """``loadtest.steps`` times each step of a long-poll round trip from Chromium's
    Resource Timing and the page's side of the poll, for the baseline, the Ping and the
    counter, in the order they happen."""
    finished, rows = table(
        "loadtest.steps", "--transports", "longpoll", "--clicks", "2", "--gap", "5"
    )
    assert [row[1] for row in rows] == ["bare ASGI baseline", "ping", "counter click -> DOM"]
    for row in rows:
        issued, sent, _posted, _polled, read, at_page, ended, done = row[3:11]
        assert row[2] == "2" and 0 <= float(issued) <= float(sent) <= float(done), finished.stdout
        # Each step's p50 is over the round trips that saw it, so only steps every round
        # trip has are compared: a whole body is answered as it reaches the page, and the
        # request's end (Chromium's responseEnd, "poll read"; "poll ended at page") may
        # come after done.
        assert float(sent) <= float(at_page) <= float(done), finished.stdout
        for late in (read, ended):
            assert late == "-" or float(late) >= float(sent), finished.stdout
    # Sockpuppet's poll had its headers before the click: only the baseline's start shows.
    assert [row[6] == "-" for row in rows] == [False, True, True], finished.stdout


@pytest.mark.timeout(120)
def test_the_after_idle_benchmark_times_each_call_after_each_pause() -> None:
    """``loadtest.after_idle`` times Django's GET, the Ping and the counter reflexes in one
    process after each pause; a reflex answering an error would fail it."""
    command = [sys.executable, "-m", "loadtest.after_idle", "--samples", "3"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = [line.split(" | ") for line in finished.stdout.splitlines() if line.startswith("| ")]
    measured = {(row[0][2:], row[1], row[2]) for row in rows[1:]}
    assert measured == {
        (what, pause, "3")
        for what in (
            "Django GET / (baseline)",
            "ping reflex (no morph)",
            "counter +1 reflex (page morph)",
        )
        for pause in ("0", "3", "50")
    }, finished.stdout


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_the_cpu_benchmark_gives_each_party_its_share_of_every_round_trip() -> None:
    """``loadtest.cpu_per_click`` charges each side's round trips with the CPU the server's
    loop, its other threads and Chromium used: a reflex runs in a thread of its own, the
    bare echo in none, and every round trip costs the browser something."""
    finished, rows = table(
        "loadtest.cpu_per_click",
        *("--transports", "websocket,longpoll", "--clicks", "6", "--rounds", "2"),
    )
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (transport, side, "6")
        for transport in ("websocket", "longpoll")
        for side in ("bare ASGI baseline", "ping (no state, no morph)", "reflex click -> DOM")
    ], finished.stdout
    for _transport, side, _samples, p50, loop, threads, browser in rows:
        assert float(p50) > 0 and float(loop) > 0 and float(browser) > 0, finished.stdout
        if side == "reflex click -> DOM":
            assert float(threads) > 0, finished.stdout  # the reflex ran in a thread
