"""Security boundaries (DESIGN §7, docs/security.md), each attacked by a test.

Attacks that tests elsewhere already make are not repeated here: see each section's
first lines. Each test here was seen to fail with its guard removed (the list is in
docs/security.md, "How the guards are tested").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import websockets
from django.test.signals import template_rendered

from sockpuppet import cookies, streams
from sockpuppet.bus.base import EPOCH
from sockpuppet.dispatcher import RateLimit
from sockpuppet.testing import ReflexClient
from tests.hardening.conftest import Watched, serve
from tests.support.wire import Link, Tab, sse_messages

LIMITS = {
    "SOCKPUPPET_MAX_MESSAGE_BYTES": "4096",
    "SOCKPUPPET_MAX_PENDING_REFLEXES": "3",
    "SOCKPUPPET_MAX_QUEUE": "20",
    "SOCKPUPPET_MAX_REFLEXES_PER_SECOND": "5",
    "SOCKPUPPET_MAX_CONNECTIONS_PER_SESSION": "3",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    yield from serve(tmp_path_factory, "attacks", **LIMITS)


@pytest.fixture
async def tab(healthy: Watched) -> Tab:
    tab = Tab(healthy.url)
    await tab.negotiate()
    return tab


async def newcomer(server: Watched) -> Tab:
    tab = Tab(server.url)
    await tab.negotiate()
    return tab


async def answer_to(link: Link, reflex: dict[str, Any]) -> dict[str, Any]:
    """Send a reflex; its answer (what comes before it is left out)."""
    await link.send(reflex)
    while True:
        message = await link.receive()
        if message.get("reflexId") == reflex["id"]:
            return message


async def nothing_else_came(link: Link) -> None:
    """A pong proves the link is live; anything queued before it would come first."""
    await link.send({"type": "ping", "id": "nothing-else"})
    message = await link.receive()
    assert (message["type"], message.get("id")) == ("pong", "nothing-else"), message


# --- reflex target resolution --------------------------------------------------------
# tests/engine/test_registry.py refuses _private, dunders, properties, static methods,
# Reflex's own methods, a base attribute, missing names, non-reflex classes and other
# modules; tests/transports/test_transports.py sends some of them over every transport.


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "complaint"),
    [
        ("HostileReflex#build", "no reflex action"),  # a class method
        ("HostileReflex#secret", "no reflex action"),  # a class attribute
        ("HostileReflex#tools", "no reflex action"),  # a module kept as a class attribute
        ("HostileReflex#request", "no reflex action"),  # an attribute set for each reflex
        ("HostileReflex#after_reflex", "no reflex action"),  # a hook it overrides
        ("HostileReflex#mro", "no reflex action"),  # the class's own class (type)
        ("HostileReflex#tools.system", "not a public method"),  # a path through attributes
        ("HostileReflex#echo.__globals__", "not a public method"),
        ("tests.testapp.reflexes.hostile.HostileReflex#echo", "No reflex class"),
        ("Nested.InnerReflex#ping", "No reflex class"),
        ("Channel#broadcast", "No reflex class"),  # a class of Sockpuppet that is no reflex
        ("object#__subclasses__", "No reflex class"),
    ],
)
def test_only_actions_can_be_called(target, complaint):
    result = ReflexClient().reflex(target, args=[])
    assert result.type == "error" and complaint in result.error, result.message


# --- template context ----------------------------------------------------------------
# tests/engine/test_reflexes.py: methods of the reflex are not template variables.


@pytest.fixture
def rendered_contexts() -> Iterator[list[dict[str, Any]]]:
    contexts: list[dict[str, Any]] = []

    def keep(sender: Any, context: Any, **kwargs: Any) -> None:
        contexts.append(context.flatten())

    template_rendered.connect(keep)
    yield contexts
    template_rendered.disconnect(keep)


@pytest.mark.django_db
def test_private_attributes_and_framework_state_are_not_template_context(rendered_contexts):
    ReflexClient().reflex("HostileReflex#remember")
    [context] = [c for c in rendered_contexts if "sockpuppet_reflex" in c]
    assert context["visible"] == "shown"  # what the reflex made public is there
    assert not [name for name in context if name.startswith("_")]
    reflex = context["sockpuppet_reflex"]
    own = reflex.get_context_data()
    assert set(own) == {"visible"}, own  # not _secret, _operations, element, params, session
    assert "s3cret" not in repr(own)


# --- HTML injection through reflex data ------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><img src=x onerror=alert(1)>",
    "</title><script>alert(1)</script>",
    "&lt;img src=x onerror=alert(1)&gt;",  # text that merely looks escaped stays text
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!--<img src=x onerror=alert(1)>-->",
]


class Markup(HTMLParser):
    """The tags and attributes a browser would build from a morph's HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, sorted(name for name, _ in attrs)))


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_reflex_data_rendered_into_a_page_morph_stays_text(payload):
    """Whatever a client sends is escaped by the templates, and stays escaped when the
    morph roots are cut out of the page (lxml parses and serializes them again)."""
    result = ReflexClient().reflex(
        "HostileReflex#echo",
        url="/echo/",
        args=[payload],
        selectors=["#echo", "#text", "#textarea"],
    )
    assert Markup(result.html("#echo")).tags == [
        ("p", ["id"]),
        ("p", ["id", "title"]),
        ("textarea", ["id"]),
        ("a", ["href", "id"]),
    ]
    assert Markup(result.html("#text")).tags == [] and unescape(result.html("#text")) == payload
    assert "</textarea" not in result.html("#textarea").lower()
    assert unescape(result.html("#textarea")) == payload


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_form_data_and_dataset_rendered_into_a_morph_stay_text(payload):
    client = ReflexClient()
    form = client.reflex("CounterReflex#echo_params", form={"q": payload}, selectors=["#note"])
    assert Markup(form.html("#note")).tags == [] and payload in unescape(form.html("#note"))
    own = client.reflex("HostileReflex#echo", args=[payload], selectors=["#note"])
    assert Markup(own.html("#note")).tags == [] and unescape(own.html("#note")) == payload


# --- connection tokens ---------------------------------------------------------------
# tests/engine/test_tokens.py: forged connection ids, tampering, expiry, other sessions,
# session key changes; tests/transports/test_websocket.py: garbage tokens and another
# session's token over WebSocket.


def foreign_tokens(tab: Tab, other: Tab) -> dict[str, str]:
    return {
        "another session's": other.grant["token"],
        "a stream token": streams.sign("room"),
        "a cookies token": cookies.sign(SimpleCookie()),
        "re-signed with another salt": tab.grant["token"].replace(":", ";", 1),
    }


async def refused_over_http(tab: Tab, token: str, cookie: str | None) -> list[int]:
    headers = {"Origin": tab.base_url, **({"Cookie": cookie} if cookie is not None else {})}
    query = f"token={quote(token)}"
    async with httpx.AsyncClient(base_url=tab.base_url, timeout=10) as client:
        answers = [
            await client.get(f"/sockpuppet/poll?{query}", headers=headers),
            await client.post(f"/sockpuppet/send?{query}", content=b"[]", headers=headers),
        ]
        async with client.stream("GET", f"/sockpuppet/sse?{query}", headers=headers) as sse:
            await sse.aread()
            answers.append(sse)
    for answer in answers:
        assert answer.json()["type"] == "error" and "token" in answer.json()["message"]
    return [answer.status_code for answer in answers]


async def test_tokens_not_issued_to_this_session_are_refused_everywhere(tab, healthy):
    other = await newcomer(healthy)
    for name, token in foreign_tokens(tab, other).items():
        assert await refused_over_http(tab, token, tab.cookie_header) == [401] * 3, name
        async with tab.connect(token=token) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd.code == 4001, name


async def test_a_connection_id_without_its_session_is_worthless(tab):
    """The token of a tab, stolen and presented without that tab's session cookie (or
    with a session cookie that names no session), just after the tab itself used it: what
    the process remembers of a verified token is bound to the session cookie."""
    headers = {"Origin": tab.base_url, "Cookie": tab.cookie_header}
    async with httpx.AsyncClient(base_url=tab.base_url, timeout=10) as client:
        own = await client.post(
            f"/sockpuppet/send?token={quote(tab.grant['token'])}", content=b"[]", headers=headers
        )
    assert own.status_code == 202
    for cookie in (None, "sessionid=stolen-elsewhere", f"csrftoken={tab.cookies['csrftoken']}"):
        assert await refused_over_http(tab, tab.grant["token"], cookie) == [401] * 3, cookie
    stranger = Tab(tab.base_url)  # no cookies at all
    async with stranger.connect(token=tab.grant["token"]) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4001


# --- cross-site use ------------------------------------------------------------------
# tests/transports/test_websocket.py: a WebSocket from https://evil.example is refused
# (403), and negotiate without a CSRF token too.

FOREIGN_ORIGINS = [
    "https://evil.example",
    "null",  # sandboxed iframes, file: pages
    "http://127.0.0.1.evil.example",
    "http://127.0.0.1@evil.example",
    "http://localhost.evil.example",
    "javascript://127.0.0.1",
    "http://[",  # not a URL at all (an unclosed IPv6 address): refused, not a crash
    "http://[::1",
]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
async def test_a_foreign_origin_cannot_run_reflexes_or_read_streams(tab, origin):
    query = f"token={quote(tab.grant['token'])}"
    headers = {"Origin": origin}
    async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies, timeout=10) as client:
        reflex = tab.reflex("CounterReflex#increment", selectors=["#count"])
        sent = await client.post(f"/sockpuppet/send?{query}", json=[reflex], headers=headers)
        polled = await client.get(f"/sockpuppet/poll?{query}", headers=headers)
        async with client.stream("GET", f"/sockpuppet/sse?{query}", headers=headers) as sse:
            await sse.aread()
    for answer in (sent, polled, sse):
        assert answer.status_code == 403 and answer.json()["message"] == "Origin not allowed."
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with tab.connect(origin=origin):
            pass
    assert refused.value.response.status_code == 403
    async with Link(tab, "websocket") as link:  # the refused reflex never ran
        answer = await answer_to(link, tab.reflex("CounterReflex#increment", selectors=["#count"]))
    assert answer["operations"][0]["html"] == "1"


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
async def test_a_foreign_origin_cannot_make_a_browser_store_cookies(healthy, origin):
    # A site holding a cookies token of its own session (a login of its own, over a
    # WebSocket) must not make a visitor's browser store that session's cookie.
    jar: SimpleCookie = SimpleCookie()
    jar["sessionid"] = "the-other-sites-session"
    body = {"token": cookies.sign(jar)}
    async with httpx.AsyncClient(base_url=healthy.url, timeout=10) as client:
        foreign = await client.post("/sockpuppet/cookies", json=body, headers={"Origin": origin})
        own = await client.post("/sockpuppet/cookies", json=body, headers={"Origin": healthy.url})
    assert foreign.status_code == 403 and foreign.json()["message"] == "Origin not allowed."
    assert "set-cookie" not in foreign.headers
    assert own.status_code == 204 and "the-other-sites-session" in own.headers["set-cookie"]


async def test_negotiate_needs_the_csrf_token_of_its_own_session(tab, healthy):
    other = await newcomer(healthy)
    async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies) as client:
        stolen = {"X-CSRFToken": other.cookies["csrftoken"]}
        assert (await client.post("/sockpuppet/negotiate", headers=stolen)).status_code == 403
        mine = {"X-CSRFToken": tab.cookies["csrftoken"]}
        assert (await client.post("/sockpuppet/negotiate", headers=mine)).status_code == 200


# --- streams -------------------------------------------------------------------------
# tests/transports/test_broadcast.py: unsigned, forged and tampered stream tokens are not
# followed, on every transport.


@pytest.fixture(params=["websocket", "sse", "longpoll"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def victim_streams(tab: Tab) -> dict[str, int]:
    """The streams a tab follows, as its welcome names them: its connection's, its
    session's (and its user's, when logged in)."""
    async with Link(tab, "websocket") as link:
        welcome = await link._next()
    return {name: at for name, at in welcome["since"].items() if name != EPOCH}


async def test_other_peoples_streams_cannot_be_followed(healthy, transport):
    """An attacker who learned a victim's stream names names them in its cursor, in its
    ``streams`` parameter (raw, or signed under its own name) and in ``subscribe``: none
    is followed; the victim's answers and session broadcasts never reach the attacker."""
    victim = await newcomer(healthy)
    names = await victim_streams(victim)
    connection, session = sorted(names)  # "c.…", "s.…"
    attacker = await newcomer(healthy)
    raw = [connection, session, "u.1"]
    attacker.streams = [*raw, streams.sign(session)]
    cursor = {connection: 0, session: 0, "u.1": 0}
    async with Link(attacker, transport, since=cursor) as link:
        followed = set((await link._next())["since"])  # the welcome names what is followed
        assert not followed & {connection, session, "u.1"}
        # A name signed for a page is a named stream ("n.…"), whatever it spells.
        assert {f"c.{attacker.grant['connectionId']}", f"n.{session}"} <= followed
        refused = [(await link.receive())["refusedStream"] for _ in raw]
        assert sorted(refused) == sorted(raw)
        attacker.streams = [streams.sign(session)]  # as the client does: refused ones dropped
        for name in (connection, session):
            await link.send({"type": "subscribe", "stream": name})
            assert "stream token is invalid" in (await link.receive())["message"]
        async with Link(victim, "websocket", since=names) as victim_link:
            await answer_to(victim_link, victim.reflex("CounterReflex#increment"))
            await victim_link.send(victim.reflex("BroadcastReflex#to_my_session", args=["x"]))
            got = {(await victim_link.receive())["stream"] for _ in range(2)}
            assert got == {connection, session}  # the victim got its answer and broadcast
        await nothing_else_came(link)


# --- limits --------------------------------------------------------------------------
# tests/engine/test_protocol.py: the parser's size limit. tests/bus/test_bus.py: a
# subscription past MAX_QUEUE raises SlowConsumer.


async def test_an_oversize_message_is_refused_and_the_connection_goes_on(tab):
    limit = int(LIMITS["SOCKPUPPET_MAX_MESSAGE_BYTES"])
    ascii_pad = json.dumps({"type": "ping", "id": "big", "pad": "x" * limit})
    wide_pad = json.dumps(
        {"type": "ping", "id": "wide", "pad": "é" * (limit // 2)}, ensure_ascii=False
    )
    assert len(wide_pad) < limit < len(wide_pad.encode())  # fits in characters, not in bytes
    async with Link(tab, "websocket") as link:
        for frame in (ascii_pad, wide_pad):
            await link.send(frame)
            error = await link.receive()
            assert error["type"] == "error" and "too large" in error["message"]
        await nothing_else_came(link)
    async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies) as client:
        answer = await client.post(
            f"/sockpuppet/send?token={quote(tab.grant['token'])}",
            content=ascii_pad.encode(),
            headers={"Origin": tab.base_url},
        )
    assert answer.status_code == 413 and "too large" in answer.json()["message"]


DEEP = "[" * 1500  # deeper than Python's JSON parser goes: it raises RecursionError


async def test_a_cursor_nested_too_deep_is_a_clear_error_everywhere(tab, healthy):
    token = quote(tab.grant["token"])
    headers = {"Cookie": tab.cookie_header, "Origin": tab.base_url}
    with pytest.raises(websockets.ConnectionClosed) as closed:
        url = tab.ws_url() + "&since=" + quote(DEEP)
        async with websockets.connect(url, additional_headers=headers) as ws:
            await ws.recv()
    assert closed.value.rcvd.code == 4002
    async with Link(tab, "websocket") as link:  # the connection goes on after the error
        await link.send({"type": "ack", "since": DEEP})
        error = await link.receive()
        assert error["type"] == "error" and "'since'" in error["message"]
        await nothing_else_came(link)
    async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies, timeout=10) as client:
        headers = {"Origin": tab.base_url}
        polled = await client.get(f"/sockpuppet/poll?token={token}&since={quote(DEEP)}")
        streamed = await client.get(
            f"/sockpuppet/sse?token={token}", headers={**headers, "Last-Event-ID": DEEP}
        )
        sent = await client.post(
            f"/sockpuppet/send?token={token}",
            json=[{"type": "ack", "since": DEEP}],
            headers=headers,
        )
    for answer in (polled, streamed):
        assert answer.status_code == 400 and "'since'" in answer.json()["message"]
    assert sent.status_code == 202  # its error went to the connection's stream


async def test_each_reflex_of_a_refused_frame_fails_at_once_and_none_runs(tab):
    good = tab.reflex("CounterReflex#increment", selectors=["#count"])
    bad = {**tab.reflex("CounterReflex#increment"), "args": "not a list"}
    async with Link(tab, "websocket") as link:
        await link.send([good, bad])
        errors = [await link.receive(), await link.receive()]
        assert [(e["type"], e["reflexId"]) for e in errors] == [
            ("error", good["id"]),
            ("error", bad["id"]),
        ]
        assert "'args'" in errors[0]["message"]
        await nothing_else_came(link)
        answer = await answer_to(link, tab.reflex("CounterReflex#increment", selectors=["#count"]))
    assert answer["operations"][0]["html"] == "1"  # the refused +1 never ran


async def test_a_client_gone_before_its_body_came_leaves_no_failure(tab, healthy):
    """The ``healthy`` fixture fails the test on a traceback in the server's log."""
    host, port = tab.base_url.removeprefix("http://").split(":")
    head = (
        f"POST /sockpuppet/send?token={quote(tab.grant['token'])} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nOrigin: {tab.base_url}\r\nCookie: {tab.cookie_header}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n["
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
    async with Link(tab, "websocket") as link:  # the server goes on, the connection too
        await nothing_else_came(link)


async def test_a_cookies_body_too_large_is_a_clear_error(healthy):
    async with httpx.AsyncClient(base_url=healthy.url, timeout=30) as client:
        answer = await client.post(
            "/sockpuppet/cookies",
            content=b'{"token": "' + b"x" * 3_000_000 + b'"}',
            headers={"Origin": healthy.url, "Content-Type": "application/json"},
        )
    assert answer.status_code == 413 and answer.json()["message"] == "Request body too large."


@pytest.mark.parametrize(
    ("endpoint", "allowed", "method"),
    [
        ("poll", "GET", "POST"),
        ("poll", "GET", "PUT"),
        ("sse", "GET", "POST"),
        ("sse", "GET", "DELETE"),
        ("send", "POST", "GET"),
        ("send", "POST", "PUT"),
        ("negotiate", "POST", "GET"),
        ("cookies", "POST", "GET"),
    ],
)
async def test_a_wrong_method_is_refused_with_a_clear_error(
    tab, healthy, endpoint, allowed, method
):
    """Regression. Bug: a ``PUT`` or ``POST`` of ``poll`` or ``sse`` was served as a
    ``GET`` (held, streamed), ``GET cookies`` and ``GET negotiate`` got an empty 405."""
    async with httpx.AsyncClient(base_url=tab.base_url, timeout=10) as client:
        answer = await client.request(
            method,
            f"/sockpuppet/{endpoint}?token={quote(tab.grant['token'])}",
            content=b"[]",
            headers={"Origin": tab.base_url, "Cookie": tab.cookie_header},
        )
    assert answer.status_code == 405 and answer.headers["allow"] == allowed
    assert answer.json() == {"type": "error", "message": f"Use {allowed}."}


async def test_reflexes_past_the_pending_limit_are_answered_with_an_error(tab):
    limit = int(LIMITS["SOCKPUPPET_MAX_PENDING_REFLEXES"])
    reflexes = [tab.reflex("CounterReflex#slow")] + [
        tab.reflex("CounterReflex#increment", selectors=["#count"]) for _ in range(limit + 1)
    ]  # as many as the rate lets through at once
    async with Link(tab, "websocket") as link:
        await link.send(json.dumps(reflexes))  # one frame: all arrive before any runs
        answers = {}
        while len(answers) < len(reflexes):
            message = await link.receive()
            answers[message["reflexId"]] = message
        await nothing_else_came(link)  # one answer each, no more
    refused = [a for a in answers.values() if "Too many reflexes waiting" in a.get("message", "")]
    ran = [a for a in answers.values() if a["type"] == "operations"]
    assert refused and len(ran) + len(refused) == len(reflexes) and len(ran) <= limit + 1


async def flood(sender: Tab, count: int, size: int) -> None:
    async with Link(sender, "websocket") as link:
        answer = await answer_to(link, sender.reflex("HostileReflex#flood", args=[count, size]))
    assert answer["type"] == "nothing", answer


def flooded(message: dict[str, Any]) -> int:
    assert message["stream"] == "n.flood", message
    return int(message["operations"][0]["text"].split()[0])


FLOOD, FLOOD_SIZE = 200, 65_536  # ~13 MB, far more than a 64 KiB receive buffer holds
SMALL_BUFFER = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 65_536)]  # no autotuning to 32 MiB


# Not long-poll: a poll takes at most a batch, the rest waits in history, never queued.
@pytest.mark.parametrize("transport", ["websocket", "sse"])
async def test_a_reader_too_slow_for_its_queue_is_cut_and_resumes(healthy, transport):
    """A client that stops reading while its streams fill: its queue (MAX_QUEUE) is
    bounded, so it is cut (WebSocket close 4008, or the end of its SSE stream) rather than
    growing the server's memory; it resumes from its cursor and misses nothing."""
    reader, sender = await newcomer(healthy), await newcomer(healthy)
    reader.streams = [streams.sign("flood")]
    received: list[int] = []
    if transport == "websocket":
        sock = socket.create_connection(("127.0.0.1", int(reader.base_url.rsplit(":", 1)[1])))
        sock.setsockopt(*SMALL_BUFFER[0])
        headers = {"Cookie": reader.cookie_header, "Origin": reader.base_url}
        async with websockets.connect(
            reader.ws_url(), sock=sock, additional_headers=headers, max_queue=1, max_size=None
        ) as ws:
            await ws.send(json.dumps({"type": "ping", "id": "up"}))
            while reader.applied(json.loads(await ws.recv()))["type"] != "pong":
                pass  # following the stream; from here on, not reading
            await flood(sender, FLOOD, FLOOD_SIZE)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    message = reader.applied(json.loads(await ws.recv()))
                    if message["type"] != "heartbeat":
                        received.append(flooded(message))
        assert closed.value.rcvd.code == 4008 and "too slow" in closed.value.rcvd.reason
    else:
        transport_ = httpx.AsyncHTTPTransport(socket_options=SMALL_BUFFER)
        url = f"/sockpuppet/sse?token={quote(reader.grant['token'])}&streams={reader.streams[0]}"
        async with (
            httpx.AsyncClient(
                base_url=reader.base_url, cookies=reader.cookies, transport=transport_, timeout=30
            ) as client,
            client.stream("GET", url) as response,
        ):
            events = sse_messages(response)
            reader.applied(await anext(events))  # the welcome: following from here on
            await flood(sender, FLOOD, FLOOD_SIZE)
            async for message in events:  # ends when the server ends the stream
                if message["type"] != "heartbeat":
                    received.append(flooded(reader.applied(message)))
    assert 0 < len(received) < FLOOD
    while len(received) < FLOOD:  # it resumes from its cursor
        before = len(received)
        # What it missed is read from history into the same bounded queue: past MAX_QUEUE,
        # the resumed connection is cut too, after delivering what was queued.
        with contextlib.suppress(websockets.ConnectionClosed, StopAsyncIteration):
            async with Link(reader, transport) as link:
                while len(received) < FLOOD:
                    received.append(flooded(await link.receive()))
        assert len(received) > before, "a resume that brings nothing"
    assert received == list(range(FLOOD))


async def test_a_body_of_reflexes_past_the_pending_limit_is_answered_with_errors(tab):
    """A ``POST send`` body runs its reflexes one after another: those past
    MAX_PENDING_REFLEXES would wait as if queued, so they are refused the same way."""
    limit = int(LIMITS["SOCKPUPPET_MAX_PENDING_REFLEXES"])
    reflexes = [
        tab.reflex("CounterReflex#increment", selectors=["#count"]) for _ in range(2 * limit)
    ]
    async with Link(tab, "longpoll") as link:
        await link.send(*reflexes)
        answers = [await link.receive() for _ in reflexes]
        await nothing_else_came(link)
    assert [a["reflexId"] for a in answers] == [r["id"] for r in reflexes]
    assert [a["operations"][0]["html"] for a in answers[:limit]] == ["1", "2", "3"]
    assert all("Too many reflexes waiting" in a["message"] for a in answers[limit:])


@pytest.mark.parametrize("transport", ["websocket", "longpoll"])
async def test_reflexes_past_the_rate_limit_are_answered_with_an_error(tab, transport):
    """One after another, each answered before the next: only the rate limits them."""
    rate = int(LIMITS["SOCKPUPPET_MAX_REFLEXES_PER_SECOND"])
    answers = []
    async with Link(tab, transport) as link:
        for _ in range(4 * rate):  # 5 at once, then 5 a second: well past, in under 3 s
            answers.append(await answer_to(link, tab.reflex("CounterReflex#nothing")))
    refused = [a for a in answers if a["type"] == "error"]
    assert refused and all(
        a["message"] == f"Too many reflexes from this session: at most {rate} a second."
        for a in refused
    )
    assert answers[:rate] == [a for a in answers[:rate] if a["type"] == "nothing"]


async def test_pings_past_the_rate_are_dropped_and_not_kept(tab, healthy):
    """Regression (security audit). Bug: pings were never rate-limited, and every pong is
    kept in the connection stream's history: one client's 1 MiB body of pings kept
    0.7 MiB in the bus for five minutes, again with every POST."""
    rate = int(LIMITS["SOCKPUPPET_MAX_REFLEXES_PER_SECOND"])
    async with Link(tab, "longpoll") as link:
        await link.send(*[{"type": "ping", "id": str(n)} for n in range(20)])
        answered = []
        while (message := await link.receive())["type"] == "pong":
            answered.append(message["id"])
            if len(answered) == rate:
                break
        await asyncio.sleep(1.2)  # the bucket refills: a pong proves nothing more came
        await nothing_else_came(link)
    assert answered == [str(n) for n in range(rate)]


async def test_one_sessions_connections_share_its_rate(healthy, tab):
    """Regression (security audit). Bug: the rate was counted per connection id, and a
    session may negotiate any number of them: ten tokens ran ten times the rate."""
    rate = int(LIMITS["SOCKPUPPET_MAX_REFLEXES_PER_SECOND"])
    tabs = [tab]
    for _ in range(2):
        another = Tab(healthy.url, cookies={"sessionid": tab.cookies["sessionid"]})
        await another.negotiate()
        tabs.append(another)
    answers = []
    for each in tabs:
        async with Link(each, "longpoll") as link:
            for _ in range(rate):
                answers.append(await answer_to(link, each.reflex("CounterReflex#nothing")))
    refused = [a for a in answers if a["type"] == "error"]
    assert len(refused) >= rate, answers  # three tabs, one session: one bucket


def test_the_rate_is_a_token_bucket_per_key(settings):
    """In-process, on a clock of its own: bursts of the rate, then the rate."""
    settings.SOCKPUPPET = {"MAX_REFLEXES_PER_SECOND": 4}
    now = [0.0]
    rates = RateLimit(clock=lambda: now[0])
    assert [rates.allow("a") for _ in range(5)] == [True] * 4 + [False]
    assert rates.allow("b")  # another session has its own bucket
    now[0] += 0.5  # two tokens back
    assert [rates.allow("a") for _ in range(3)] == [True, True, False]
    now[0] += 60  # never more than a burst
    assert [rates.allow("a") for _ in range(5)] == [True] * 4 + [False]


async def test_a_session_holds_a_bounded_number_of_connections(tab, healthy):
    """Connections of one session past MAX_CONNECTIONS_PER_SESSION are refused (WebSocket
    close 4029, HTTP 429) with a reason; other sessions are not affected, and a
    connection that ends makes room (nothing leaks)."""
    limit = int(LIMITS["SOCKPUPPET_MAX_CONNECTIONS_PER_SESSION"])
    query = f"token={quote(tab.grant['token'])}"
    async with contextlib.AsyncExitStack() as held:
        links = [await held.enter_async_context(Link(tab, t)) for t in ["websocket", "sse"]]
        async with Link(tab, "websocket") as third:  # the limit, reached
            await third.ready()
            async with tab.connect() as ws:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
            assert (
                closed.value.rcvd.code == 4029
                and "Too many connections" in closed.value.rcvd.reason
            )
            async with httpx.AsyncClient(base_url=tab.base_url, cookies=tab.cookies) as client:
                for endpoint in ("sse", "poll"):
                    async with client.stream("GET", f"/sockpuppet/{endpoint}?{query}") as answer:
                        await answer.aread()
                    assert answer.status_code == 429, endpoint
                    assert f"limit {limit}" in answer.json()["message"]
            other = await newcomer(healthy)
            async with Link(other, "websocket") as unaffected:
                await unaffected.ready()
        async with Link(tab, "longpoll") as room:  # the third one ended: room for one more
            await room.ready()
        for link in links:
            await link.ready()
