"""Broadcasts reach the connections following a stream, on every transport."""

from __future__ import annotations

import pytest

from sockpuppet import streams
from tests.support.wire import Link, Tab, cookies_of


async def listener(app_server, *names: str) -> Tab:
    tab = Tab(app_server.url)
    await tab.negotiate()
    tab.streams = [streams.sign(n) for n in names]
    return tab


async def test_a_named_stream_broadcast_reaches_its_followers(app_server, tab, transport):
    follower = await listener(app_server, "room")
    async with Link(follower, transport) as link:
        await link.ready()
        async with Link(tab, "websocket") as sender:
            await sender.send(tab.reflex("BroadcastReflex#shout", args=["hello"]))
            assert (await sender.receive())["type"] == "nothing"
        message = await link.receive()
    assert message["stream"] == "n.room"
    assert message["operations"] == [{"op": "inner_html", "selector": "#note", "html": "hello"}]


async def test_a_broadcast_while_disconnected_is_delivered_after_reconnect(
    app_server, tab, transport
):
    follower = await listener(app_server, "room")
    async with Link(follower, transport) as link:
        await link.ready()
    async with Link(tab, "websocket") as sender:
        await sender.send(tab.reflex("BroadcastReflex#shout", args=["while away"]))
        await sender.receive()
    async with Link(follower, transport) as link:
        message = await link.receive()
    assert message["operations"][0]["html"] == "while away"


async def test_the_session_stream_reaches_every_tab_of_the_session(app_server, tab, transport):
    other_tab = Tab(app_server.url, cookies={"sessionid": tab.cookies["sessionid"]})
    await other_tab.negotiate()
    async with Link(other_tab, transport) as link:
        await link.ready()
        async with Link(tab, "websocket") as sender:
            await sender.send(tab.reflex("BroadcastReflex#to_my_session", args=["both tabs"]))
            await sender.receive()
        message = await link.receive()
    assert message["stream"].startswith("s.") and message["operations"][0]["text"] == "both tabs"


@pytest.mark.parametrize("token", ["n.room", "forged:token", streams.sign("room")[:-2] + "xx"])
async def test_a_forged_stream_token_is_not_followed_and_says_so(app_server, tab, token, transport):
    follower = Tab(app_server.url)
    await follower.negotiate()
    follower.streams = [token]
    async with Link(follower, transport) as link:
        error = await link.receive()
        assert error["type"] == "error" and "stream token is invalid" in error["message"]
        assert error["refusedStream"] == token
        follower.streams.remove(token)  # as the client does, so later polls do not repeat it
        async with Link(tab, "websocket") as sender:
            await sender.send(tab.reflex("BroadcastReflex#shout", args=["secret"]))
            await sender.receive()
        await link.send({"type": "ping", "id": "after"})
        assert (await link.receive())["type"] == "pong"  # the broadcast did not come first


async def test_a_stream_subscribed_after_connecting_is_followed(app_server, tab, transport):
    follower = Tab(app_server.url)
    await follower.negotiate()
    async with Link(follower, transport) as link:
        token = streams.sign("room")
        await link.send({"type": "subscribe", "stream": token})
        subscribed = await link.receive()
        assert (subscribed["type"], subscribed["name"]) == ("subscribed", "n.room")
        follower.streams.append(token)  # as the client does: later polls name it too
        async with Link(tab, "websocket") as sender:
            await sender.send(tab.reflex("BroadcastReflex#shout", args=["late joiner"]))
            await sender.receive()
        message = await link.receive()
    assert message["stream"] == "n.room" and message["operations"][0]["html"] == "late joiner"


async def test_a_stream_unsubscribed_is_no_longer_delivered(app_server, tab, transport):
    follower = await listener(app_server, "room")
    async with Link(follower, transport) as link:
        await link.ready()
        await link.send({"type": "unsubscribe", "stream": follower.streams[0]})
        unsubscribed = await link.receive()
        assert (unsubscribed["type"], unsubscribed["name"]) == ("unsubscribed", "n.room")
        follower.streams.clear()  # as the client does, so later polls do not name it
        async with Link(tab, "websocket") as sender:
            await sender.send(tab.reflex("BroadcastReflex#shout", args=["gone"]))
            assert (await sender.receive())["type"] == "nothing"
        await link.send({"type": "ping", "id": "after"})
        assert (await link.receive())["type"] == "pong"  # the broadcast did not come first


async def test_unsubscribe_needs_a_valid_stream_token(app_server, tab, transport):
    async with Link(tab, transport) as link:
        await link.ready()
        await link.send({"type": "unsubscribe", "stream": "n.room"})
        error = await link.receive()
    assert error["type"] == "error" and "stream token is invalid" in error["message"]


async def signed_in(tab: Tab) -> dict[str, str]:
    """Log ``tab`` in (a reflex over SSE); the browser's new session cookie."""
    async with Link(tab, "sse") as login:
        await login.send(tab.reflex("CounterReflex#sign_in"))
        await login.receive()
        assert login._http is not None
        return {"sessionid": cookies_of(login._http)["sessionid"]}


async def sign_out(url: str, session: dict[str, str]) -> None:
    """Log the session out from a tab of its own."""
    leaving = Tab(url, cookies=dict(session))
    await leaving.negotiate()
    async with Link(leaving, "sse") as logout:
        await logout.send(leaving.reflex("CounterReflex#sign_out"))
        await logout.receive()


@pytest.mark.parametrize("held", ["websocket", "sse"])
async def test_a_logout_stops_every_tab_of_the_session_following_the_user(app_server, tab, held):
    """Regression (security audit). Bug: after a logout, the other open tabs of that
    browser (their WebSocket or event stream opened while logged in) went on receiving
    what was broadcast to the user, for as long as they stayed open."""
    session = await signed_in(tab)
    other_tab = Tab(app_server.url, cookies=dict(session))
    await other_tab.negotiate()
    other_tab.streams = [streams.sign("room")]
    stranger = await listener(app_server)
    async with Link(other_tab, held) as watching:
        await watching.ready()
        await sign_out(app_server.url, session)
        async with Link(stranger, "websocket") as sender:
            for reflex in ("BroadcastReflex#to_user", "BroadcastReflex#shout"):
                args = ["alice", "private"] if reflex.endswith("to_user") else ["public"]
                await sender.send(stranger.reflex(reflex, args=args))
                assert (await sender.receive())["type"] == "nothing"
        seen = [await watching.receive()]
        while seen[-1].get("stream") != "n.room":
            seen.append(await watching.receive())
    assert seen[0]["type"] == "unsubscribed" and seen[0]["name"].startswith("u.")
    assert not [m for m in seen if m.get("stream", "").startswith("u.")], seen


async def test_a_logged_out_cookie_no_longer_polls(app_server, tab):
    """Regression (security audit). Bug: a poll with a logged-out session's old cookie was
    still let in for a minute (the process remembered verifying it), following the user's
    stream."""
    if app_server.name == "redis-2":
        pytest.skip("each process remembers its own verifications")
    session = await signed_in(tab)
    stale = Tab(app_server.url, cookies=dict(session))
    await stale.negotiate()
    async with Link(stale, "longpoll") as link:
        await link.ready()  # verified, and remembered with this cookie
    await sign_out(app_server.url, session)
    with pytest.raises(AssertionError, match="does not belong to this session"):
        async with Link(stale, "longpoll") as link:
            await link.ready()
