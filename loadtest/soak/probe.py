"""What the demo processes serve: the demo, with a probe beside it.

The uvicorn processes serve ``loadtest.soak:application`` (this ``application``, which the
package exports). The demo is imported on the first request, in the server: the soak's
own process imports this module with the package but never loads the demo.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

PROBE = "/__soak__"


@functools.cache
def _demo() -> Any:
    from demo.asgi import application as demo  # imported in the server, never in the soak

    return demo


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The demo, and ``GET /__soak__``: this process's asyncio tasks and bus subscriptions
    (and the first streams they follow), as JSON."""
    if scope["type"] == "http" and scope["path"] == PROBE:
        from sockpuppet import bus

        followers = getattr(bus._bus, "_followers", {})
        body = {
            "tasks": len(asyncio.all_tasks()),
            "subscriptions": len({id(s) for each in followers.values() for s in each}),
            "streams": sorted(followers)[:10],  # which, when a few are left
        }
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
        return
    await _demo()(scope, receive, send)
