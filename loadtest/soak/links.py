"""A client's transports: WebSocket, SSE and long-poll, opened from its cursor.

Each is a reader and a writer task; a failure of either sets ``down`` and the client
reconnects, so a lost network is just a transport that ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import websockets

from loadtest.soak.workload import Message

if TYPE_CHECKING:
    from loadtest.soak.client import Client


class LinkError(Exception):
    """A transport refused or failed."""


class Link:
    """One transport of a client, opened from its cursor; ``down`` is set once it fails.

    A reader task hands each server message to ``Client.deliver``; a writer task sends what
    ``send`` was handed, in order (the HTTP transports: one ``POST send`` at a time)."""

    transport = ""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.down = asyncio.Event()
        self.why = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._outgoing: list[Message] = []
        self._wake = asyncio.Event()

    def url(self, endpoint: str, *, since: bool = True) -> str:
        client = self.client
        url = f"{client.base_url}/sockpuppet/{endpoint}?token={quote(client.grant['token'])}"
        if since and client.cursor:
            url += "&since=" + quote(json.dumps(client.cursor, separators=(",", ":")))
        return url + "&streams=" + quote(client.soak.token)

    def fail(self, why: str) -> None:
        if not self.down.is_set():
            self.why = why
            self.down.set()

    def send(self, messages: list[Message]) -> None:
        """Hand messages to the writer (it never waits for a reflex to run)."""
        self._outgoing += messages
        self._wake.set()

    async def open(self) -> None:
        await self._connect()
        for work in (self._read(), self._write()):
            self._tasks.append(asyncio.create_task(self._guarded(work)))

    async def close(self, *, abrupt: bool) -> None:
        """Stop the tasks and cut the connection (``abrupt``: no closing handshake, as a
        lost network)."""
        self.fail("closed")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self._disconnect(abrupt)

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
            self.fail("ended by the server")
        except Exception as exc:
            self.fail(f"{type(exc).__name__}: {exc}"[:160])

    async def _write(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outgoing:
                batch, self._outgoing = self._outgoing, []
                await self._transmit(batch)

    async def _connect(self) -> None:
        raise NotImplementedError

    async def _read(self) -> None:
        raise NotImplementedError

    async def _transmit(self, batch: list[Message]) -> None:
        raise NotImplementedError

    async def _disconnect(self, abrupt: bool) -> None:
        raise NotImplementedError


class WebSocketLink(Link):
    transport = "websocket"
    _ws: Any = None

    async def _connect(self) -> None:
        client = self.client
        self._ws = await websockets.connect(
            self.url("ws").replace("http", "ws", 1),
            origin=client.base_url,  # type: ignore[arg-type]
            additional_headers={"Cookie": client.cookie_header},
            open_timeout=client.soak.options.timeout,
            ping_interval=None,  # as a browser: the server's pings are answered
            close_timeout=2,
            max_queue=None,
            proxy=None,
        )

    async def _read(self) -> None:
        while True:
            async with asyncio.timeout(self.client.silence):
                frame = await self._ws.recv()
            self.client.deliver(json.loads(frame))

    async def _transmit(self, batch: list[Message]) -> None:
        for message in batch:
            await self._ws.send(json.dumps(message))

    async def _disconnect(self, abrupt: bool) -> None:
        if self._ws is None:
            return
        if abrupt:
            self._ws.transport.abort()
        else:
            await self._ws.close()


class _HTTPLink(Link):
    """SSE and long-poll: client messages by ``POST send``, one request at a time."""

    _http: httpx.AsyncClient | None = None

    def _client(self, read: float) -> httpx.AsyncClient:
        client = self.client
        timeout = httpx.Timeout(client.soak.options.timeout, read=read)
        headers = {"Origin": client.base_url}
        return httpx.AsyncClient(cookies=client.cookies, timeout=timeout, headers=headers)

    async def _transmit(self, batch: list[Message]) -> None:
        assert self._http is not None
        url = self.url("send", since=False) + f"&transport={self.transport}"
        answer = await self._http.post(
            url,
            content=json.dumps(batch),
            headers={"Content-Type": "application/json"},
            timeout=self.client.soak.options.timeout + 30,  # the reflexes run before 202
        )
        if answer.status_code != 202:
            raise LinkError(f"send: HTTP {answer.status_code} {answer.text[:100]}")

    async def _disconnect(self, abrupt: bool) -> None:
        if self._http is not None:
            await self._http.aclose()


class SSELink(_HTTPLink):
    transport = "sse"
    _response: httpx.Response | None = None

    async def _connect(self) -> None:
        self._http = self._client(read=self.client.silence)
        request = self._http.build_request(
            "GET", self.url("sse"), headers={"Accept": "text/event-stream"}
        )
        self._response = await self._http.send(request, stream=True)
        if self._response.status_code != 200:
            body = (await self._response.aread())[:100]
            raise LinkError(f"sse: HTTP {self._response.status_code} {body!r}")

    async def _read(self) -> None:
        assert self._response is not None
        data: list[str] = []
        async for line in self._response.aiter_lines():
            if line.startswith("data:"):
                data.append(line[5:].lstrip())
            elif line == "" and data:
                self.client.deliver(json.loads("\n".join(data)))
                data = []

    async def _disconnect(self, abrupt: bool) -> None:
        if self._response is not None:
            await self._response.aclose()
        await super()._disconnect(abrupt)


class LongPollLink(_HTTPLink):
    transport = "longpoll"

    async def _connect(self) -> None:
        self._http = self._client(read=float(self.client.grant["longpollTimeout"]) + 10)

    async def _read(self) -> None:
        assert self._http is not None
        while True:
            answer = await self._http.get(self.url("poll"))  # the cursor as it is now
            if answer.status_code != 200:
                raise LinkError(f"poll: HTTP {answer.status_code} {answer.text[:100]}")
            for message in answer.json():
                self.client.deliver(message)


LINKS: dict[str, type[Link]] = {
    "websocket": WebSocketLink,
    "sse": SSELink,
    "longpoll": LongPollLink,
}
