"""The bare-ASGI baselines: the cheapest possible round trip on each transport.

No framework at all, served by the same uvicorn as the demo, so a benchmark can put a
reflex's round trip beside the floor of its transport in the same run:

- ``/echo``: a WebSocket echo;
- ``/sse?id=X`` + ``POST /send?id=X``: the POST's body comes back as an SSE event;
- ``/poll?id=X`` + ``POST /send?id=X``: the POST's body answers the held long-poll.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs

PAGE = b"<!doctype html><html><head><title>echo</title></head><body><p id='out'>0</p></body></html>"

_queues: defaultdict[str, asyncio.Queue[bytes]] = defaultdict(asyncio.Queue)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "websocket":
        await _echo(receive, send)
    elif scope["path"] == "/send":
        await _send(scope, receive, send)
    elif scope["path"] == "/sse":
        await _sse(scope, receive, send)
    elif scope["path"] == "/poll":
        await _poll(scope, send)
    else:
        await _respond(send, 200, b"text/html", PAGE)


def _id(scope: dict[str, Any]) -> str:
    return parse_qs(scope["query_string"].decode()).get("id", [""])[0]


async def _echo(receive: Any, send: Any) -> None:
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(
            {"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")}
        )


async def _send(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    _queues[_id(scope)].put_nowait(body)
    await _respond(send, 202, b"text/plain", b"")


async def _sse(scope: dict[str, Any], receive: Any, send: Any) -> None:
    queue = _queues[_id(scope)]
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"data: {}\n\n", "more_body": True})
    disconnected = asyncio.ensure_future(_disconnect(receive))
    while True:
        getter = asyncio.ensure_future(queue.get())
        await asyncio.wait({getter, disconnected}, return_when=asyncio.FIRST_COMPLETED)
        if disconnected.done():
            getter.cancel()
            return
        await send(
            {
                "type": "http.response.body",
                "body": b"data: " + getter.result() + b"\n\n",
                "more_body": True,
            }
        )


async def _disconnect(receive: Any) -> None:
    """Wait for the client to go (the request's own empty body comes first)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _poll(scope: dict[str, Any], send: Any) -> None:
    try:
        body = await asyncio.wait_for(_queues[_id(scope)].get(), 25)
    except TimeoutError:
        body = b""
    await _respond(send, 200, b"application/json", b"[" + body + b"]")


async def _respond(send: Any, status: int, kind: bytes, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]}
    )
    await send({"type": "http.response.body", "body": body})
