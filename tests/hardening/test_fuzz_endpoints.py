"""Fuzzing every endpoint of a real server: negotiate, ws, sse, poll, send.

Each hostile frame, body, query string or header gets a clear answer, predicted from the
parser itself: an HTTP 4xx with a JSON message, or a WebSocket error message or close
code with a reason; a frame the parser accepts gets exactly the answers its messages
call for. Never a 500, a hang or a traceback in the server log; afterwards the server
serves another client as before. ``FUZZ_EXAMPLES`` runs longer (docs/security.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from sockpuppet import protocol, streams
from sockpuppet.protocol import ProtocolError
from tests.hardening.conftest import Watched, serve
from tests.hardening.strategies import FUZZ, frames, json_values, texts

pytestmark = pytest.mark.timeout(120)

LIMIT = 65_536  # the fuzzed server's MAX_MESSAGE_BYTES: "too large" is within reach
ANSWERS = {"operations", "nothing", "halted", "forbidden", "error"}
FOREIGN = "https://evil.example"
TOO_DEEP = "Malformed JSON: maximum recursion depth"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    yield from serve(
        tmp_path_factory,
        "fuzz",
        SOCKPUPPET_MAX_MESSAGE_BYTES=str(LIMIT),
        SOCKPUPPET_LONGPOLL_TIMEOUT="0.2",
        # Every ping of a frame is answered: the rate (pings count) is test_attacks's.
        SOCKPUPPET_MAX_REFLEXES_PER_SECOND="1000000",
    )


@dataclass
class Visitor:
    """A negotiated tab, over plain sync clients: cookies, token, cursor, answered ids."""

    url: str
    cookies: dict[str, str]
    grant: dict[str, Any]
    cursor: dict[str, int] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)

    @classmethod
    def negotiate(cls, url: str) -> Visitor:
        with httpx.Client(base_url=url, timeout=10) as client:
            client.get("/").raise_for_status()
            answer = client.post(
                "/sockpuppet/negotiate", headers={"X-CSRFToken": client.cookies["csrftoken"]}
            )
            answer.raise_for_status()
            return cls(url, dict(client.cookies.items()), answer.json())

    @property
    def token(self) -> str:
        return str(self.grant["token"])

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def applied(self, message: dict[str, Any]) -> dict[str, Any]:
        for stream, position in message.get("since", {}).items():
            self.cursor.setdefault(stream, position)
        if "position" in message:
            self.cursor[message["stream"]] = message["position"]
        return message

    def query(self) -> str:
        return f"token={quote(self.token)}&since={quote(json.dumps(self.cursor))}"

    def websocket(self, query: str | None = None, origin: str | None = None) -> ClientConnection:
        headers = {"Cookie": self.cookie_header, "Origin": origin or self.url}
        target = self.url.replace("http", "ws", 1) + "/sockpuppet/ws?" + (query or self.query())
        return connect(
            target, additional_headers=headers, max_size=None, max_queue=None, proxy=None
        )

    def probe(self) -> dict[str, Any]:
        return {"type": "reflex", "id": uuid.uuid4().hex, "target": "CounterReflex#nothing",
                "url": self.url + "/"}  # fmt: skip


@dataclass
class Expected:
    """What a frame or body calls for, by the parser's own reading of it."""

    error: str | None = None
    pongs: list[str] = field(default_factory=list)
    answers: set[str] = field(default_factory=set)
    subscribes: int = 0

    # Ids of the reflexes of a frame refused whole, each answered with its error.
    refused: tuple[str, ...] = ()

    # Nesting so deep that json.loads hits the recursion limit, which depends on the
    # caller's stack: the server (deeper in its stack) may refuse what this process parses.
    deep: bool = False

    @classmethod
    def of(cls, frame: str | bytes, visitor: Visitor) -> Expected:
        text = frame.decode("latin-1") if isinstance(frame, bytes) else frame
        deep = text.count("[") + text.count("{") > 500
        try:
            messages = protocol.decode(frame, LIMIT)
        except ProtocolError as exc:
            return cls(error=str(exc), refused=exc.reflex_ids, deep=deep)
        expected = cls(deep=deep)
        for message in messages:
            if message["type"] == "ping":
                expected.pongs.append(message["id"])
            elif message["type"] == "subscribe":
                expected.subscribes += 1
            elif message["type"] == "reflex" and message["id"] not in visitor.claimed:
                visitor.claimed.add(message["id"])  # a reflex id runs once per connection
                expected.answers.add(message["id"])
        return expected

    @property
    def count(self) -> int:
        errors = max(1, len(self.refused)) if self.error is not None else 0
        return errors + len(self.pongs) + len(self.answers) + self.subscribes

    def check(self, received: list[dict[str, Any]], visitor: Visitor) -> None:
        """``received``: every message the frame caused, heartbeats left out."""
        if self.deep and [m.get("message", "")[: len(TOO_DEEP)] for m in received] == [TOO_DEEP]:
            visitor.claimed -= self.answers
            return
        if self.error is not None:
            # One error for each reflex of the refused frame (the client fails them at
            # once), or one for the frame when it had none it could name.
            expected = [(reflex_id, self.error) for reflex_id in self.refused] or [
                (None, self.error)
            ]
            assert [m["type"] for m in received] == ["error"] * len(expected), received
            assert [(m.get("reflexId"), m.get("message")) for m in received] == expected
            return
        assert sorted(m["id"] for m in received if m["type"] == "pong") == sorted(self.pongs)
        answers = [m for m in received if "reflexId" in m]
        assert all(m["type"] in ANSWERS for m in answers), answers
        assert all(isinstance(m.get("message", ""), str) for m in answers)
        assert sorted(m["reflexId"] for m in answers) == sorted(self.answers)
        others = [m for m in received if m["type"] != "pong" and "reflexId" not in m]
        assert len(others) == self.subscribes, others
        assert all(m["type"] in ("subscribed", "error") for m in others), others


def as_sent(frame: str | bytes) -> str | bytes:
    """A str a client cannot encode (lone surrogates) travels as the bytes it would be."""
    if isinstance(frame, str):
        try:
            frame.encode()
        except UnicodeEncodeError:
            return frame.encode("utf-8", "surrogatepass")
    return frame


@pytest.fixture(scope="module")
def visitor(server: Watched) -> Visitor:
    return Visitor.negotiate(server.url)


# --- ws frames ---------------------------------------------------------------------------


@FUZZ
@given(frames)
@example(json.dumps({"type": "ping", "id": "x" * LIMIT}))
@example(b'{"type":"ping","id":"\xed\xa0\x80"}')
@example('{"type":"ping","id":"\\ud800"}')
def test_websocket_frames(healthy, visitor, frame):
    frame = as_sent(frame)
    expected = Expected.of(frame, visitor)
    probe = visitor.probe()
    with visitor.websocket() as ws:
        ws.send(frame)
        ws.send(json.dumps(probe))
        received = []
        while True:
            message = visitor.applied(json.loads(ws.recv(timeout=10)))
            if message.get("reflexId") == probe["id"]:
                break
            if message["type"] != "heartbeat":
                received.append(message)
    expected.check(received, visitor)


def test_invalid_utf8_in_a_text_frame_is_closed_with_1007(healthy, visitor):
    with visitor.websocket() as ws:
        ws.recv(timeout=10)  # welcome
        ws.send(b'{"type":"ping","id":"\xff"}', text=True)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    healthy.mark()  # uvicorn logs a traceback of its own for this; it is not Sockpuppet's


# --- send bodies -------------------------------------------------------------------------


@FUZZ
@given(frames)
@example(b"x" * (LIMIT + 1))
@example(json.dumps([{"type": "ping", "id": str(i)} for i in range(50)]))
def test_send_bodies(healthy, visitor, frame):
    body = as_sent(frame)
    body = body if isinstance(body, bytes) else body.encode()
    expected = Expected.of(body, visitor)
    with httpx.Client(base_url=visitor.url, cookies=visitor.cookies, timeout=10) as client:
        answer = client.post(
            f"/sockpuppet/send?token={quote(visitor.token)}",
            content=body,
            headers={"Origin": visitor.url},
        )
        if len(body) > LIMIT:
            assert answer.status_code == 413 and "too large" in answer.json()["message"]
            return
        assert answer.status_code == 202, answer.text
        received: list[dict[str, Any]] = []
        # Until every expected answer came, or (when the server's stack may refuse what
        # this process parses) until nothing more comes.
        while len(received) < expected.count or expected.deep:
            polled = client.get(f"/sockpuppet/poll?{visitor.query()}")
            assert polled.status_code == 200, polled.text
            batch = [visitor.applied(m) for m in polled.json()]
            assert batch, "a poll answers at least its welcome"
            if len(batch) == 1:
                break  # the hold expired: nothing more is coming
            received += [m for m in batch if m["type"] != "heartbeat"]
    expected.check(received, visitor)


# --- query strings and headers -----------------------------------------------------------

tokens = st.sampled_from(["valid", "other session", "truncated", "stream token", "", None]) | texts
cursors = (
    st.none()
    | st.sampled_from(["valid", "{}", "[]", "null", '{"c.x": -1}', '{"c.x": 18446744073709551616}'])
    | st.dictionaries(texts, st.integers(), max_size=3).map(json.dumps)
    | json_values.map(json.dumps)
    | texts
)
stream_names = st.lists(st.sampled_from(["signed", "tampered", "n.room", "s.x", "u.1"]) | texts)
origins = st.sampled_from(["same", None, FOREIGN, "null", "http://127.0.0.1.evil.example"])
jars = st.sampled_from(["valid", "valid+garbage", "garbage", "unknown session", None])
# Extra parameters, keys prefixed so they never stand for token, since or streams.


def sendable(text: str) -> str:
    """What a client can put in a URL: UTF-8 (a lone surrogate becomes U+FFFD)."""
    return text.encode("utf-8", "replace").decode()


def quoted(text: str) -> str:
    return quote(sendable(text), safe="")


extras = st.lists(
    st.tuples(texts, texts).map(lambda kv: f"x{quoted(kv[0])}={quoted(kv[1])}")
    | st.binary(max_size=8).map(lambda b: "x=" + quote_from_bytes(b))
    | texts.map(lambda t: "transport=" + quoted(t)),
    max_size=3,
)


@dataclass
class Request:
    """A fuzzed query string and headers, and the answer they call for."""

    query: str
    headers: dict[str, str]
    origin_ok: bool
    token_ok: bool
    cursor_ok: bool
    refused_streams: int

    @property
    def status(self) -> int:
        """Poll and SSE check the origin, the token, then the cursor."""
        return (
            403
            if not self.origin_ok
            else 401
            if not self.token_ok
            else 400
            if not self.cursor_ok
            else 200
        )


@st.composite
def requests(draw: st.DrawFn, visitor: Visitor, other: Visitor, sse: bool = False) -> Request:
    token = draw(tokens)
    token = {
        "valid": visitor.token,
        "other session": other.token,
        "truncated": visitor.token[:-3],
        "stream token": streams.sign("room"),
    }.get(token or "", token)
    since = draw(cursors)
    since = json.dumps(visitor.cursor) if since == "valid" else since
    names = draw(st.none() | stream_names)
    names = None if names is None else [
        {"signed": streams.sign("room"), "tampered": streams.sign("room")[:-2] + "xx"}.get(n, n)
        for n in names
    ]  # fmt: skip
    params = draw(extras)
    if token is not None:
        params.append("token=" + quote(sendable(token), safe=""))
    if since is not None:
        since = sendable(since)
        params.append("since=" + quote(since, safe=""))
    joined = None if names is None else sendable(",".join(names))
    if joined is not None:
        params.append("streams=" + quote(joined, safe=""))
    params = draw(st.permutations(params))
    headers = {}
    origin = draw(origins)
    if origin is not None:
        headers["Origin"] = visitor.url if origin == "same" else origin
    jar = draw(jars)
    cookie = {
        "valid": visitor.cookie_header,
        "valid+garbage": 'a@b=1; "q=; ' + visitor.cookie_header + "; =x; y",
        "garbage": "a@b=1; sessionid",
        "unknown session": "sessionid=nope",
    }.get(jar or "")
    if cookie is not None:
        headers["Cookie"] = cookie
    if sse and draw(st.booleans()):
        legal = lambda c: c is not None and c.isascii() and c.isprintable() and c == c.strip()  # noqa: E731
        headers["Last-Event-ID"] = draw(cursors.filter(legal))
        if headers["Last-Event-ID"] == "valid":
            headers["Last-Event-ID"] = json.dumps(visitor.cursor)
    try:
        protocol.parse_cursor(headers.get("Last-Event-ID") or since)
        cursor_ok = True
    except ProtocolError:
        cursor_ok = False
    refused = 0
    for name in filter(None, (joined or "").split(",")):
        try:
            streams.verify(name)
        except streams.StreamError:
            refused += 1
    return Request(
        query="&".join(params),
        headers=headers,
        origin_ok=origin in ("same", None),
        token_ok=token == visitor.token and jar in ("valid", "valid+garbage"),
        cursor_ok=cursor_ok,
        refused_streams=refused,
    )


@pytest.fixture(scope="module")
def other(server: Watched) -> Visitor:
    return Visitor.negotiate(server.url)


def assert_refusal(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    refusal = answer.json()
    assert refusal["type"] == "error" and isinstance(refusal["message"], str) and refusal["message"]


def assert_notices(messages: list[dict[str, Any]], count: int) -> None:
    notices = [m for m in messages if "refusedStream" in m]
    assert len(notices) == count and all(m["type"] == "error" for m in notices)


@FUZZ
@given(data=st.data())
def test_poll_query_strings_and_headers(healthy, visitor, other, data):
    request = data.draw(requests(visitor, other))
    with httpx.Client(base_url=visitor.url, timeout=10) as client:
        answer = client.get(f"/sockpuppet/poll?{request.query}", headers=request.headers)
    if request.status != 200:
        assert_refusal(answer, request.status)
        return
    assert answer.status_code == 200, answer.text
    messages = answer.json()
    assert messages[0]["type"] == "heartbeat"
    assert_notices(messages, request.refused_streams)


@FUZZ
@given(data=st.data())
def test_sse_query_strings_and_headers(healthy, visitor, other, data):
    request = data.draw(requests(visitor, other, sse=True))
    with (
        httpx.Client(base_url=visitor.url, timeout=10) as client,
        client.stream("GET", f"/sockpuppet/sse?{request.query}", headers=request.headers) as answer,
    ):
        if request.status != 200:
            answer.read()
            assert_refusal(answer, request.status)
            return
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        events = (json.loads(line[5:]) for line in answer.iter_lines() if line.startswith("data:"))
        messages = [next(events) for _ in range(1 + request.refused_streams)]
    assert messages[0]["type"] == "heartbeat"
    assert_notices(messages[1:], request.refused_streams)


@FUZZ
@given(data=st.data())
def test_send_query_strings_and_headers(healthy, visitor, other, data):
    request = data.draw(requests(visitor, other))
    with httpx.Client(base_url=visitor.url, timeout=10) as client:
        answer = client.post(
            f"/sockpuppet/send?{request.query}", content=b"[]", headers=request.headers
        )
    if not request.origin_ok or not request.token_ok:
        assert_refusal(answer, 403 if not request.origin_ok else 401)
    else:
        assert answer.status_code == 202, answer.text  # send has no cursor


@FUZZ
@given(data=st.data())
def test_websocket_query_strings_and_headers(healthy, visitor, other, data):
    """The handshake checks the origin (HTTP 403), then the cursor (close 4002) and the
    token (close 4001); a bad stream token is a notice, not a refusal."""
    request = data.draw(requests(visitor, other))
    target = visitor.url.replace("http", "ws", 1) + "/sockpuppet/ws?" + request.query
    try:
        ws = connect(
            target, additional_headers=request.headers, max_size=None, max_queue=None, proxy=None
        )
    except InvalidStatus as exc:
        assert not request.origin_ok and exc.response.status_code == 403
        return
    assert request.origin_ok
    with ws:
        try:
            messages = [json.loads(ws.recv(timeout=10)) for _ in range(1 + request.refused_streams)]
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.reason
            assert closed.rcvd.code == (4002 if not request.cursor_ok else 4001)
            assert not (request.cursor_ok and request.token_ok)
            return
    assert request.cursor_ok and request.token_ok
    assert messages[0]["type"] == "heartbeat"
    assert_notices(messages[1:], request.refused_streams)


# --- negotiate ---------------------------------------------------------------------------


@FUZZ
@given(
    method=st.sampled_from(["POST", "POST", "GET", "PUT", "DELETE"]),
    csrf=st.sampled_from(["valid", "wrong", None]),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "text/plain",
            None,
        ]
    ),
    body=st.binary(max_size=200) | texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    extra=extras,
)
def test_negotiate_requests(healthy, visitor, method, csrf, content_type, body, extra):
    """Only a POST with the CSRF token of its session is answered with a grant; anything
    else is refused with a 4xx (Django's own CSRF page for a missing or wrong token)."""
    headers = {"Origin": visitor.url}
    if csrf is not None:
        headers["X-CSRFToken"] = visitor.cookies["csrftoken"] if csrf == "valid" else "x" * 32
    if content_type is not None:
        headers["Content-Type"] = content_type
    with httpx.Client(base_url=visitor.url, cookies=visitor.cookies, timeout=10) as client:
        answer = client.request(
            method, "/sockpuppet/negotiate?" + "&".join(extra), content=body, headers=headers
        )
    form = content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    if method == "GET" or (method != "POST" and csrf == "valid"):
        assert answer.status_code == 405
    elif form and answer.status_code == 400:
        healthy.mark()  # a form Django cannot read (read first by the CSRF check): Django logs it
    elif csrf != "valid":
        assert answer.status_code == 403  # the CSRF check comes first for unsafe methods
    else:
        assert answer.status_code == 200, answer.text
        assert answer.json()["protocol"] == 1 and answer.json()["token"]


# --- cookies ---------------------------------------------------------------------------


@FUZZ
@given(frames | json_values.map(lambda v: json.dumps({"token": v})))
@example('{"token": 5}')
@example("[" * 5000)
def test_cookies_bodies(healthy, visitor, body):
    """Regression. Bug: ``POST cookies`` answered 500 to ``{"token": 5}`` and to deeply
    nested JSON. Cause: ``signing.loads`` raises TypeError for what is not a string, and
    ``json.loads`` RecursionError, neither caught. Fix: both are refused like a forged
    token (400)."""
    body = as_sent(body)
    with httpx.Client(base_url=visitor.url, timeout=10) as client:
        answer = client.post("/sockpuppet/cookies", content=body)
    assert_refusal(answer, 400)


# --- regressions found by the fuzzers ----------------------------------------------------


def test_a_lone_surrogate_in_a_ping_id_neither_deafens_nor_poisons_the_connection(healthy, visitor):
    """Regression (see also test_fuzz_protocol). Bug: a ping with the id ``"\\ud800"``
    killed the WebSocket's sender task (the socket stayed open, deaf), and every later
    poll of the connection answered 500: its pong, unencodable, stayed in history. Fix:
    the parser refuses lone surrogates; the connection goes on."""
    with visitor.websocket() as ws:
        ws.send('{"type": "ping", "id": "\\ud800"}')
        ws.send('{"type": "ping", "id": "after"}')
        received = [visitor.applied(json.loads(ws.recv(timeout=10))) for _ in range(3)]
    assert [m["type"] for m in received] == ["heartbeat", "error", "pong"]
    assert "surrogate" in received[1]["message"] and received[2]["id"] == "after"
    with httpx.Client(base_url=visitor.url, cookies=visitor.cookies, timeout=10) as client:
        polled = client.get(f"/sockpuppet/poll?token={quote(visitor.token)}")  # all history
    assert polled.status_code == 200


@pytest.mark.parametrize("endpoint", ["ws", "sse", "poll", "send"])
def test_a_cookie_name_python_refuses_does_not_refuse_the_connection(healthy, visitor, endpoint):
    """Regression. Bug: a browser that also holds a cookie named like ``a@b`` (set by
    another app of the domain; browsers send it) got 500 from every endpoint. Cause:
    ``http.cookies.SimpleCookie`` raises ``CookieError`` on such names. Fix: the session
    cookie is read with Django's own ``parse_cookie``, as ``request.COOKIES`` is."""
    cookie = "a@b=1; " + visitor.cookie_header
    if endpoint == "ws":
        target = visitor.url.replace("http", "ws", 1) + "/sockpuppet/ws?" + visitor.query()
        with connect(target, additional_headers={"Cookie": cookie}, proxy=None) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "heartbeat"
        return
    with httpx.Client(base_url=visitor.url, timeout=10) as client:
        url = f"/sockpuppet/{endpoint}?{visitor.query()}"
        if endpoint == "send":
            answer = client.post(url, content=b"[]", headers={"Cookie": cookie})
            assert answer.status_code == 202
        else:
            with client.stream("GET", url, headers={"Cookie": cookie}) as answer:
                assert answer.status_code == 200


# --- afterwards --------------------------------------------------------------------------


def test_after_the_fuzzing_another_client_is_served(healthy):
    """Last in the module: the fuzzed server serves a newcomer a page morph at once."""
    newcomer = Visitor.negotiate(healthy.url)
    with newcomer.websocket() as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "heartbeat"
        ws.send(json.dumps({**newcomer.probe(), "target": "CounterReflex#increment",
                            "selectors": ["#count"]}))  # fmt: skip
        answer = json.loads(ws.recv(timeout=10))
    assert answer["type"] == "operations" and answer["operations"][0]["html"] == "1"
