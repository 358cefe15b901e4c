"""The bus: streams with positions and history, and delivery to subscribers.

Routing is written once, here. A backend implements only how a message is appended to a
stream's history (getting its position) and announced to every process
(``_append``), how history is read back (``_read``), and, for cross-process backends,
how announcements arrive (``_listen``, feeding ``_arrived``). This mirrors
python-socketio's ``PubSubManager``: a write-only instance (a Celery worker) publishes
without holding connections.

Delivery to one subscription is in order and without duplicates: each subscription
remembers the last position it got per stream; a message with a later position than the
next one expected means one went missing on the way, so the gap is read from history; a
gap history cannot fill ends in ``resync``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync

logger = logging.getLogger("sockpuppet.bus")

Message = dict[str, Any]

# The cursor's entry for the lifetime of the bus's store (a Redis until it restarts empty,
# a memory bus's process): "@" starts no stream name. It travels in the welcome's
# ``since`` and comes back in the client's cursor like a stream's position; a cursor of
# another lifetime resumes nothing (its positions name messages the store lost, and new
# ones may reuse them): every stream in it is answered with ``resync``.
EPOCH = "@epoch"


# A cursor position meaning "of another lifetime of the store": resync.
_LOST = -1
# Past any position: a read after it returns only the stream's last position.
_END = 2**62


class SlowConsumer(Exception):
    """A subscription's queue filled up: its connection is cut and recovers by resume."""


class BusUnavailable(Exception):
    """The backend (Redis) cannot be reached; the message names it."""


class Subscription:
    """A connection's view of the bus: the streams it follows and a bounded queue."""

    def __init__(self, bus: Bus, max_queue: int) -> None:
        self.bus = bus
        self.positions: dict[str, int] = {}
        # Where following each stream began: the client's position, or the stream's last
        # one for a stream the client had none for. Transports tell the client (a
        # ``heartbeat`` with ``since``), so its next resume misses nothing in between.
        self.origin: dict[str, int] = {}
        # A deque and at most one waiting reader, not an asyncio.Queue: thousands of idle
        # subscriptions per process, and a Queue holds three deques and an Event (~2 KB).
        # The deque exists only while it holds messages (an empty one is ~0.7 KB).
        self._queue: deque[Message | None] | None = None
        self._reader: asyncio.Future[None] | None = None
        self._max_queue = max_queue
        self.overflowed = False
        # Streams whose history is being read: live messages wait here meanwhile.
        self._catching_up: dict[str, list[Message]] = {}

    async def get(self) -> Message:
        """The next message; raises ``SlowConsumer`` once the queue overflowed. One reader
        at a time (a connection's sender)."""
        while not self._queue:
            if self._reader is not None:
                raise RuntimeError("a subscription has one reader at a time")
            self._reader = asyncio.get_running_loop().create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        return self._take()

    def get_nowait(self) -> Message | None:
        return self._take() if self._queue else None

    def _take(self) -> Message:
        queue = self._queue
        assert queue, "nothing to take"
        message = queue.popleft()
        if not queue:
            self._queue = None
        if message is None:
            raise SlowConsumer("the connection fell too far behind")
        return message

    def put(self, message: Message) -> None:
        if self.overflowed:
            return
        if self._queue is None:
            self._queue = deque()
        if len(self._queue) >= self._max_queue:
            self.overflowed = True
            self._queue.append(None)
        else:
            self._queue.append(message)
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    async def offer(self, stream: str, message: Message) -> None:
        """Deliver a message of ``stream`` in order, once; fill a gap from history first."""
        buffered = self._catching_up.get(stream)
        if buffered is not None:
            buffered.append(message)
            return
        position = message.get("position")
        if position is None:
            self.put(message)
            return
        last = self.positions.get(stream, 0)
        if position <= last:
            return
        if position > last + 1:
            await self.bus._fill_gap(self, stream, last, position)
            if self.positions.get(stream, last) >= position:
                return
        self.positions[stream] = position
        self.put(message)

    async def add_streams(
        self, streams: Iterable[str], cursor: dict[str, int] | None = None
    ) -> None:
        await self.bus._follow(self, list(streams), cursor or {})

    async def remove_streams(self, streams: Iterable[str]) -> None:
        """Stop following ``streams``: nothing more of them is queued from now on."""
        for stream in streams:
            await self.bus._drop(self, stream)
            self.positions.pop(stream, None)
            self.origin.pop(stream, None)

    async def close(self) -> None:
        await self.bus._unfollow(self)


class Bus:
    """Publish to streams; subscribe to streams from a cursor."""

    write_only = False
    # True when the backend's own publishes come back through ``_listen`` (Redis pub/sub):
    # ``publish`` then leaves local delivery to them, so nothing arrives twice.
    hears_itself = False

    def __init__(
        self,
        url: str = "memory",
        *,
        history_length: int = 1000,
        history_ttl: float = 300,
        history_bytes: int = 128 * 1024 * 1024,
        max_queue: int = 1000,
    ) -> None:
        self.url = url
        self.history_length = history_length
        self.history_ttl = history_ttl
        self.history_bytes = history_bytes  # the memory bus's; Redis keeps to its maxmemory
        self.max_queue = max_queue
        self._followers: dict[str, set[Subscription]] = {}

    # The public face.

    async def publish(self, stream: str, message: Message, *, durable: bool = True) -> Message:
        """Append ``message`` to ``stream`` (durable: with a position and history) and deliver it."""
        published = await self._append(stream, message, durable)
        if not self.hears_itself:
            await self._arrived(stream, published)
        return published

    def publish_sync(self, stream: str, message: Message) -> Message:
        """``publish`` for sync code: a view or reflex in the server's thread pool, a Celery
        task, a management command. Backends bound to an event loop override it."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return async_to_sync(self.publish)(stream, message)
        raise RuntimeError("publish_sync() called from async code: use `await publish()` instead.")

    async def subscribe(
        self, streams: Iterable[str], cursor: dict[str, int] | None = None
    ) -> Subscription:
        """Follow ``streams``; first deliver what came after ``cursor``'s positions."""
        subscription = Subscription(self, self.max_queue)
        cursor = dict(cursor or {})
        epoch = await self.epoch()
        if cursor.pop(EPOCH, epoch) != epoch:
            cursor = dict.fromkeys(cursor, _LOST)
        subscription.origin[EPOCH] = epoch
        try:
            await subscription.add_streams(streams, cursor)
        except BaseException:  # cancelled (a long-poll's client left) or failed half-way:
            await asyncio.shield(subscription.close())  # the streams followed so far go too
            raise
        return subscription

    async def epoch(self) -> int:
        """The lifetime of the store: a number that changes when it lost its streams."""
        raise NotImplementedError

    async def last_position(self, stream: str) -> int:
        """The position of the last message published to ``stream`` (0 if none)."""
        _, last = await self._read(stream, _END)
        return last

    async def claim(self, key: str, ttl: float) -> bool:
        """True the first time ``key`` is claimed within ``ttl`` seconds (reflex id dedupe)."""
        raise NotImplementedError

    async def release(self, key: str) -> None:
        """Forget a claim of ``key``: its reflex did not run and will come again."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release the backend's resources."""

    # What backends implement.

    async def _append(self, stream: str, message: Message, durable: bool) -> Message:
        raise NotImplementedError

    async def _read(self, stream: str, after: int) -> tuple[list[Message] | None, int]:
        """Messages of ``stream`` after ``after`` (None when history no longer reaches
        back to ``after``) and the stream's last position."""
        raise NotImplementedError

    async def _listen(self, stream: str) -> None:
        """Receive announcements of ``stream`` from other processes; called for each new
        follower, it returns once they flow (so a catch-up read after it misses nothing)."""

    async def _unlisten(self, stream: str) -> None:
        """Stop receiving announcements of ``stream``."""

    def _last_heard(self, stream: str) -> int | None:
        """The last position of ``stream``, if this process knows it without a read: it
        has heard every announcement since it last read the stream. None if unsure."""
        return None

    # Routing, written once.

    async def _arrived(self, stream: str, message: Message) -> None:
        """A message of ``stream`` reached this process: offer it to local followers."""
        for subscription in tuple(self._followers.get(stream, ())):
            await subscription.offer(stream, message)

    async def _follow(
        self, subscription: Subscription, streams: list[str], cursor: dict[str, int]
    ) -> None:
        for stream in streams:
            if stream in subscription.positions or stream in subscription._catching_up:
                continue
            subscription._catching_up[stream] = []
            self._followers.setdefault(stream, set()).add(subscription)
            try:
                await self._listen(stream)
                await self._catch_up(subscription, stream, cursor.get(stream))
            except BaseException:
                await self._drop(subscription, stream)  # no follower left behind by a failure
                raise
            finally:
                waiting = subscription._catching_up.pop(stream)
            for message in waiting:
                await subscription.offer(stream, message)

    async def _catch_up(self, subscription: Subscription, stream: str, since: int | None) -> None:
        messages: list[Message] | None
        if since == _LOST:
            _, last = await self._read(stream, _END)
            reason = f"{stream} cannot resume: the bus lost its streams since (a restart)"
            self._resync(subscription, stream, last, reason)
            return
        if since is not None and since == self._last_heard(stream):
            messages, last = [], since  # nothing missed: no read (a long-poll's next poll)
        else:
            messages, last = await self._read(stream, 0 if since is None else since)
        subscription.origin[stream] = last if since is None else since
        if since is None:
            subscription.positions[stream] = last
            return
        if messages is None or since > last:
            reason = f"{stream} cannot resume from position {since} (now at {last})"
            self._resync(subscription, stream, last, reason)
            return
        subscription.positions[stream] = since
        for message in messages:
            subscription.positions[stream] = message["position"]
            subscription.put(message)

    async def _fill_gap(
        self, subscription: Subscription, stream: str, last: int, upto: int
    ) -> None:
        messages, now = await self._read(stream, last)
        if messages is None:
            self._resync(subscription, stream, now, f"messages of {stream} after {last} were lost")
            return
        for message in messages:
            # Compared with the subscription's position now, not when the read began: a
            # live message may have filled the same gap meanwhile.
            if subscription.positions.get(stream, last) < message["position"] < upto:
                subscription.positions[stream] = message["position"]
                subscription.put(message)

    async def _missed(self, stream: str) -> None:
        """Announcements of ``stream`` may have been lost (the backend reconnected): bring
        every follower up to the stream's last position from history, or resync."""
        followers = [
            s
            for s in self._followers.get(stream, ())
            if stream in s.positions and stream not in s._catching_up
        ]
        if not followers:
            return
        _, last = await self._read(stream, max(s.positions[stream] for s in followers))
        for subscription in followers:
            position = subscription.positions[stream]
            if last < position:  # the backend lost the stream (a Redis restart)
                reason = f"{stream} went back from position {position} to {last}"
                self._resync(subscription, stream, last, reason)
            elif last > position:
                await self._fill_gap(subscription, stream, position, last + 1)

    async def _lost_everything(self, epoch: int) -> None:
        """The store restarted empty (a new ``epoch``): every follower of every stream is
        resynced, whatever the positions say (the new ones may pass the old), and told the
        new epoch, so its next resume is not refused again."""
        for stream, followers in list(self._followers.items()):
            _, last = await self._read(stream, _END)
            for subscription in list(followers):
                if stream in subscription.positions and stream not in subscription._catching_up:
                    reason = f"{stream}: the bus lost its streams (a restart)"
                    self._resync(subscription, stream, last, reason)
        for subscription in {s for followers in self._followers.values() for s in followers}:
            subscription.origin[EPOCH] = epoch
            subscription.put({"type": "heartbeat", "since": {EPOCH: epoch}})

    def _resync(self, subscription: Subscription, stream: str, last: int, reason: str) -> None:
        logger.info("resync: %s", reason)
        subscription.origin[stream] = last
        subscription.positions[stream] = last
        # The resync carries the stream's position: the client's cursor moves there (even
        # backwards, after a restart of a memory bus), so its next resume is not refused again.
        subscription.put({"type": "resync", "reason": reason, "stream": stream, "position": last})

    async def _unfollow(self, subscription: Subscription) -> None:
        for stream in list(subscription.positions):
            await self._drop(subscription, stream)

    async def _drop(self, subscription: Subscription, stream: str) -> None:
        followers = self._followers.get(stream)
        if followers is None or subscription not in followers:
            return
        followers.discard(subscription)
        if not followers:
            del self._followers[stream]
            await self._unlisten(stream)
