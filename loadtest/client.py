"""A synchronous protocol client for Locust (gevent): negotiate, open a transport, prove it.

It speaks docs/protocol.md like the browser client, with the blocking libraries that
gevent's monkey-patching makes cooperative: ``requests`` for negotiate and the SSE
stream; geventhttpclient (Locust's own fast client) for ``POST send`` and the long-polls,
whose cost per request is a fraction of ``requests``' (when hundreds of polls answer at
once, a slow client would be measured as a slow server); ``websocket-client`` for
WebSocket. One reader
greenlet per link reads server messages and hands each to ``Link.deliver``, which keeps
the cursor, drops duplicates and wakes whoever waits for that reflex id or ping id.

Hundreds of links in one Locust process read in turn. Each reader notes when its bytes
arrived and lets the others read before it decodes (``arrived``): the last follower of a
broadcast is then timed when its bytes reached it, not after every other follower's
decoding and Locust bookkeeping in the same process.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import gevent
import requests
import websocket
from gevent.event import AsyncResult
from geventhttpclient import URL, HTTPClient

Message = dict[str, Any]
OnMessage = Callable[[Message, int, float], None]
# A server message, its size on the wire, and when its bytes were read (time.time()).
Received = tuple[Message, int, float]

# A reader stops by itself after this long, whatever happens (runs are minutes long).
MAX_LIFETIME = 3600.0


def arrived() -> float:
    """Now, as bytes were just read; then let the other readers read theirs before this
    one decodes (one ``gevent.sleep(0)``)."""
    at = time.time()
    gevent.sleep(0)
    return at


class LinkLost(Exception):
    """The transport closed or failed while an answer was awaited."""


class Tab:
    """One negotiated browser tab: its cookies and connection grant."""

    def __init__(self, base_url: str, streams: list[str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.streams = list(streams or [])
        self.cookies: dict[str, str] = {}
        self.grant: dict[str, Any] = {}

    def negotiate(self, page: str = "/", timeout: float = 30) -> dict[str, Any]:
        """GET the page (for the csrftoken cookie), then POST negotiate, as the browser does."""
        with requests.Session() as http:
            http.get(self.base_url + page, timeout=timeout).raise_for_status()
            answer = http.post(
                self.base_url + "/sockpuppet/negotiate",
                headers={"X-CSRFToken": http.cookies["csrftoken"] or "", "Origin": self.base_url},
                json={},
                timeout=timeout,
            )
            answer.raise_for_status()
            self.cookies = {k: v or "" for k, v in http.cookies.get_dict().items()}
        self.grant = answer.json()
        return self.grant

    @property
    def headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie, "Origin": self.base_url}

    def url(self, endpoint: str, since: dict[str, int] | None = None, **extra: str) -> str:
        url = f"{self.base_url}/sockpuppet/{endpoint}?token={quote(self.grant['token'])}"
        if since:
            url += "&since=" + quote(json.dumps(since, separators=(",", ":")))
        if self.streams:
            url += "&streams=" + quote(",".join(self.streams))
        return url + "".join(f"&{k}={quote(v)}" for k, v in extra.items())


class Link:
    """An open transport of a tab: ``send``, ``ask`` (send and await the answer), ``close``."""

    transport = ""

    def __init__(self, tab: Tab, on_broadcast: OnMessage | None = None) -> None:
        self.tab = tab
        self.on_broadcast = on_broadcast
        self.cursor: dict[str, int] = {}
        self.closed = False
        self.lost: str | None = None
        self._waiters: dict[str, AsyncResult] = {}
        self._reader: gevent.Greenlet | None = None
        self._deadline = time.monotonic() + MAX_LIFETIME

    @property
    def alive(self) -> bool:
        return not self.closed and self.lost is None

    def open(self, timeout: float = 10) -> float:
        """Connect and prove the transport by a ping/pong round trip; returns its seconds."""
        self._connect(timeout)
        self._reader = gevent.spawn(self._read_loop)
        started = time.perf_counter()
        self.ask({"type": "ping", "id": uuid.uuid4().hex}, timeout)
        return time.perf_counter() - started

    def ask(self, message: Message, timeout: float) -> tuple[Message, int]:
        """Send one message and wait for its answer (by reflex id / ping id)."""
        waiter = self._waiters[message["id"]] = AsyncResult()
        try:
            self.send(message)
            return waiter.get(timeout=timeout)
        finally:
            self._waiters.pop(message["id"], None)

    def deliver(self, message: Message, size: int, at: float) -> None:
        """One server message: cursor, duplicates, waiters, broadcasts."""
        for stream, position in message.get("since", {}).items():
            self.cursor.setdefault(stream, position)
        if "position" in message and message["type"] != "resync":
            if message["position"] <= self.cursor.get(message["stream"], 0):
                return  # seen already: a long-poll's history replay
            self.cursor[message["stream"]] = message["position"]
        key = message.get("reflexId") or (message["id"] if message["type"] == "pong" else None)
        waiter = self._waiters.get(key) if key else None
        if waiter is not None:
            waiter.set((message, size))
        elif self.on_broadcast is not None and message["type"] in ("operations", "resync"):
            self.on_broadcast(message, size, at)

    def close(self) -> None:
        """Stop the reader first (a socket must not close under a read), then disconnect."""
        self.closed = True
        if self._reader is not None:
            self._reader.kill(block=True, timeout=5)
        self._disconnect()

    def _read_loop(self) -> None:
        try:
            for message, size, at in self._messages():
                self.deliver(message, size, at)
                if self.closed or time.monotonic() > self._deadline:
                    return
            if not self.closed:
                self._lose("the server ended the transport")
        except Exception as exc:
            if not self.closed:
                self._lose(f"{type(exc).__name__}: {exc}")

    def _lose(self, why: str) -> None:
        self.lost = why
        for waiter in list(self._waiters.values()):
            waiter.set_exception(LinkLost(why))

    # Each transport implements these.
    def _connect(self, timeout: float) -> None:
        raise NotImplementedError

    def _messages(self) -> Iterator[Received]:
        raise NotImplementedError

    def send(self, *messages: Message) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        raise NotImplementedError


class WebSocketLink(Link):
    transport = "websocket"
    _ws: websocket.WebSocket

    def _connect(self, timeout: float) -> None:
        url = self.tab.url("ws", self.cursor).replace("http", "ws", 1)
        headers = [f"Cookie: {self.tab.headers['Cookie']}"]
        self._ws = websocket.create_connection(
            url, header=headers, origin=self.tab.base_url, timeout=timeout
        )
        self._ws.settimeout(None)  # the reader blocks (cooperatively) until a frame comes

    def _messages(self) -> Iterator[Received]:
        while True:
            raw = self._ws.recv()
            at = arrived()
            yield json.loads(raw), len(raw), at

    def send(self, *messages: Message) -> None:
        for message in messages:
            self._ws.send(json.dumps(message))

    def _disconnect(self) -> None:
        if hasattr(self, "_ws"):
            self._ws.close(timeout=1)


class Http:
    """One kept-alive HTTP/1.1 connection to the tab's server, with its cookies."""

    def __init__(self, tab: Tab, timeout: float) -> None:
        self._client = HTTPClient.from_url(
            tab.base_url, headers=tab.headers, connection_timeout=10, network_timeout=timeout
        )

    def get(self, url: str) -> tuple[int, bytes]:
        return self._answer(self._client.get(URL(url).request_uri))

    def post(self, url: str, body: str) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        return self._answer(self._client.post(URL(url).request_uri, body, headers=headers))

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def _answer(response: Any) -> tuple[int, bytes]:
        try:
            return response.status_code, response.read()
        finally:
            response.release()


class _PostingLink(Link):
    """SSE and long-poll send client messages by ``POST send``, one request at a time."""

    _post: Http | None = None

    def open(self, timeout: float = 10) -> float:
        self._post = Http(self.tab, timeout=60)  # the cookies of the negotiated tab
        return super().open(timeout)

    def send(self, *messages: Message) -> None:
        assert self._post is not None, "send before open"
        status, body = self._post.post(
            self.tab.url("send", transport=self.transport), json.dumps(list(messages))
        )
        if status != 202:
            raise LinkLost(f"send: HTTP {status} {body[:200]!r}")

    def _disconnect(self) -> None:
        if self._post is not None:
            self._post.close()


class SSELink(_PostingLink):
    transport = "sse"
    _stream: requests.Response

    def _connect(self, timeout: float) -> None:
        read_timeout = 2.5 * float(self.tab.grant.get("heartbeat", 20))
        self._get = requests.Session()
        self._stream = self._get.get(
            self.tab.url("sse", self.cursor),
            headers={**self.tab.headers, "Accept": "text/event-stream"},
            stream=True,
            timeout=(timeout, read_timeout),
        )
        if self._stream.status_code != 200:
            raise LinkLost(f"sse: HTTP {self._stream.status_code} {self._stream.text[:200]}")

    def _messages(self) -> Iterator[Received]:
        """The ``data:`` of each event, from the chunks as they arrive."""
        buffer = b""
        for chunk in self._stream.iter_content(chunk_size=None):
            at = arrived()
            buffer = (buffer + chunk).replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                data = [line[5:].lstrip() for line in event.split(b"\n") if line[:5] == b"data:"]
                if data:
                    raw = b"\n".join(data)
                    yield json.loads(raw), len(raw), at

    def _disconnect(self) -> None:
        super()._disconnect()
        if hasattr(self, "_stream"):
            self._stream.close()
            self._get.close()


class LongPollLink(_PostingLink):
    transport = "longpoll"

    def _connect(self, timeout: float) -> None:
        self._get = Http(self.tab, timeout=float(self.tab.grant.get("longpollTimeout", 25)) + 10)

    def _messages(self) -> Iterator[Received]:
        """Poll after poll, each with the cursor as it is then."""
        while not self.closed and time.monotonic() < self._deadline:
            status, body = self._get.get(self.tab.url("poll", self.cursor))
            if status != 200:
                raise LinkLost(f"poll: HTTP {status} {body[:200]!r}")
            at = arrived()
            messages = json.loads(body)
            share = len(body) // max(1, len(messages))
            for message in messages:
                yield message, share, at

    def _disconnect(self) -> None:
        super()._disconnect()
        if hasattr(self, "_get"):
            self._get.close()


LINKS: dict[str, type[Link]] = {
    "websocket": WebSocketLink,
    "sse": SSELink,
    "longpoll": LongPollLink,
}
