"""Heartbeats of idle streams (WebSocket, SSE), paced by one timer per event loop.

A stream with nothing to send says ``heartbeat`` now and then: the client counts 2.5 x
``HEARTBEAT`` seconds of silence as a lost connection, and proxies close upstreams that
stay quiet too long. While any stream waits, one timer ticks every ``HEARTBEAT / 2``
seconds; a stream still waiting at the third tick after it began gets its heartbeat,
after 1 to 1.5 x ``HEARTBEAT`` of silence. A timer of its own per waiting stream
(``asyncio.timeout``) costs ~0.8 KB on uvloop; a place in this one's table a few dozen
bytes, and a process holds thousands of idle streams.
"""

from __future__ import annotations

import asyncio

from sockpuppet.bus import Message, Subscription
from sockpuppet.conf import settings
from transports.loops import PerLoop

BEAT: Message = {"type": "heartbeat"}
# Ticks a stream waits through before its heartbeat: the first may come at once.
TICKS = 3


class Pacemaker:
    """The waiting streams of one event loop, and the timer that paces them (it runs
    only while some stream waits)."""

    def __init__(self) -> None:
        self._ticks = 0
        self._waiting: dict[Subscription, int] = {}  # -> the tick count when it began
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, subscription: Subscription) -> None:
        self._waiting[subscription] = self._ticks
        if self._timer is None:
            self._schedule()

    def forget(self, subscription: Subscription) -> None:
        self._waiting.pop(subscription, None)
        if not self._waiting and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(float(settings.HEARTBEAT) / 2, self._tick)

    def _tick(self) -> None:
        self._ticks += 1
        due = [s for s, began in self._waiting.items() if self._ticks - began >= TICKS]
        for subscription in due:
            del self._waiting[subscription]
            subscription.put(BEAT)  # its reader wakes and sends it like any message
        self._timer = None
        if self._waiting:
            self._schedule()


pacemaker = PerLoop(Pacemaker)  # the running event loop's


async def next_message(subscription: Subscription) -> Message:
    """The subscription's next message, or ``BEAT`` after 1 to 1.5 x ``HEARTBEAT``
    seconds without one; raises ``SlowConsumer`` as ``Subscription.get`` does."""
    message = subscription.get_nowait()
    if message is not None:
        return message
    pacer = pacemaker()
    pacer.watch(subscription)
    try:
        return await subscription.get()
    finally:
        pacer.forget(subscription)
