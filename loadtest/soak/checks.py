"""The invariants: on the clients' records (``check``) and on the resource samples
(``growth``, ``leftovers``). Each failure is a line of the summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from loadtest.soak.record import Record
from loadtest.soak.sampling import Sample
from loadtest.soak.workload import KINDS


@dataclass
class Verdict:
    """Counts over every client, and what broke (each item a failed invariant)."""

    clients: int = 0
    never_connected: int = 0
    reflexes_sent: int = 0
    answered: int = 0
    reflexes_duplicated: int = 0
    reflexes_lost: int = 0
    errors: int = 0
    wrong: int = 0  # an answer of another kind than the reflex's, or to a reflex never sent
    published: int = 0
    expected: int = 0
    delivered: int = 0
    broadcasts_lost: int = 0
    broadcasts_duplicated: int = 0
    out_of_order: int = 0
    unexpected: int = 0
    resyncs: int = 0
    gaps: int = 0
    again: int = 0
    failures: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def check(records: list[Record], published: list[tuple[int, int]]) -> Verdict:
    """Every reflex answered once, every broadcast since joining received once, in order."""
    verdict = Verdict(clients=len(records), published=len(published))
    for record in records:
        _check_reflexes(record, verdict)
        _check_broadcasts(record, published, verdict)
        verdict.resyncs += len(record.resyncs)
        verdict.gaps += len(record.gaps)
        verdict.again += record.again
        verdict.never_connected += record.connects == 0
        for problem in [*record.resyncs, *record.gaps, *record.notices]:
            verdict.examples.append(f"{record.name}: {problem}")
    counts = {
        "clients never connected": verdict.never_connected,
        "reflexes lost": verdict.reflexes_lost,
        "reflexes answered twice": verdict.reflexes_duplicated,
        "error answers": verdict.errors,
        "wrong answers": verdict.wrong,
        "broadcasts lost": verdict.broadcasts_lost,
        "broadcasts duplicated": verdict.broadcasts_duplicated,
        "broadcasts out of order": verdict.out_of_order,
        "broadcasts not published": verdict.unexpected,
        "resyncs": verdict.resyncs,
        "gaps in positions": verdict.gaps,
        "messages delivered again": verdict.again,
    }
    verdict.failures += [f"{n} {what}" for what, n in counts.items() if n]
    if not published:
        verdict.failures.append("nothing was published")
    return verdict


def _check_reflexes(record: Record, verdict: Verdict) -> None:
    answers = Counter(reflex_id for reflex_id, _, _ in record.answers)
    lost = [reflex_id for reflex_id in record.sent if not answers[reflex_id]]
    verdict.reflexes_sent += len(record.sent)
    verdict.answered += len(record.sent) - len(lost)
    verdict.reflexes_lost += len(lost)
    verdict.reflexes_duplicated += sum(n - 1 for n in answers.values())
    for reflex_id in lost[:3]:
        verdict.examples.append(f"{record.name}: reflex {reflex_id} never answered")
    for reflex_id, kind, morph in record.answers:
        expected = KINDS[record.sent[reflex_id]][3] if reflex_id in record.sent else None
        verdict.errors += kind == "error"
        if (kind, morph) != expected and kind != "error":
            verdict.wrong += 1
            verdict.examples.append(f"{record.name}: {kind} {morph} answered {reflex_id}")


def _check_broadcasts(record: Record, published: list[tuple[int, int]], verdict: Verdict) -> None:
    joined = record.joined
    expected = [seq for seq, position in published if joined is not None and position > joined]
    seen: set[int] = set()
    highest = -1
    for seq in record.seqs:
        if seq in seen:
            verdict.broadcasts_duplicated += 1
            verdict.examples.append(f"{record.name}: broadcast {seq} again")
            continue
        seen.add(seq)
        if seq < highest:
            verdict.out_of_order += 1
            verdict.examples.append(f"{record.name}: broadcast {seq} after {highest}")
        highest = max(highest, seq)
    lost = [seq for seq in expected if seq not in seen]
    verdict.expected += len(expected)
    verdict.delivered += len(seen)
    verdict.broadcasts_lost += len(lost)
    verdict.unexpected += len(seen - set(expected))
    if lost:
        verdict.examples.append(f"{record.name}: lost broadcasts {lost[:10]}")


def growth(series: list[Sample], samples: dict[str, Sample], max_rss: float) -> list[str]:
    """What grew that must not. Under load the counts move with what is in flight, so the
    lowest value of the last third of the samples is held against the highest of the first
    third: a leak lifts the floor, noise does not. Then what the clients left behind."""
    third = max(1, len(series) // 3)
    early, late = series[:third], series[-third:]
    # What, of a sample; the growth allowed: percent and slack. Tasks swing by a fifth with
    # the requests in flight; a task leaked per connection shows once the clients left.
    measures: dict[str, tuple[Any, float, int]] = {
        "RSS (KiB)": (lambda s: s.rss_kb, max_rss, 8192),
        "asyncio tasks": (lambda s: s.tasks, 25, 20),
        "Redis keys besides claims": (lambda s: [s.redis_keys], 0, 4),
    }
    failures = []
    for what, (of, percent, slack) in measures.items():
        for n in range(len(of(series[0]))):
            firsts, lasts = [of(s)[n] for s in early], [of(s)[n] for s in late]
            if None in firsts or None in lasts:
                failures.append(f"demo {n}: no {what} (the probe did not answer)")
                continue
            before, after = max(firsts), min(lasts)
            if after > before * (1 + percent / 100) + slack:
                failures.append(f"{what} grew: {before} -> {after} (process {n})")
    return failures + leftovers(samples["baseline"], samples["left"])


def leftovers(baseline: Sample, left: Sample) -> list[str]:
    """What the clients left behind in the servers once they were gone."""
    failures = []
    for n, subscriptions in enumerate(left.subscriptions):
        if subscriptions:
            streams = ", ".join(left.streams[n])
            failures.append(f"demo {n}: {subscriptions} bus subscriptions left ({streams})")
    for n, (before, after) in enumerate(zip(baseline.tasks, left.tasks, strict=True)):
        if before is None or after is None or after > before + 10:
            failures.append(f"demo {n}: {after} asyncio tasks left ({before} before any client)")
    return failures
