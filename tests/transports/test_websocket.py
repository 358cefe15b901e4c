"""The WebSocket transport against a real uvicorn: round trips, bad input, security, resume."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.support.wire import Tab, receive


async def test_negotiate_answers_the_protocol_and_needs_csrf(app_server):
    tab = Tab(app_server.url)
    grant = await tab.negotiate()
    assert grant["protocol"] == 1 and grant["transports"] == ["websocket"]
    assert {"connectionId", "token", "heartbeat", "longpollTimeout"} <= set(grant)
    async with httpx.AsyncClient(base_url=app_server.url, cookies=tab.cookies) as client:
        assert (await client.post("/sockpuppet/negotiate", json={})).status_code == 403


async def test_ping_pong_and_a_page_morph(tab):
    async with tab.connect() as ws:
        await ws.send(json.dumps({"type": "ping", "id": "probe"}))
        assert await receive(ws, tab) == {"type": "pong", "id": "probe"}
        await ws.send(
            json.dumps(tab.reflex("CounterReflex#increment", args=[3], selectors=["#count"]))
        )
        answer = await receive(ws, tab)
        assert answer["type"] == "operations" and answer["morph"] == "page"
        assert answer["operations"][0]["html"] == "3"
        assert answer["stream"] == f"c.{tab.grant['connectionId']}" and answer["position"] == 1


async def test_reflexes_of_one_connection_run_in_order(tab):
    async with tab.connect() as ws:
        messages = [
            tab.reflex(
                "CounterReflex#slow" if i == 0 else "CounterReflex#increment", selectors=["#count"]
            )
            for i in range(20)
        ]
        for message in messages:
            await ws.send(json.dumps(message))
        answers = [await receive(ws, tab) for _ in messages]
    assert [a["reflexId"] for a in answers] == [m["id"] for m in messages]
    assert [int(a["operations"][0]["html"]) for a in answers] == list(range(100, 120))


async def test_a_ping_is_answered_while_a_reflex_runs(tab):
    async with tab.connect() as ws:
        await ws.send(json.dumps(tab.reflex("CounterReflex#slow", selectors=["#count"])))
        await ws.send(json.dumps({"type": "ping", "id": "during"}))
        assert (await receive(ws, tab))["type"] == "pong"
        assert (await receive(ws, tab))["type"] == "operations"


BAD_INPUT = [
    ("{not json", "Malformed JSON"),
    (json.dumps({"type": "teleport"}), "Unknown message type 'teleport'"),
    (
        json.dumps({"type": "reflex", "id": "x", "target": "Nope#go", "url": "/"}),
        "No reflex class named 'Nope'",
    ),
    (
        json.dumps({"type": "reflex", "id": "y", "target": "CounterReflex#_private", "url": "/"}),
        "not a public method",
    ),
    (
        json.dumps({"type": "reflex", "id": "z", "target": "CounterReflex#morph", "url": "/"}),
        "no reflex action 'morph'",
    ),
    (
        json.dumps(
            {
                "type": "reflex",
                "id": "w",
                "target": "CounterReflex#increment",
                "args": [1, 2],
                "url": "/",
            }
        ),
        "cannot take 2 argument",
    ),
    (
        json.dumps({"type": "reflex", "id": "v", "target": "CounterReflex#explode", "url": "/"}),
        "CounterReflex#explode",
    ),
    (json.dumps({"type": "reflex", "id": 5}), "needs a string 'id'"),
]


@pytest.mark.parametrize(("frame", "complaint"), BAD_INPUT)
async def test_bad_input_gets_a_clear_error_and_the_connection_keeps_working(tab, frame, complaint):
    async with tab.connect() as ws:
        await ws.send(frame)
        error = await receive(ws, tab)
        assert error["type"] == "error" and complaint in error["message"]
        await ws.send(json.dumps(tab.reflex("CounterReflex#nothing")))
        assert (await receive(ws, tab))["type"] == "nothing"


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


async def test_answers_published_while_disconnected_are_resumed(tab):
    async with tab.connect() as ws:
        await ws.send(json.dumps(tab.reflex("CounterReflex#increment", selectors=["#count"])))
        await receive(ws, tab)
        await ws.send(json.dumps(tab.reflex("CounterReflex#slow", selectors=["#count"])))
    # The connection dropped before the slow reflex answered; the answer waits in history.
    async with tab.connect(since=tab.cursor) as ws:
        answer = await receive(ws, tab)
        assert answer["operations"][0]["html"] == "101" and answer["position"] == 2


async def test_a_retried_reflex_runs_once(tab):
    message = tab.reflex("CounterReflex#increment", selectors=["#count"])
    async with tab.connect() as ws:
        await ws.send(json.dumps(message))
        assert (await receive(ws, tab))["operations"][0]["html"] == "1"
        await ws.send(json.dumps(message))
        await ws.send(json.dumps(tab.reflex("CounterReflex#increment", selectors=["#count"])))
        assert (await receive(ws, tab))["operations"][0]["html"] == "2"


async def test_a_lost_history_means_resync(tab):
    async with tab.connect(since={f"c.{tab.grant['connectionId']}": 50}) as ws:
        assert (await receive(ws, tab))["type"] == "resync"


async def test_other_clients_are_untouched_by_a_bad_one(tab, app_server):
    other = Tab(app_server.url)
    await other.negotiate()
    async with tab.connect() as bad, other.connect() as good:
        await asyncio.gather(*(bad.send("\x00garbage") for _ in range(20)))
        await good.send(json.dumps(other.reflex("CounterReflex#increment", selectors=["#count"])))
        assert (await receive(good, other))["operations"][0]["html"] == "1"
