"""The long-poll transport: ``GET poll?since=`` holds until messages exist or time is up.

It answers a JSON array: a ``heartbeat`` carrying ``since`` (where following each stream
began, see ``protocol.welcome``), then the messages, if any. The next poll's ``since`` acknowledges the
previous batch: a batch whose response was lost on the way is simply delivered again
from history, because the client's cursor never moved past it. Client messages go by
``POST send``, shared with SSE. A poll whose client goes away (``http.disconnect``) ends
at once rather than holding its subscription to the end of the hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sockpuppet.bus import BusUnavailable, Message, SlowConsumer, get_bus
from sockpuppet.conf import settings
from sockpuppet.protocol import ProtocolError, parse_cursor, welcome
from transports import send
from transports.common import Refused, occupancy, open_http, refusal

# Most messages answered by one poll; the rest wait for the next one.
BATCH = 500


async def poll_endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    request = Request(scope, receive)
    response: Response
    try:
        connection = await open_http(scope, "longpoll")
        cursor = parse_cursor(request.query_params.get("since"))
        occupancy.enter(connection)
    except ProtocolError as exc:
        response = refusal(Refused(400, str(exc)))
    except Refused as exc:
        response = refusal(exc)
    else:
        try:
            hold = 0.0 if connection.notices else float(settings.LONGPOLL_TIMEOUT)
            collecting = _collect(connection.streams, connection.cursor(cursor), hold)
            messages = await _unless_gone(collecting, receive)
            if messages is None:
                return  # the client went away: nobody to answer
            messages[1:1] = connection.notices
        except BusUnavailable as exc:
            response = refusal(Refused(503, str(exc)))
        else:
            response = JSONResponse(messages, headers={"Cache-Control": "no-store"})
        finally:
            occupancy.leave(connection)
    await response(scope, receive, send)


async def _unless_gone(
    collecting: Coroutine[Any, Any, list[Message]], receive: Any
) -> list[Message] | None:
    """What ``collecting`` returns, or None once the client disconnected (it is cancelled)."""
    collect = asyncio.ensure_future(collecting)
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({collect, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (collect, gone):
            if not task.done():
                task.cancel()
        await asyncio.gather(collect, gone, return_exceptions=True)
    return collect.result() if not collect.cancelled() else None


async def _disconnected(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _collect(streams: list[str], cursor: dict[str, int], hold: float) -> list[Message]:
    """The welcome, then what is there, or what comes within ``hold`` seconds."""
    subscription = await get_bus().subscribe(streams, cursor)
    try:
        messages: list[Message] = [welcome(subscription.origin)]
        try:
            first = subscription.get_nowait()
            if first is None:
                first = await asyncio.wait_for(subscription.get(), hold)
            messages.append(first)
            while len(messages) < BATCH and (message := subscription.get_nowait()) is not None:
                messages.append(message)
        except TimeoutError:
            pass
        except SlowConsumer:
            pass  # what was taken is answered; the rest comes from history on the next poll
        return messages
    finally:
        await asyncio.shield(subscription.close())  # even when the poll is cancelled


def endpoints() -> dict[tuple[str, str], Any]:
    return {("http", "poll"): poll_endpoint, **send.endpoints()}
