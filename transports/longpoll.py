"""The long-poll transport: ``GET poll?since=`` holds until messages exist or time is up.

It answers a JSON array: a ``heartbeat`` carrying ``since`` (where following each stream
began, see ``protocol.welcome``), then the messages, if any. The next poll's ``since`` acknowledges the
previous batch: a batch whose response was lost on the way is simply delivered again
from history, because the client's cursor never moved past it. Client messages go by
``POST send``, shared with SSE. A poll whose client goes away (``http.disconnect``) ends
at once rather than holding its subscription to the end of the hold.

Hundreds of polls answer together after a broadcast, so an answer costs little: the
messages' JSON is the one every follower shares (``protocol.encode``), a poll that must
wait watches for its client's disconnect with one task, and the subscription is let go
after the answer is on its way. A poll that waits sends its headers at once and only
its body when a message comes (``_Answer``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sockpuppet.bus import BusUnavailable, Message, SlowConsumer, Subscription, get_bus
from sockpuppet.conf import settings
from sockpuppet.protocol import ProtocolError, encode, parse_cursor, welcome
from transports import send
from transports.common import (
    Refused,
    forget_logged_out,
    occupancy,
    open_http,
    query,
    refusal,
    unavailable,
)
from transports.draining import drain

# Most messages answered by one poll; the rest wait for the next one.
BATCH = 500

HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


async def poll_endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    try:
        connection = await open_http(scope, "longpoll")
        cursor = parse_cursor(query(scope).get("since"))
        occupancy.enter(connection)
    except ProtocolError as exc:
        await refusal(Refused(400, str(exc)))(scope, receive, send)
        return
    except Refused as exc:
        await refusal(exc)(scope, receive, send)
        return
    try:
        try:
            subscription = await get_bus().subscribe(connection.streams, connection.cursor(cursor))
        except BusUnavailable as exc:
            await refusal(Refused(503, unavailable(exc)))(scope, receive, send)
            return
        try:
            hold = 0.0 if connection.notices else float(settings.LONGPOLL_TIMEOUT)
            answer = _Answer(send, early=scope.get("http_version") == "1.1")
            messages = await _collect(subscription, hold, receive, answer.start)
            if messages is None:
                return  # the client went away: nobody to answer
            messages[1:1] = connection.notices
            for message in messages:
                forget_logged_out(message)
            await answer.finish(messages)
        finally:
            await asyncio.shield(subscription.close())  # even when the poll is cancelled
    finally:
        occupancy.leave(connection.owner)


async def _collect(
    subscription: Subscription, hold: float, receive: Any, waiting: Callable[[], Awaitable[None]]
) -> list[Message] | None:
    """The welcome, then what is there, or what comes within ``hold`` seconds (awaiting
    ``waiting()`` before it waits); None if the client disconnected meanwhile."""
    messages: list[Message] = [welcome(subscription.origin)]
    try:
        first = subscription.get_nowait()
        if first is None and hold > 0:
            await waiting()
            first = await _wait(subscription, hold, receive)
            if first is _GONE:
                return None
        if first is not None:
            messages.append(first)
        while len(messages) < BATCH and (message := subscription.get_nowait()) is not None:
            messages.append(message)
    except SlowConsumer:
        pass  # what was taken is answered; the rest comes from history on the next poll
    return messages


_GONE: Message = {}


async def _wait(subscription: Subscription, hold: float, receive: Any) -> Message | None:
    """The next message within ``hold`` seconds (None if none came, or if uvicorn began
    to shut down: ``transports/draining.py``), or ``_GONE`` when the client disconnects
    first: a watcher task cancels this one then."""
    waiting = asyncio.current_task()
    assert waiting is not None
    gone = exiting = False

    async def watch() -> None:
        nonlocal gone
        while (await receive())["type"] != "http.disconnect":
            pass
        gone = True
        waiting.cancel()

    def release() -> None:
        nonlocal exiting
        exiting = True
        waiting.cancel()

    watcher = asyncio.ensure_future(watch())
    held = drain()
    held.hold(release)
    try:
        async with asyncio.timeout(hold):
            return await subscription.get()
    except TimeoutError:
        return None
    except asyncio.CancelledError:
        if not (gone or exiting):
            raise  # cancelled from outside
        waiting.uncancel()
        return _GONE if gone else None
    finally:
        held.let_go(release)
        watcher.cancel()


class _Answer:
    """A poll's ``200``. One that must wait sends its headers as it begins to wait (over
    HTTP/1.1, chunked), so only the body is written when a message comes: one write
    fewer on the way of every reflex's answer. Otherwise headers with the length go
    with the body (HTTP/1.0 has no chunks; nginx proxies with it unless told 1.1)."""

    def __init__(self, send: Any, early: bool) -> None:
        self.send = send
        self.early = early
        self.started = False

    async def start(self) -> None:
        if self.early and not self.started:
            self.started = True
            await self.send({"type": "http.response.start", "status": 200, "headers": HEADERS})

    async def finish(self, messages: list[Message]) -> None:
        body = ("[" + ",".join(map(encode, messages)) + "]").encode()
        if not self.started:
            headers = [*HEADERS, (b"content-length", str(len(body)).encode())]
            await self.send({"type": "http.response.start", "status": 200, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


def endpoints() -> dict[tuple[str, str], Any]:
    return {("http", "poll"): poll_endpoint, **send.endpoints()}
