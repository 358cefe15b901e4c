"""The Server-Sent Events transport, on sse-starlette: ``GET sse`` streams server messages.

Client messages go by ``POST send`` (``transports/send.py``). Each event's ``id:`` is the
client's whole cursor after that message (JSON of stream -> position), so a browser's
own ``Last-Event-ID`` resumes exactly. Deliberate choices:

- a first event at once: proxies and the client's transport proof see bytes flow;
- a data-level heartbeat (``{"type":"heartbeat"}``) after ``HEARTBEAT`` seconds or a
  little more without a message (``transports/heartbeat.py``), rather than a comment, so
  the client can tell a live stream from a silent one;
- ``X-Accel-Buffering: no`` and ``Cache-Control: no-store`` (sse-starlette's defaults);
  Django's GZip middleware never sees this response (it is not a Django view);
- a client too slow to drain its queue gets the stream ended; it resumes by cursor.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette.event import ServerSentEvent
from sse_starlette.sse import EventSourceResponse

from sockpuppet.bus import BusUnavailable, Message, SlowConsumer, Subscription, get_bus
from sockpuppet.protocol import ProtocolError, encode, parse_cursor, welcome
from transports import send
from transports.common import (
    Refused,
    follow_changes,
    header,
    occupancy,
    open_http,
    query,
    refusal,
    unavailable,
)
from transports.heartbeat import next_message

RETRY_MS = 1000


async def sse_endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    try:
        connection = await open_http(scope, "sse")
        cursor = _cursor(scope)
        occupancy.enter(connection)
    except Refused as exc:
        await refusal(exc)(scope, receive, send)
        return
    owner, notices = connection.owner, connection.notices
    try:
        try:
            subscription = await get_bus().subscribe(connection.streams, connection.cursor(cursor))
        except BusUnavailable as exc:
            await refusal(Refused(503, unavailable(exc)))(scope, receive, send)
            return
        # The stream never reads the handshake again (its reflexes come by POST send): its
        # headers and cookies are not kept for the stream's life (~0.5 KB per idle stream).
        del connection
        # ping=0: no ping task of sse-starlette's; the events send the heartbeat themselves,
        # only when the stream is idle (one task fewer per connection, ~4 KiB each).
        response = EventSourceResponse(_events(subscription, notices), ping=0)
        try:
            await response(scope, receive, send)
        finally:
            await subscription.close()
    finally:
        occupancy.leave(owner)


def _cursor(scope: dict[str, Any]) -> dict[str, int]:
    """``Last-Event-ID`` (set by the browser on its own reconnects) wins over ``since``."""
    try:
        return parse_cursor(header(scope, b"last-event-id") or query(scope).get("since"))
    except ProtocolError as exc:
        raise Refused(400, str(exc)) from None


async def _events(
    subscription: Subscription, notices: list[Message]
) -> AsyncIterator[ServerSentEvent]:
    cursor = dict(subscription.origin)
    yield ServerSentEvent(data=encode(welcome(cursor)), id=_event_id(cursor), retry=RETRY_MS)
    for notice in notices:
        yield ServerSentEvent(data=encode(notice))
    while True:
        try:
            message = await next_message(subscription)
        except SlowConsumer:
            return
        await follow_changes(subscription, message)
        event_id = None
        if "position" in message:
            cursor[message["stream"]] = message["position"]
            event_id = _event_id(cursor)
        yield ServerSentEvent(data=encode(message), id=event_id)


def _event_id(cursor: dict[str, int]) -> str:
    return json.dumps(cursor, separators=(",", ":"))


def endpoints() -> dict[tuple[str, str], Any]:
    return {("http", "sse"): sse_endpoint, **send.endpoints()}
