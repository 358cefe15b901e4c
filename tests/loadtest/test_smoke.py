"""The load test works end to end: ``loadtest/run.py`` starts Redis and the demo, runs
``locustfile.py`` headless on every transport, and writes Locust's CSV and a summary.

A few users for a few seconds, reflexes and broadcasts together (``--scenario mixed``):
enough to prove every user class negotiates, proves its transport, gets answers to its
reflexes and receives broadcasts, with nothing failed or lost. The numbers are not
judged here; ``loadtest/results/`` records them.
"""

from __future__ import annotations

import csv
import subprocess
import sys
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
    ]  # fmt: skip
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=100)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return out


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
            if r["Type"] == transport and r["Name"] in ("page", "selector", "nothing")
        ]
        assert sum(int(r["Request Count"]) for r in reflexes) > 0, f"no reflex on {transport}"


@pytest.mark.timeout(120)
def test_every_follower_receives_every_broadcast(run: Path) -> None:
    stats = rows(run)
    for transport in TRANSPORTS:
        received = [r for r in stats if r["Type"] == transport and r["Name"] == "broadcast"]
        assert received and int(received[0]["Request Count"]) > 0, f"no broadcast on {transport}"
    summary = (run / "summary.md").read_text()
    assert "**0 missing**" in summary, summary
    assert (run / "locust.html").exists()
