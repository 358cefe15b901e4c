"""``POST send``: client -> server messages of the HTTP transports (SSE and long-poll).

The body is a JSON array of client messages. They run to completion, in order, before
the answer (``202``): the client sends its next batch only then, so the reflexes of one
tab run in order even when its POSTs land on different processes. Answers travel on the
connection's stream, to wherever its SSE stream or long-poll is held; when that is this
process, the answer is written there before the ``202``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings as django_settings
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from sockpuppet.bus import BusUnavailable, get_bus
from sockpuppet.conf import settings
from sockpuppet.connection import Connection
from sockpuppet.dispatcher import Dispatcher
from transports.common import Refused, open_http, query, refusal, unavailable
from transports.verified import verified_tokens


async def send_endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    request = Request(scope, receive)
    response: Response
    try:
        connection = await open_http(scope, _transport(scope), "POST")
        connection.answers_set_cookies = True
        body = await _body(request)
    except ClientDisconnect:
        return  # the client left before its body came: no one to answer, nothing ran
    except Refused as exc:
        response = refusal(exc)
    else:
        response = await _run(connection, body)
    await response(scope, receive, send)


def _transport(scope: dict[str, Any]) -> str:
    """The transport the client says it sends for (for the log): ``sse`` or ``longpoll``;
    never ``websocket``, whose reflexes the runner treats apart."""
    transport = query(scope).get("transport", "")
    return transport if transport in ("sse", "longpoll") else "http"


async def _run(connection: Connection, body: bytes) -> Response:
    try:
        await Dispatcher(connection, get_bus()).run(body)
    except BusUnavailable as exc:  # the client re-sends; reflexes that ran are not run again
        return refusal(Refused(503, unavailable(exc)))
    session_cookie = connection.set_cookies.get(django_settings.SESSION_COOKIE_NAME)
    if session_cookie is not None and (
        session_cookie.value == "" or session_cookie["max-age"] == 0
    ):
        # A logout deleted the session: its old cookie is verified afresh, and refused. Not
        # a login's new cookie: polls sent with the old one before the browser stores it
        # must still be let in (refused, the client would negotiate a new session that
        # could overwrite the login's).
        verified_tokens.forget(connection.owner)
    if not connection.set_cookies:
        # The answers are published; a stream held in this process writes them when its
        # task next runs. Let it run before the 202 goes: the browser then reads the answer
        # first instead of handling the 202 first (a millisecond and more in Chromium).
        # Not when the 202 sets cookies (a login): those go first, as before, so that an
        # answer that navigates (``redirect_to``) does not overtake them.
        await asyncio.sleep(0)
    response = Response(status_code=202)
    for morsel in connection.set_cookies.values():
        response.raw_headers.append((b"set-cookie", morsel.OutputString().encode("latin-1")))
    return response


async def _body(request: Request) -> bytes:
    limit = settings.MAX_MESSAGE_BYTES
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"Message too large: the limit is {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def endpoints() -> dict[tuple[str, str], Any]:
    return {("http", "send"): send_endpoint}
