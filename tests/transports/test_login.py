"""A login inside a reflex reaches the browser's cookie jar on every transport.

Regression guard: the reflex's request never reaches the browser, so the new session
cookie of a login used to be lost; the tab stayed logged out on its next page load, and
over WebSocket a reconnect presented the old, deleted session.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import httpx
import pytest
import websockets

from tests.support.wire import Link, Tab, cookies_of, receive


async def negotiate_as_is(tab: Tab) -> None:
    """A new grant for ``tab``'s cookies, as they are (no page load to set new ones)."""
    async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies) as browser:
        granted = await browser.post(
            "/sockpuppet/negotiate", headers={"X-CSRFToken": tab.cookies["csrftoken"]}, json={}
        )
    granted.raise_for_status()
    tab.grant = granted.json()


async def test_a_login_in_a_reflex_holds_for_page_loads(app_server, tab, transport):
    async with Link(tab, transport) as link:
        await link.send(tab.reflex("CounterReflex#sign_in", selectors=["#user"]))
        if transport == "websocket":
            # Before the answer, so that a client navigating on it stores them first.
            handoff = await link.receive()
            assert handoff["type"] == "cookies"
        answer = await link.receive()
        assert answer["operations"][0]["html"] == "alice"
        if transport == "websocket":
            async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies) as browser:
                stored = await browser.post("/sockpuppet/cookies", json={"token": handoff["token"]})
                assert stored.status_code == 204
                jar = cookies_of(browser)
        else:
            assert link._http is not None
            jar = cookies_of(link._http)
    assert jar["sessionid"] != tab.cookies["sessionid"]  # the login cycled the session key
    assert jar["csrftoken"] != tab.cookies["csrftoken"]  # and rotated the CSRF secret
    async with httpx.AsyncClient(base_url=tab.base_url, cookies=jar) as browser:
        page = (await browser.get("/")).text
        # The answer's token is the page's new one: negotiate takes it, not the old one.
        for token, status in ((tab.cookies["csrftoken"], 403), (answer["csrfToken"], 200)):
            again = await browser.post(
                "/sockpuppet/negotiate", headers={"X-CSRFToken": token}, json={}
            )
            assert again.status_code == status
    assert re.search(r'<p id="user">alice</p>', page)


async def test_an_answer_carries_a_csrf_token_only_when_the_reflex_changed_it(
    app_server, tab, transport
):
    async with Link(tab, transport) as link:
        await link.send(tab.reflex("CounterReflex#increment", selectors=["#count"]))
        answer = await link.receive(skip=("heartbeat", "cookies"))
    assert answer["type"] == "operations" and "csrfToken" not in answer


async def test_a_forged_cookies_token_is_refused(app_server):
    async with httpx.AsyncClient(base_url=app_server.url) as browser:
        answer = await browser.post("/sockpuppet/cookies", json={"token": "sessionid=stolen"})
    assert answer.status_code == 400 and "sessionid" not in answer.headers.get("set-cookie", "")


async def test_a_websocket_whose_session_another_tab_replaced_runs_its_reflex_in_the_new_one(
    app_server, tab
):
    """Regression. Bug: a WebSocket carries the cookies of its handshake. After another
    tab logged in (the session key cycled, the old session deleted), its reflexes ran in
    an empty session as nobody, and its ``cookies`` message deleted the browser's new
    session cookie: logged out in every tab. Now the reflex does not run there; the
    connection is closed with 4012 and, reconnected with the browser's cookies, the
    client's retry of the same reflex runs once, logged in."""
    reflex = tab.reflex("CounterReflex#increment", selectors=["#count", "#user"])
    async with tab.connect() as stale:
        tab.applied(json.loads(await stale.recv()))  # the welcome
        other_tab = Tab(tab.base_url, cookies=dict(tab.cookies))  # the same browser's
        await negotiate_as_is(other_tab)
        async with Link(other_tab, "sse") as other:
            await other.send(other_tab.reflex("CounterReflex#sign_in", selectors=["#user"]))
            assert (await other.receive())["operations"][0]["html"] == "alice"
            assert other._http is not None
            jar = cookies_of(other._http)
        await stale.send(json.dumps(reflex))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                assert tab.applied(json.loads(await stale.recv()))["type"] == "heartbeat"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4012
    tab.cookies = jar  # the browser's cookies, in the reconnect's handshake
    async with tab.connect(since=tab.cursor) as fresh:
        await fresh.send(json.dumps(reflex))
        answer = await receive(fresh, tab)
    assert answer["reflexId"] == reflex["id"]
    assert [o["html"] for o in answer["operations"]] == ["1", "alice"]


async def test_a_post_that_says_it_is_a_websocket_is_run_as_a_post(app_server, tab):
    """Regression (security audit). Bug: ``POST send?transport=websocket`` was taken at its
    word: with a session logged out elsewhere (its token still verified from the minute's
    cache) the WebSocket-only session check raised inside the POST: a 500 and a traceback,
    and the reflex's id stayed claimed though it never ran."""
    url = f"/sockpuppet/send?token={quote(tab.grant['token'])}"
    headers = {"Origin": tab.base_url}
    async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies) as stale:
        ping = json.dumps([{"type": "ping", "id": "p"}])
        assert (await stale.post(url, content=ping, headers=headers)).status_code == 202
        out = json.dumps([tab.reflex("CounterReflex#sign_out")])
        assert (await stale.post(url, content=out, headers=headers)).status_code == 202
        # The browser's jar now holds the new session; this client kept the old cookie.
        stale.cookies.clear()
        stale.cookies.update(tab.cookies)
        again = json.dumps([tab.reflex("CounterReflex#increment", selectors=["#count"])])
        answer = await stale.post(url + "&transport=websocket", content=again, headers=headers)
    assert answer.status_code in (202, 401), answer.text


async def test_a_login_cuts_off_what_held_the_session_before_it(app_server, tab, transport):
    """Session fixation (security audit). An attacker's browser holds a session and a
    connection of it; the victim's browser is made to carry the same session cookie and
    logs in. Django gives the session a new key; its stream kept its name, so what the
    victim's session was sent reached the attacker's open connection. A login now renames
    the session's stream: the victim's connection follows the new name at once, from its
    start, and gets what the session is sent; the attacker nothing."""
    victim = Tab(tab.base_url, cookies=dict(tab.cookies))  # the planted cookie
    await negotiate_as_is(victim)
    secret = "for the victim only"
    async with Link(tab, transport) as attacker:
        # One connection of the victim's throughout (its POSTs carry the new cookie).
        async with Link(victim, "sse" if transport == "websocket" else transport) as link:
            await link.send(victim.reflex("CounterReflex#sign_in", selectors=["#user"]))
            assert (await link.receive())["operations"][0]["html"] == "alice"
            renamed = await link.receive()
            assert renamed["type"] == "subscribed" and renamed["name"].startswith("s.")
            await link.send(victim.reflex("BroadcastReflex#to_my_session", args=[secret]))
            received = [await link.receive(), await link.receive()]
            assert {m["type"] for m in received} == {"nothing", "operations"}
            [broadcast] = [m for m in received if m["type"] == "operations"]
            assert broadcast["operations"][0]["text"] == secret
            assert broadcast["stream"] == renamed["name"]
        # The broadcast went out before this ping: followed, it would come first. (A
        # long-poll verified afresh is refused outright: its session is gone.)
        try:
            await attacker.send({"type": "ping", "id": "nothing-else"})
            message = await attacker.receive()
        except AssertionError as refused:
            assert transport == "longpoll" and "belong to this session" in str(refused)
        else:
            assert (message["type"], message.get("id")) == ("pong", "nothing-else"), message
