"""A client's record: the client fills it, the checks and the report read it, and
``records.json`` keeps every client's."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Record:
    """What one client sent and saw; the invariants are checked on these alone."""

    name: str
    transport: str
    connection: str = ""  # its id: its own stream is ``c.<id>``
    sent: dict[str, str] = field(default_factory=dict)  # reflex id -> kind, in firing order
    answers: list[tuple[str, str, str | None]] = field(default_factory=list)  # id, type, morph
    joined: int | None = None  # the soak stream's position in the first welcome
    seqs: list[int] = field(default_factory=list)  # broadcasts, in arrival order
    resyncs: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # a stream's position skipping ahead
    again: int = 0  # messages at or below the cursor, delivered again (dropped unseen)
    notices: list[str] = field(default_factory=list)  # errors that answer no reflex
    connects: int = 0
    reconnects: dict[str, int] = field(default_factory=dict)  # by reason
    losses: list[str] = field(default_factory=list)  # why a transport failed
    failed_connects: list[str] = field(default_factory=list)
    resent: int = 0  # reflexes sent again after a reconnect
    late: int = 0  # answers that came after --timeout
    reflex_ms: list[int] = field(default_factory=list)  # first send -> answer
    broadcast_ms: list[int] = field(default_factory=list)  # publish -> receipt
