"""An SSE stream resumes from the browser's own ``Last-Event-ID`` when it has one: on its
own reconnects EventSource sends the last event's id, and the URL still carries the
``since`` it was first opened with."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx

from tests.support.wire import Link, Tab, sse_messages


async def test_last_event_id_wins_over_since(tab: Tab) -> None:
    stream = f"c.{tab.grant['connectionId']}"
    async with Link(tab, "websocket") as link:
        await link.send(tab.reflex("CounterReflex#increment", selectors=["#count"]))
        first = await link.receive()
        await link.send(tab.reflex("CounterReflex#increment", selectors=["#count"]))
        await link.receive()
    url = f"/sockpuppet/sse?token={quote(tab.grant['token'])}&since=" + quote(
        json.dumps({stream: 0})  # from the start: both answers again
    )
    headers = {"Last-Event-ID": json.dumps({stream: first["position"]})}  # only the second
    async with (
        httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies, timeout=30) as http,
        http.stream("GET", url, headers=headers) as response,
    ):
        assert response.status_code == 200
        messages = sse_messages(response)
        try:
            welcome = await anext(messages)
            assert welcome["type"] == "heartbeat"
            resumed = await anext(messages)
            assert resumed["type"] == "operations" and resumed["position"] == 2, resumed
            assert resumed["operations"][0]["html"] == "2"
        finally:
            await messages.aclose()
