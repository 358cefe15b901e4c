"""The in-memory bus: one process, a bounded history per stream, and all of them under a
byte budget (``HISTORY_MAX_BYTES``: the oldest messages of the least lately written
streams go first; a client resuming past them is told to re-render).

The embedded default for the demo and single-process deployments. A process that holds
no connections (a Celery worker) cannot reach browsers through it: use the Redis bus.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sockpuppet.bus.base import Bus, Message, Subscription
from sockpuppet.protocol import encode

logger = logging.getLogger("sockpuppet.bus")

NO_LISTENERS = (
    "Broadcast on the memory bus from a process that holds no connections (a Celery "
    "worker, a management command?): no browser can receive it. Set SOCKPUPPET['BUS'] "
    "to a Redis URL so every process shares one bus."
)

# Set while ``sockpuppet.testing.ReflexClient`` runs a reflex: a test process holds no
# connections, and its broadcasts are recorded for the test instead.
EXPECTING_NO_LISTENERS: ContextVar[bool] = ContextVar("expecting_no_listeners", default=False)

# Claims remembered at most (the oldest go first): far more than one process runs in a
# client's retry window (a minute).
CLAIMS_KEPT = 1_000_000


@dataclass
class _History:
    """A stream's last ``maxlen`` messages, oldest first, in a list: most streams (a
    connection's own) hold a message or two, for which a deque's first block (~0.6 KB)
    is most of a connection's history."""

    maxlen: int
    position: int = 0
    touched: float = field(default_factory=time.monotonic)
    entries: list[Message] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # each entry's, in characters of JSON
    size: int = 0  # theirs together

    def append(self, message: Message, size: int) -> int:
        """Keep ``message``; returns how much the history grew (less what made room)."""
        self.entries.append(message)
        self.sizes.append(size)
        self.size += size
        if len(self.entries) > self.maxlen:
            return size - self.drop_oldest()
        return size

    def drop_oldest(self) -> int:
        """Forget the oldest entry (moves at most HISTORY_LENGTH pointers); its size."""
        del self.entries[0]
        dropped = self.sizes.pop(0)
        self.size -= dropped
        return dropped


class MemoryBus(Bus):
    """Streams and claims in dicts of this process."""

    def __init__(self, url: str = "memory", **options: Any) -> None:
        super().__init__(url, **options)
        # Least lately written first: where the byte budget takes from.
        self._streams: OrderedDict[str, _History] = OrderedDict()
        self._size = 0  # of every history, in characters of JSON
        self._claims: OrderedDict[str, float] = OrderedDict()
        self._appends = 0
        # The loop of this process's connections, known once one subscribes.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warned = False
        # This process's lifetime: a client's cursor from before a restart resumes nothing.
        self._epoch = time.time_ns() // 1000

    async def subscribe(
        self, streams: Iterable[str], cursor: dict[str, int] | None = None
    ) -> Subscription:
        self._loop = asyncio.get_running_loop()
        return await super().subscribe(streams, cursor)

    def publish_sync(self, stream: str, message: Message) -> Message:
        """From any thread: hand the publish to the loop that serves the connections."""
        if self._loop is not None and self._loop.is_running():
            return asyncio.run_coroutine_threadsafe(
                self.publish(stream, message), self._loop
            ).result()
        if not self._warned and not EXPECTING_NO_LISTENERS.get():
            self._warned = True
            logger.warning(NO_LISTENERS)
        return super().publish_sync(stream, message)

    async def _append(self, stream: str, message: Message, durable: bool) -> Message:
        if not durable:
            return message
        history = self._streams.get(stream)
        if history is None:
            history = self._streams[stream] = _History(self.history_length)
        else:
            self._streams.move_to_end(stream)
        history.position += 1
        history.touched = time.monotonic()
        published = {**message, "stream": stream, "position": history.position}
        # The transports send this very dict: its encoding is remembered, not made twice.
        self._size += history.append(published, len(encode(published)))
        if self._size > self.history_bytes:
            self._make_room(stream)
        self._appends += 1
        if self._appends % 1000 == 0:
            self._expire()
        return published

    async def _read(self, stream: str, after: int) -> tuple[list[Message] | None, int]:
        history = self._streams.get(stream)
        if history is None:
            return ([] if after == 0 else None), 0
        entries = history.entries
        oldest = entries[0]["position"] if entries else history.position + 1
        if after + 1 < oldest and after < history.position:
            return None, history.position
        # Positions are consecutive: what follows ``after`` is the last entries (a poll
        # that is up to date reads none of them).
        missing = min(history.position - after, len(entries))
        return (entries[-missing:] if missing > 0 else []), history.position

    async def claim(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        expires = self._claims.get(key)
        if expires is not None and expires > now:
            return False
        self._claims.pop(key, None)  # expired: claimed afresh, now the newest
        self._claims[key] = now + ttl
        # Oldest first, as they expire (one TTL for all claims): each claim costs O(1),
        # however many are held (every reflex of the last HISTORY_TTL seconds).
        while self._claims:
            oldest, expires = next(iter(self._claims.items()))
            if expires > now and len(self._claims) <= CLAIMS_KEPT:
                break
            del self._claims[oldest]
        return True

    async def epoch(self) -> int:
        return self._epoch

    async def release(self, key: str) -> None:
        self._claims.pop(key, None)

    def _make_room(self, keep: str) -> None:
        """Forget the oldest messages of the least lately written streams until the
        histories fit ``history_bytes`` again; the newest message (of ``keep``) stays,
        whatever its size. An emptied stream keeps its position (a client resuming from
        before is told to re-render) and moves last, out of the way."""
        emptied = []
        for name, history in self._streams.items():
            floor = 1 if name == keep else 0
            while len(history.entries) > floor and self._size > self.history_bytes:
                self._size -= history.drop_oldest()
            if not history.entries:
                emptied.append(name)
            if self._size <= self.history_bytes:
                break
        for name in emptied:
            self._streams.move_to_end(name)
        self._streams.move_to_end(keep)

    def _expire(self) -> None:
        """Forget streams nobody follows that were idle longer than the history TTL."""
        horizon = time.monotonic() - self.history_ttl
        for name in [
            n for n, h in self._streams.items() if h.touched < horizon and n not in self._followers
        ]:
            self._size -= self._streams.pop(name).size
