"""The soak test (``loadtest/soak/``) works, and its invariant checker can fail.

A short run: 12 clients on every transport, two demo processes behind nginx, reflexes
and broadcasts, every client cutting its transport every few seconds and one storm
cutting half of them at once; nothing lost, duplicated or out of order. The checker
is then fed made-up records, so a lost, a duplicated and an out-of-order message are
each caught: a checker that always says yes would pass the run too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtest.soak.checks import check
from loadtest.soak.record import Record

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("soak")
    command = [
        sys.executable, "-m", "loadtest.soak",
        "--clients", "12", "--workers", "2", "--duration", "8s", "--warmup", "2s",
        "--sample-every", "2s", "--think", "0.3-1", "--interval", "0.2-0.4",
        "--drop-every", "2-4", "--storms", "1", "--drain", "20s", "--timeout", "15",
        "--out", str(out),
    ]  # fmt: skip
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=150)
    result = out / "result.json"
    assert result.exists(), finished.stderr[-3000:]
    return {"result": json.loads(result.read_text()), "summary": finished.stdout}


@pytest.mark.timeout(180)
def test_every_reflex_and_broadcast_arrives_once_in_order(run: dict[str, Any]) -> None:
    result = run["result"]
    assert result["messages"] == [], run["summary"]
    verdict = result["verdict"]
    assert verdict["answered"] == verdict["reflexes_sent"] > 0
    assert verdict["delivered"] == verdict["expected"] > 0
    assert result["reconnects"].get("drop", 0) > 0, "no client cut its transport"
    assert result["reconnects"].get("storm", 0) > 0, "no storm"


@pytest.mark.timeout(180)
def test_nothing_grows_and_nothing_is_left_behind(run: dict[str, Any]) -> None:
    assert run["result"]["resources"] == [], run["summary"]


# The checker, on made-up records: broadcasts 0..4 at positions 10..14.
PUBLISHED = [(seq, 10 + seq) for seq in range(5)]


def record(seqs: list[int], answers: list[str] | None = None, joined: int = 10) -> Record:
    """A client that joined after broadcast 0, sent reflexes a and b, got ``answers``."""
    got = ["a", "b"] if answers is None else answers
    return Record(
        "websocket-0",
        "websocket",
        sent={"a": "nothing", "b": "page"},
        answers=[(r, *{"a": ("nothing", None), "b": ("operations", "page")}[r]) for r in got],
        joined=joined,
        seqs=seqs,
        connects=1,
    )


def test_the_checker_passes_a_clean_record() -> None:
    verdict = check([record([1, 2, 3, 4])], PUBLISHED)
    assert verdict.failures == []
    assert (verdict.expected, verdict.delivered, verdict.answered) == (4, 4, 2)


@pytest.mark.parametrize(
    ("seqs", "count", "failure"),
    [
        ([1, 2, 4], "broadcasts_lost", "1 broadcasts lost"),
        ([1, 2, 2, 3, 4], "broadcasts_duplicated", "1 broadcasts duplicated"),
        ([1, 3, 2, 4], "out_of_order", "1 broadcasts out of order"),
        ([0, 1, 2, 3, 4], "unexpected", "1 broadcasts not published"),
    ],
    ids=["lost", "duplicated", "out-of-order", "before-joining"],
)
def test_the_checker_catches_a_broadcast(seqs: list[int], count: str, failure: str) -> None:
    verdict = check([record(seqs)], PUBLISHED)
    assert getattr(verdict, count) == 1
    assert verdict.failures == [failure]


@pytest.mark.parametrize(
    ("answers", "failure"),
    [
        (["a"], "1 reflexes lost"),
        (["a", "b", "a"], "1 reflexes answered twice"),
    ],
    ids=["lost", "duplicated"],
)
def test_the_checker_catches_a_reflex(answers: list[str], failure: str) -> None:
    verdict = check([record([1, 2, 3, 4], answers)], PUBLISHED)
    assert verdict.failures == [failure]


def test_the_checker_catches_a_wrong_answer_and_a_resync() -> None:
    wrong = record([1, 2, 3, 4])
    wrong.answers[1] = ("b", "nothing", None)  # a page morph answered by nothing
    wrong.resyncs.append("n.soak -> 14: cannot resume")
    assert check([wrong], PUBLISHED).failures == ["1 wrong answers", "1 resyncs"]
