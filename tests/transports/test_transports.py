"""What every transport does alike, run on each (the ``transport`` fixture) against a real
uvicorn: round trips, order, bad input, resume, idempotent retries."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.wire import Link, Tab


async def test_ping_pong_and_a_page_morph(tab, transport):
    async with Link(tab, transport) as link:
        await link.send({"type": "ping", "id": "probe"})
        pong = await link.receive()
        assert (pong["type"], pong["id"]) == ("pong", "probe")
        await link.send(tab.reflex("CounterReflex#increment", args=[3], selectors=["#count"]))
        answer = await link.receive()
        assert answer["type"] == "operations" and answer["morph"] == "page"
        assert answer["operations"][0]["html"] == "3"
        assert answer["stream"] == f"c.{tab.grant['connectionId']}"
        assert answer["position"] == pong["position"] + 1


async def test_reflexes_of_one_connection_run_in_order(tab, transport):
    async with Link(tab, transport) as link:
        messages = [
            tab.reflex(
                "CounterReflex#slow" if i == 0 else "CounterReflex#increment", selectors=["#count"]
            )
            for i in range(20)
        ]
        for message in messages:
            await link.send(message)
        answers = [await link.receive() for _ in messages]
    assert [a["reflexId"] for a in answers] == [m["id"] for m in messages]
    assert [int(a["operations"][0]["html"]) for a in answers] == list(range(100, 120))


async def test_a_batch_runs_in_order(tab, transport):
    async with Link(tab, transport) as link:
        messages = [tab.reflex("CounterReflex#increment", selectors=["#count"]) for _ in range(5)]
        await link.send(*messages)
        answers = [await link.receive() for _ in messages]
    assert [int(a["operations"][0]["html"]) for a in answers] == [1, 2, 3, 4, 5]


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
        json.dumps({"type": "reflex", "id": "u", "target": "CounterReflex#__init__", "url": "/"}),
        "not a public method",
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
async def test_bad_input_gets_a_clear_error_and_the_connection_keeps_working(
    tab, transport, frame, complaint
):
    async with Link(tab, transport) as link:
        await link.send(frame)
        error = await link.receive()
        assert error["type"] == "error" and complaint in error["message"]
        await link.send(tab.reflex("CounterReflex#nothing"))
        assert (await link.receive())["type"] == "nothing"


async def test_answers_published_while_disconnected_are_resumed(tab, transport):
    async with Link(tab, "websocket") as link:
        await link.send(tab.reflex("CounterReflex#increment", selectors=["#count"]))
        await link.receive()
        await link.send(tab.reflex("CounterReflex#slow", selectors=["#count"]))
    # Gone before the slow reflex answered; the answer waits in history, for any transport.
    async with Link(tab, transport) as link:
        answer = await link.receive()
        assert answer["operations"][0]["html"] == "101" and answer["position"] == 2


async def test_a_retried_reflex_runs_once(tab, transport):
    message = tab.reflex("CounterReflex#increment", selectors=["#count"])
    async with Link(tab, transport) as link:
        await link.send(message)
        assert (await link.receive())["operations"][0]["html"] == "1"
        await link.send(message)
        await link.send(tab.reflex("CounterReflex#increment", selectors=["#count"]))
        assert (await link.receive())["operations"][0]["html"] == "2"


async def test_a_lost_history_means_resync(tab, transport):
    async with Link(tab, transport, since={f"c.{tab.grant['connectionId']}": 50}) as link:
        assert (await link.receive())["type"] == "resync"


async def test_other_clients_are_untouched_by_a_bad_one(tab, app_server, transport):
    other = Tab(app_server.url)
    await other.negotiate()
    async with Link(tab, transport) as bad, Link(other, transport) as good:
        await asyncio.gather(*(bad.send("\x00garbage") for _ in range(20)))
        await good.send(other.reflex("CounterReflex#increment", selectors=["#count"]))
        assert (await good.receive())["operations"][0]["html"] == "1"
