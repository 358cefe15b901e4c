"""What only the WebSocket transport does: handshake refusals and close codes."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from tests.support.wire import Tab, receive


async def test_negotiate_answers_the_protocol_and_needs_csrf(app_server):
    tab = Tab(app_server.url)
    grant = await tab.negotiate()
    assert grant["protocol"] == 1 and grant["transports"] == ["websocket", "sse", "longpoll"]
    assert {"connectionId", "token", "heartbeat", "longpollTimeout"} <= set(grant)
    async with httpx.AsyncClient(base_url=app_server.url, cookies=tab.cookies) as client:
        refused = await client.post("/sockpuppet/negotiate", json={})
        assert refused.status_code == 403
        assert refused.json() == {
            "type": "error",
            "message": "CSRF check failed: CSRF token missing.",
        }


async def test_a_ping_is_answered_while_a_reflex_runs(tab):
    async with tab.connect() as ws:
        await ws.send(json.dumps(tab.reflex("CounterReflex#slow", selectors=["#count"])))
        await ws.send(json.dumps({"type": "ping", "id": "during"}))
        assert (await receive(ws, tab))["type"] == "pong"
        assert (await receive(ws, tab))["type"] == "operations"


async def test_a_foreign_origin_is_refused(tab):
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with tab.connect(origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("token", ["", "garbage", "eyJjIjoiYSJ9:1:forged"])
async def test_a_bad_token_is_closed_with_a_reason(tab, token):
    async with tab.connect(token=token or " ") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4001 and "token" in closed.value.rcvd.reason


async def test_a_token_from_another_session_is_refused(tab, app_server):
    stranger = Tab(app_server.url)
    await stranger.negotiate()
    async with stranger.connect(token=tab.grant["token"]) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4001
