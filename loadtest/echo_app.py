"""The bare-ASGI baseline: a WebSocket echo and an empty page, with no framework at all.

Served by the same uvicorn as the demo, so a benchmark can put a reflex's round trip
beside the cheapest possible round trip over the same transport in the same run.
"""

from __future__ import annotations

from typing import Any

PAGE = b"<!doctype html><html><head><title>echo</title></head><body><p id='out'>0</p></body></html>"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": PAGE})
