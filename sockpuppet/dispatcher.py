"""The transport-agnostic dispatcher: client messages in, answers out on the bus.

A transport hands every frame or POST body of a connection to ``Dispatcher.receive``.
Pings are answered at once; reflexes run one at a time, in the order received, each in
a worker thread (sync Django code never blocks the event loop); every answer is
published on the connection's stream, whichever process and transport deliver it. The
dispatcher never knows which transport carried a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from sockpuppet import cookies, protocol, runner, streams
from sockpuppet.bus import Bus, BusUnavailable
from sockpuppet.conf import settings
from sockpuppet.connection import Connection
from sockpuppet.protocol import ClientMessage, ProtocolError, ReflexMessage
from sockpuppet.tasks import stop

logger = logging.getLogger("sockpuppet")

# How long an answer waits for an unreachable bus before it is given up (and logged).
PUBLISH_PATIENCE = 15.0


class RateLimit:
    """Messages a session may send (reflexes, pings, subscribes): ``MAX_REFLEXES_PER_SECOND``
    a second on average, in bursts of as many (a token bucket per key, in this process:
    the session's stream, shared by all its connections, as a session may negotiate any
    number of them)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # id -> (tokens, when counted)
        self._prune_at = 10_000

    def allow(self, key: str) -> bool:
        """True, and one token taken, if ``key`` has one."""
        rate = float(settings.MAX_REFLEXES_PER_SECOND)
        now = self._clock()
        tokens, then = self._buckets.get(key, (rate, now))
        tokens = min(rate, tokens + (now - then) * rate)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self._prune_at:  # a full bucket is as good as none
            self._buckets = {
                k: (t, w) for k, (t, w) in self._buckets.items() if t + (now - w) * rate < rate
            }
            self._prune_at = max(10_000, 2 * len(self._buckets))
        return allowed


# One per process: the HTTP transports make a Dispatcher per request.
RATES = RateLimit()


class Dispatcher:
    """Handles one connection's client messages."""

    def __init__(
        self,
        connection: Connection,
        bus: Bus,
        rates: RateLimit = RATES,
        on_interrupted: Callable[[Exception], Awaitable[None]] | None = None,
    ) -> None:
        self.connection = connection
        self.bus = bus
        self.rates = rates
        # Called (WebSocket) when queued reflexes cannot run on this connection: the bus
        # is unreachable (BusUnavailable) or the session cookie is stale (SessionChanged).
        # The transport ends the connection; the client reconnects and sends them again.
        self.on_interrupted = on_interrupted
        self._pending: deque[ReflexMessage] = deque()  # only ever taken from without waiting
        self._worker: asyncio.Task[None] | None = None
        self._flooding = False  # control messages were dropped past the rate (logged once)

    async def receive(self, text: str | bytes) -> None:
        """Take one frame or body; reflexes are queued and run in order in the background."""
        for message in await self._decode(text):
            if message["type"] == "reflex":
                if await self._within_rate(message):
                    await self._enqueue(message)
            else:
                await self._handle_control(message)

    async def run(self, text: str | bytes) -> None:
        """Take one body and run its reflexes to completion, in order (POST transports)."""
        reflexes = 0
        for message in await self._decode(text):
            if message["type"] == "reflex":
                reflexes += 1  # those of one body wait for each other, as if queued
                if reflexes > settings.MAX_PENDING_REFLEXES:
                    await self._too_many_waiting(message)
                elif await self._within_rate(message) and await self._first_time(message):
                    await self._answer(message)
            else:
                await self._handle_control(message)

    async def close(self) -> None:
        """Stop the worker; reflexes not yet started are dropped (the client re-sends them)."""
        if self._worker is not None:
            await stop(self._worker)

    async def _decode(self, text: str | bytes) -> list[ClientMessage]:
        try:
            return protocol.decode(text, settings.MAX_MESSAGE_BYTES)
        except ProtocolError as exc:
            if not exc.reflex_ids:
                await self._send({"type": "error", "message": str(exc)})
            for reflex_id in exc.reflex_ids:  # each fails at once, none runs
                await self._send({"type": "error", "reflexId": reflex_id, "message": str(exc)})
            return []

    async def _handle_control(self, message: ClientMessage) -> None:
        if message["type"] != "ack" and not self.rates.allow(self._rate_key):
            # Each is answered, and answers are kept in history: a flood of them would
            # fill the bus. A client's own few (a probe per transport tried) never get here.
            if not self._flooding:
                self._flooding = True
                logger.warning(
                    "Connection %s: %s messages past the rate dropped",
                    self.connection.id,
                    message["type"],
                )
            return
        if message["type"] == "ping":
            await self._send({"type": "pong", "id": message["id"]})
        elif message["type"] == "subscribe":
            await self._subscribe(message["stream"])
        elif message["type"] == "unsubscribe":
            await self._unsubscribe(message["stream"])

    async def _subscribe(self, token: str) -> None:
        """Follow a named stream the page was given: a ``subscribed`` message on the
        connection's own stream tells whichever process and transport holds the connection
        to follow it too (the HTTP transports may have received the request elsewhere)."""
        try:
            stream = streams.verify(token)
        except streams.StreamError as exc:
            await self._send({"type": "error", "message": str(exc)})
            return
        since = {stream: await self.bus.last_position(stream)}
        await self._send({"type": "subscribed", "name": stream, "since": since})

    async def _unsubscribe(self, token: str) -> None:
        """Stop following a named stream: an ``unsubscribed`` message on the connection's
        own stream tells whichever process and transport holds the connection, as for
        ``subscribe``. Only named streams have tokens: a connection's own streams stay."""
        try:
            stream = streams.verify(token)
        except streams.StreamError as exc:
            await self._send({"type": "error", "message": str(exc)})
            return
        await self._send({"type": "unsubscribed", "name": stream})

    async def _enqueue(self, message: ReflexMessage) -> None:
        if len(self._pending) >= settings.MAX_PENDING_REFLEXES:
            await self._too_many_waiting(message)
            return
        self._pending.append(message)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())

    async def _too_many_waiting(self, message: ReflexMessage) -> None:
        limit = settings.MAX_PENDING_REFLEXES
        await self._refuse(
            message, f"Too many reflexes waiting on this connection (limit {limit})."
        )

    @property
    def _rate_key(self) -> str:
        return self.connection.owner or self.connection.id

    async def _within_rate(self, message: ReflexMessage) -> bool:
        """True if the session may start one more reflex now; else it is answered."""
        if self.rates.allow(self._rate_key):
            return True
        rate = settings.MAX_REFLEXES_PER_SECOND
        await self._refuse(
            message, f"Too many reflexes from this session: at most {rate} a second."
        )
        return False

    async def _refuse(self, message: ReflexMessage, reason: str) -> None:
        await self._send({"type": "error", "reflexId": message["id"], "message": reason})

    async def _first_time(self, message: ReflexMessage) -> bool:
        # Remembered as long as answers are (HISTORY_TTL, 5 minutes by default): a retry
        # later than that could not find its answer, and the client stops retrying a
        # reflex after its queue and reply timeouts (a minute).
        if await self.bus.claim(self._claim_key(message), float(settings.HISTORY_TTL)):
            return True
        logger.debug(
            "reflex %s %s sent again: it ran already (its answer is on the connection's stream)",
            message["target"],
            message["id"],
        )
        return False

    def _claim_key(self, message: ReflexMessage) -> str:
        return f"reflex:{self.connection.id}:{message['id']}"

    async def _work(self) -> None:
        """Run queued reflexes in order; end when none is left (the next one starts anew).

        A reflex id is claimed as its reflex starts, not as it arrives: the reflexes still
        queued when the process dies were never claimed, so the client's retries run them.
        """
        while self._pending:
            message = self._pending.popleft()
            try:
                if await self._first_time(message):
                    await self._answer(message)
            except (BusUnavailable, runner.SessionChanged) as exc:
                # Those queued behind it did not run, nor did it (unless the bus went away
                # as its answer was published: that answer is lost, its id stays claimed).
                # The client sends them again, in order, on its next connection.
                self._pending.clear()
                if isinstance(exc, runner.SessionChanged):
                    with contextlib.suppress(BusUnavailable):
                        await self.bus.release(self._claim_key(message))
                else:
                    logger.warning("Reflex %s not run here: %s", message["id"], exc)
                if self.on_interrupted is not None:
                    await self.on_interrupted(exc)
                return

    async def _answer(self, message: ReflexMessage) -> None:
        started = time.perf_counter()
        run = runner.in_thread()
        try:
            async with asyncio.timeout(settings.REFLEX_TIMEOUT):  # no task, as wait_for makes
                answer = await run(self.connection, message)
        except TimeoutError:
            logger.error(
                "Reflex %s timed out after %ss", message["target"], settings.REFLEX_TIMEOUT
            )
            answer = {
                "type": "error",
                "reflexId": message["id"],
                "message": f"{message['target']} did not finish within {settings.REFLEX_TIMEOUT} seconds.",
            }
        if self.connection.set_cookies and not self.connection.answers_set_cookies:
            # Before the answer: a client that navigates on it (a login, then a redirect)
            # first stores the cookies, or the next page would load without them.
            await self._send(
                {"type": "cookies", "token": cookies.sign(self.connection.set_cookies)}
            )
            self.connection.set_cookies.clear()
        await self._send(answer)
        await self._publish_notices()
        logger.debug(
            "reflex %s -> %s (%s) in %.1f ms over %s",
            message["target"],
            answer["type"],
            answer.get("morph", "-"),
            (time.perf_counter() - started) * 1000,
            self.connection.transport,
        )

    async def _publish_notices(self) -> None:
        """What the reflex left to publish after its answer (``sessions``); the answer
        is out, so an unreachable bus costs only the notice (logged)."""
        notices, self.connection.after_answer = self.connection.after_answer, []
        for stream, notice in notices:
            try:
                await self.bus.publish(stream, notice)
            except BusUnavailable as exc:
                logger.warning("Notice %s on %s not published: %s", notice, stream, exc)

    async def _send(self, message: dict[str, Any]) -> None:
        # Every answer is durable, pongs included: a long-poll between two polls, or an
        # SSE stream reconnecting, must still find the answer to its probe in history.
        # If the bus is down, the answer waits for it to come back (up to a limit): a
        # reflex that ran must not lose its answer to a Redis restart.
        delay = 0.05
        deadline = time.monotonic() + PUBLISH_PATIENCE
        while True:
            try:
                await self.bus.publish(self.connection.stream, message)
                return
            except BusUnavailable as exc:
                if time.monotonic() + delay > deadline:
                    logger.error(
                        "Answer to %s lost: %s", message.get("reflexId", "a client message"), exc
                    )
                    raise
                await asyncio.sleep(delay)  # backoff while the bus is down: nothing to await
                delay = min(delay * 2, 1.0)
