"""A protocol client that negotiates and talks like the browser client (docs/protocol.md).

Used by the integration tests; small on purpose: it reads and writes raw messages so
tests can assert on exactly what crosses the wire.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import websockets

from sockpuppet.bus.base import EPOCH


@dataclass
class Tab:
    """One negotiated browser tab: cookies, token, and the cursor of what it applied."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    grant: dict[str, Any] = field(default_factory=dict)
    cursor: dict[str, int] = field(default_factory=dict)
    streams: list[str] = field(default_factory=list)  # signed named-stream tokens

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def negotiate(self, page: str = "/") -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url, cookies=self.cookies) as client:
            (await client.get(page)).raise_for_status()
            csrf = client.cookies["csrftoken"]
            answer = await client.post(
                "/sockpuppet/negotiate", headers={"X-CSRFToken": csrf}, json={}
            )
            answer.raise_for_status()
            self.cookies = dict(client.cookies.items())
        self.grant = answer.json()
        return self.grant

    def ws_url(self, token: str | None = None, since: dict[str, int] | None = None) -> str:
        url = (
            self.base_url.replace("http", "ws", 1)
            + f"/sockpuppet/ws?token={quote(token or self.grant['token'])}"
        )
        if since:
            url += "&since=" + quote(json.dumps(since))
        if self.streams:
            url += "&streams=" + quote(",".join(self.streams))
        return url

    def connect(
        self,
        *,
        origin: str | None = None,
        token: str | None = None,
        since: dict[str, int] | None = None,
    ) -> Any:
        headers = {"Cookie": self.cookie_header, "Origin": origin or self.base_url}
        # max_queue=None: frames a test leaves unread must not stall the closing handshake.
        return websockets.connect(
            self.ws_url(token, since), additional_headers=headers, max_queue=None
        )

    def reflex(self, target: str | None, *, url: str = "/", **fields: Any) -> dict[str, Any]:
        return {
            "type": "reflex",
            "id": fields.pop("id", uuid.uuid4().hex),
            "target": target,
            "args": fields.pop("args", []),
            "url": self.base_url + url,
            **fields,
        }

    def seen(self, message: dict[str, Any]) -> bool:
        """A message at or before the cursor: a duplicate the client drops (not resync)."""
        if "position" not in message or message["type"] == "resync":
            return False
        return bool(message["position"] <= self.cursor.get(message["stream"], 0))

    def applied(self, message: dict[str, Any]) -> dict[str, Any]:
        """Record a received message in the cursor, as the client does; returns it."""
        for stream, position in message.get("since", {}).items():
            if stream == EPOCH:
                self.cursor[stream] = position  # as the client: the server's word
            else:
                self.cursor.setdefault(stream, position)
        if "position" in message:
            self.cursor[message["stream"]] = message["position"]
        return message


def cookies_of(client: httpx.AsyncClient) -> dict[str, str]:
    """The browser's view of its jar: a cookie the server set wins over the one we seeded."""
    ordered = sorted(client.cookies.jar, key=lambda cookie: bool(cookie.domain))
    return {cookie.name: cookie.value for cookie in ordered if cookie.value}


async def receive(ws: Any, tab: Tab, *, skip: tuple[str, ...] = ("heartbeat",)) -> dict[str, Any]:
    """The next message that is not one of ``skip``."""
    while True:
        message = tab.applied(json.loads(await ws.recv()))
        if message["type"] not in skip:
            return message


class Link:
    """An open connection of a tab over one transport: ``send`` and ``receive`` messages."""

    def __init__(self, tab: Tab, transport: str, since: dict[str, int] | None = None) -> None:
        self.tab = tab
        self.transport = transport
        self.since = dict(since if since is not None else tab.cursor)
        self._ws: Any = None
        self._http: httpx.AsyncClient | None = None
        self._events: Any = None
        self._stream_cm: Any = None
        self._pending: list[dict[str, Any]] = []

    async def __aenter__(self) -> Link:
        self._http = httpx.AsyncClient(
            base_url=self.tab.base_url, cookies=self.tab.cookies, timeout=60
        )
        try:
            if self.transport == "websocket":
                self._ws = await self.tab.connect(since=self.since)
            elif self.transport == "sse":
                self._stream_cm = self._http.stream("GET", self._url("sse", self.since))
                response = await self._stream_cm.__aenter__()
                if response.status_code != 200:
                    raise AssertionError(
                        f"sse: {response.status_code} {(await response.aread()).decode()}"
                    )
                self._events = sse_messages(response)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._events is not None:
            await self._events.aclose()
        if self._stream_cm is not None:
            await self._stream_cm.__aexit__(None, None, None)
        if self._http is not None:
            await self._http.aclose()

    def _url(self, endpoint: str, since: dict[str, int] | None = None) -> str:
        url = f"/sockpuppet/{endpoint}?token={quote(self.tab.grant['token'])}"
        if self.tab.streams:
            url += "&streams=" + quote(",".join(self.tab.streams))
        return url + ("&since=" + quote(json.dumps(since)) if since else "")

    async def send(self, *messages: dict[str, Any] | str) -> None:
        frames = [m if isinstance(m, str) else json.dumps(m) for m in messages]
        if self._ws is not None:
            for frame in frames:
                await self._ws.send(frame)
            return
        assert self._http is not None
        body = (
            frames[0]
            if len(frames) == 1 and not frames[0].startswith("{")
            else "[" + ",".join(frames) + "]"
        )
        answer = await self._http.post(
            self._url("send"), content=body, headers={"Origin": self.tab.base_url}
        )
        assert answer.status_code == 202, answer.text

    async def ready(self) -> None:
        """Prove the link as the client does: a ping answered by its pong."""
        await self.send({"type": "ping", "id": "ready"})
        while (await self.receive())["type"] != "pong":
            pass

    async def receive(self, skip: tuple[str, ...] = ("heartbeat",)) -> dict[str, Any]:
        """The next message not in ``skip``, recorded in the tab's cursor."""
        while True:
            message = self.tab.applied(await self._next())
            if message["type"] not in skip:
                return message

    async def _next(self) -> dict[str, Any]:
        if self._ws is not None:
            return dict(json.loads(await self._ws.recv()))
        if self._events is not None:
            return await anext(self._events)
        while not self._pending:
            assert self._http is not None
            answer = await self._http.get(self._url("poll", self.tab.cursor or self.since))
            assert answer.status_code == 200, f"poll: {answer.status_code} {answer.text}"
            self._pending = [m for m in answer.json() if not self.tab.seen(m)]
        return self._pending.pop(0)


async def sse_messages(response: httpx.Response) -> Any:
    """Parse a text/event-stream into messages (``data:`` JSON), remembering ``id:``."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
        elif line == "" and data:
            yield json.loads("\n".join(data))
            data = []
