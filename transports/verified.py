"""A short memory of the tokens this process verified, so the HTTP transports' frequent
requests (each ``POST send``, each poll) need not load the session every time.

A token is remembered with the exact session cookie and ``streams`` parameter (by its
digest) it came with, for a minute: a long-poll renewing every second would otherwise load its session
every few polls (a WebSocket or an SSE stream is verified once, as it opens, and stays
open for hours). A new session cookie (login, logout, a flushed session) is a new key,
so it is verified afresh; and a reflex always runs with the session as it is now,
loaded by Django's middleware, never with anything remembered here. Only what a client's
own requests repeat is remembered (``authenticate``): a request naming streams it may not
follow is verified every time, so junk sent in a loop takes no memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Seconds a verification is trusted, and how many are kept (the oldest go first).
TTL = 60.0
LIMIT = 10_000

Key = tuple[str, str, bytes]  # token, session cookie, digest of the streams parameter


@dataclass(frozen=True)
class Verified:
    """What authenticating a token found: who the connection is and what it follows."""

    connection_id: str
    extra_streams: tuple[str, ...]
    notices: tuple[dict[str, Any], ...]
    owner: str


class VerifiedTokens:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[Key, tuple[float, Verified]] = {}

    def get(self, key: Key) -> Verified | None:
        found = self._seen.get(key)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._seen[key]
            return None
        return found[1]

    def forget(self, owner: str) -> None:
        """Forget every verification of ``owner``'s (a session stream): its session logged
        in or out, so the streams it may follow changed."""
        for key in [k for k, (_, v) in self._seen.items() if v.owner == owner]:
            del self._seen[key]

    def put(self, key: Key, verified: Verified) -> None:
        now = self._clock()
        self._seen.pop(key, None)  # re-inserted last: dicts keep insertion order
        self._seen[key] = (now + TTL, verified)
        # The oldest first (one TTL for all): what expired goes, not only when looked up.
        while self._seen:
            oldest = next(iter(self._seen))
            if self._seen[oldest][0] > now and len(self._seen) <= LIMIT:
                break
            del self._seen[oldest]

    def __len__(self) -> int:
        return len(self._seen)


verified_tokens = VerifiedTokens()
