"""A soak test: minutes of mixed transports, reconnect storms and broadcasts, then invariants.

    python -m loadtest.soak --clients 300 --workers 2 --duration 10m --record

Starts Redis, ``--workers`` demo processes on the Redis bus and nginx balancing them
round-robin with no affinity (``--no-nginx``: the clients alternate between the
processes), as ``loadtest/stack.py`` does. Then, from this one asyncio process:

- ``--clients`` clients, split evenly over WebSocket, SSE and long-poll, each a tab of its
  own session following the named stream ``soak``. Each fires a reflex every ``--think``
  seconds (a page, selector or nothing morph; at most three unanswered) and records every
  answer by reflex id. Every ``--drop-every`` seconds it cuts its transport abruptly and
  resumes from its cursor, re-sending the reflexes not answered yet with their ids (the
  server runs an id once), as the browser client does; a transport that fails, or a
  reflex unanswered for ``--timeout`` seconds, makes it reconnect the same way.
- ``--storms`` times, half of the clients cut their transport at the same instant.
- A publisher broadcasts ``dispatch_event("soak", detail={"seq": n})`` on the stream
  every ``--interval`` seconds through the Redis bus and notes each one's position.

After ``--duration`` the clients stop firing, wait up to ``--drain`` for their last
answers and broadcasts, and the invariants are checked (``check`` and ``growth``):

- every reflex answered exactly once, by the answer its kind expects, no error, and no
  answer to a reflex the client never sent;
- each client got every broadcast published after it joined (a position above the one
  its first welcome gave), exactly once, in order; no ``resync``, no gap in the positions
  of any stream, nothing at or below the cursor delivered again;
- no growth from the end of the warm-up to the end of the load in the demo processes'
  RSS and asyncio tasks, nor in Redis keys other than reflex claims (a claim lives
  ``CLAIM_TTL``, an hour, by design: one per reflex run); once the clients have left, no
  bus subscription left and tasks back to where they were before any came. Open files
  and threads are reported, not judged: the bus's Redis pool and the reflex threads grow
  to their caps under bursts and stay.

Asyncio tasks and bus subscriptions are counted by a probe, ``GET /__soak__``, which this
module's ``application`` puts in front of the demo (the servers run
``loadtest.soak:application``; everything else goes to ``demo.asgi``).

The Markdown summary goes to stdout and to ``loadtest/out/<timestamp>-soak/summary.md``
(beside the servers' logs, ``result.json`` and every client's record); ``--record`` also
writes it to ``loadtest/results/<date>-soak.md``. Exit status 1 when an invariant fails.
The run stops by itself: every wait has a timeout, and past its hard deadline a watchdog
says where the tasks wait, interrupts the run, and failing that kills the programs it
started (by pid) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import faulthandler
import functools
import json
import os
import platform
import random
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import redis.asyncio as aioredis
import websockets

from loadtest import procstat, stack
from tests.support.redis import RedisServer
from tests.support.server import ROOT, Uvicorn, base_env, migrate

OUT = ROOT / "loadtest" / "out"
RESULTS = ROOT / "loadtest" / "results"
STREAM = "soak"
PROBE = "/__soak__"
TRANSPORTS = ("websocket", "sse", "longpoll")
MAX_IN_FLIGHT = 3  # unanswered reflexes a client lets wait before it stops clicking
Message = dict[str, Any]

# kind -> (page, target, extra reflex fields, expected answer: type, morph)
KINDS: dict[str, tuple[str, str, Message, tuple[str, str | None]]] = {
    "page": (
        "/",
        "CounterReflex#increment",
        {"dataset": {"step": "1"}, "attrs": {"id": "increment", "data-step": "1"}},
        ("operations", "page"),
    ),
    "selector": ("/todos/", "TodoReflex#add", {"formData": "title="}, ("operations", "selector")),
    "nothing": ("/playground/", "PlaygroundReflex#tally_quietly", {}, ("nothing", None)),
}


# --- the servers: the demo behind a probe -----------------------------------------------


@functools.cache
def _demo() -> Any:
    from demo.asgi import application as demo  # imported in the server, never in the soak

    return demo


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The demo, and ``GET /__soak__``: this process's asyncio tasks and bus subscriptions
    (and the first streams they follow), as JSON."""
    if scope["type"] == "http" and scope["path"] == PROBE:
        from sockpuppet import bus

        followers = getattr(bus._bus, "_followers", {})
        body = {
            "tasks": len(asyncio.all_tasks()),
            "subscriptions": len({id(s) for each in followers.values() for s in each}),
            "streams": sorted(followers)[:10],  # which, when a few are left
        }
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
        return
    await _demo()(scope, receive, send)


@contextlib.contextmanager
def running(logs: Path, options: argparse.Namespace) -> Iterator[stack.Stack]:
    """``stack.running`` with the probed demo: Redis, the processes, nginx; all stopped by
    pid on exit, their logs kept in ``logs``."""
    with contextlib.ExitStack() as stops:
        folder = Path(stops.enter_context(tempfile.TemporaryDirectory(prefix="sockpuppet-soak-")))
        stops.callback(stack._keep_logs, folder, logs)
        database = folder / "db.sqlite3"
        migrate(database)
        redis = RedisServer(folder / "redis").start()
        stops.callback(redis.stop)
        env = base_env(
            database,
            {
                "SOCKPUPPET_BUS": redis.url,
                "SOCKPUPPET_TRANSPORTS": ",".join(TRANSPORTS),
                "DEMO_DEBUG": "0",
                "DEMO_LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": options.settings,
                **dict(item.split("=", 1) for item in options.env),
            },
        )
        servers = []
        for number in range(options.workers):
            log = folder / f"uvicorn-{number}.log"
            server = Uvicorn("loadtest.soak:application", cwd=ROOT, env=env, log_path=log)
            stops.callback(server.stop)
            servers.append(server.start())
        proxy = None
        if options.nginx:
            proxy = stack._BigNginx(folder / "nginx", [s.port for s in servers])
            stops.callback(proxy.stop)
            proxy.start()
        yield stack.Stack(redis, servers, proxy, env)


# --- the clients' transports ------------------------------------------------------------


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


# --- a client ---------------------------------------------------------------------------


@dataclass
class Record:
    """What one client sent and saw; the invariants are checked on these alone."""

    name: str
    transport: str
    connection: str = ""  # its id: its own stream is ``c.<id>``
    sent: dict[str, str] = field(default_factory=dict)  # reflex id -> kind, in firing order
    answers: list[tuple[str, str, str | None]] = field(default_factory=list)  # id, type, morph
    joined: int | None = None  # the soak stream's position in the first welcome
    seqs: list[int] = field(default_factory=list)  # broadcasts, in arrival order
    resyncs: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # a stream's position skipping ahead
    again: int = 0  # messages at or below the cursor, delivered again (dropped unseen)
    notices: list[str] = field(default_factory=list)  # errors that answer no reflex
    connects: int = 0
    reconnects: dict[str, int] = field(default_factory=dict)  # by reason
    losses: list[str] = field(default_factory=list)  # why a transport failed
    failed_connects: list[str] = field(default_factory=list)
    resent: int = 0  # reflexes sent again after a reconnect
    late: int = 0  # answers that came after --timeout
    reflex_ms: list[int] = field(default_factory=list)  # first send -> answer
    broadcast_ms: list[int] = field(default_factory=list)  # publish -> receipt


class Client:
    """A browser tab: negotiates once, then keeps one transport open and clicks."""

    def __init__(self, soak: Soak, index: int, transport: str, base_url: str) -> None:
        self.soak = soak
        self.record = Record(f"{transport}-{index}", transport)
        self.base_url = base_url
        self.rng = random.Random(f"{soak.options.seed}-{index}")
        self.cookies: dict[str, str] = {}
        self.grant: dict[str, Any] = {}
        self.cursor: dict[str, int] = {}
        self.outbox: dict[str, Message] = {}  # unanswered reflexes, oldest first
        self.first_sent: dict[str, float] = {}
        self.last_sent: dict[str, float] = {}
        self.pongs: dict[str, asyncio.Event] = {}
        self.link: Link | None = None  # the open transport (proven by its pong), if any

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    @property
    def silence(self) -> float:
        """No message for this long (heartbeats included) is a lost transport."""
        return 2.5 * float(self.grant["heartbeat"])

    @property
    def settled(self) -> bool:
        """Nothing unanswered, and the last broadcast seen."""
        last = self.soak.published[-1][1] if self.soak.published else 0
        return not self.outbox and self.cursor.get(self.soak.stream, 0) >= last

    def deliver(self, message: Message) -> None:
        """One server message, as the browser client takes it: the cursor first."""
        record, kind = self.record, message.get("type")
        for stream, position in message.get("since", {}).items():
            self.cursor.setdefault(stream, position)
            if stream == self.soak.stream and record.joined is None:
                record.joined = position
        if "position" in message:
            stream, position = message["stream"], message["position"]
            if kind == "resync":
                record.resyncs.append(f"{stream} -> {position}: {message.get('reason')}")
                self.cursor[stream] = position
                return
            last = self.cursor.get(stream)
            if last is not None and position <= last:
                record.again += 1
                return
            if last is not None and position != last + 1:
                record.gaps.append(f"{stream}: {last} -> {position}")
            self.cursor[stream] = position
        if "reflexId" in message:
            self._answered(message)
        elif kind == "pong" and message["id"] in self.pongs:
            self.pongs[message["id"]].set()
        elif kind == "operations" and message.get("stream") == self.soak.stream:
            for operation in message["operations"]:
                if operation.get("name") == STREAM:
                    record.seqs.append(operation["detail"]["seq"])
                    delay = time.time() - operation["detail"]["t"]
                    record.broadcast_ms.append(round(delay * 1000))
        elif kind == "error":
            record.notices.append(str(message.get("message"))[:160])

    def _answered(self, message: Message) -> None:
        reflex_id = message["reflexId"]
        self.record.answers.append((reflex_id, message["type"], message.get("morph")))
        if self.outbox.pop(reflex_id, None) is not None:
            took = time.monotonic() - self.first_sent[reflex_id]
            self.record.reflex_ms.append(round(took * 1000))
            self.record.late += took > self.soak.options.timeout
            self.last_sent.pop(reflex_id, None)

    async def live(self, delay: float) -> None:
        """Negotiate, then keep a transport open until the soak closes: after every loss,
        drop, storm or stalled reflex, reconnect and resume from the cursor."""
        soak, options = self.soak, self.soak.options
        if await pause(soak.closing, delay) or not await self._negotiate():
            return
        firing: asyncio.Task[None] | None = None
        attempt = 0
        next_drop = time.monotonic() + self.rng.uniform(*options.drop_every)
        while not soak.closing.is_set():
            try:
                link = await self._connect()
            except Exception as exc:
                self.record.failed_connects.append(f"{type(exc).__name__}: {exc}"[:160])
                attempt += 1
                await pause(soak.closing, self.rng.uniform(0, min(10, 0.25 * 2**attempt)))
                continue
            self.link, opened = link, time.monotonic()
            self.record.connects += 1
            firing = firing or asyncio.create_task(self._fire())
            why = "cancelled"
            try:
                why = await self._hold(link, next_drop)
            finally:
                self.link = None
                await link.close(abrupt=why != "closing")
            if why == "closing":
                break
            self.record.reconnects[why] = self.record.reconnects.get(why, 0) + 1
            if why == "lost":
                self.record.losses.append(link.why)
            if why in ("drop", "storm"):
                next_drop = time.monotonic() + self.rng.uniform(*options.drop_every)
                wait = self.rng.uniform(0, 0.25)  # the client's first retry, right away
            else:
                attempt = 0 if time.monotonic() - opened > 5 else attempt + 1
                wait = self.rng.uniform(0, min(10, 0.25 * 2**attempt))
            await pause(soak.closing, wait)
        if firing is not None:
            await firing

    def kick(self) -> None:
        """A reconnect storm: cut the transport now."""
        if self.link is not None:
            self.link.fail("storm")

    async def _negotiate(self, tries: int = 8) -> bool:
        page = self.base_url + "/"
        for attempt in range(tries):
            try:
                async with httpx.AsyncClient(timeout=self.soak.options.timeout) as http:
                    (await http.get(page)).raise_for_status()
                    answer = await http.post(
                        self.base_url + "/sockpuppet/negotiate",
                        headers={"X-CSRFToken": http.cookies["csrftoken"], "Origin": self.base_url},
                        json={},
                    )
                    answer.raise_for_status()
                    self.cookies, self.grant = dict(http.cookies.items()), answer.json()
                    self.record.connection = self.grant["connectionId"]
                    return True
            except Exception as exc:
                self.record.failed_connects.append(f"negotiate: {type(exc).__name__}: {exc}"[:160])
                if await pause(self.soak.closing, self.rng.uniform(0, 0.25 * 2**attempt)):
                    break
        return False

    async def _connect(self) -> Link:
        """Open a transport, prove it by a ping's pong (answers replayed from history come
        first), then send every reflex still unanswered, oldest first, with its id."""
        link = LINKS[self.record.transport](self)
        ping = uuid.uuid4().hex
        pong = self.pongs[ping] = asyncio.Event()
        try:
            async with asyncio.timeout(self.soak.options.timeout):
                await link.open()
                link.send([{"type": "ping", "id": ping}])
                await first(pong.wait(), link.down.wait())
            if not pong.is_set():
                raise LinkError(link.why)
        except BaseException:
            await link.close(abrupt=True)
            raise
        finally:
            del self.pongs[ping]
        waiting = list(self.outbox.values())
        if waiting:
            self.record.resent += len(waiting)
            self._send(link, waiting)
        return link

    async def _hold(self, link: Link, next_drop: float) -> str:
        """Wait until the transport is lost, due for a drop, or stalled; or the soak closes."""
        soak, timeout = self.soak, self.soak.options.timeout
        while True:
            load = not soak.quiet.is_set()
            wait = min(1.0, max(0.0, next_drop - time.monotonic())) if load else 1.0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await link.down.wait()
            now = time.monotonic()
            if soak.closing.is_set():
                return "closing"
            if link.down.is_set():
                return "storm" if link.why == "storm" else "lost"
            if load and now >= next_drop:
                return "drop"
            if any(now - sent > timeout for sent in self.last_sent.values()):
                return "stalled"

    async def _fire(self) -> None:
        """Click every ``--think`` seconds until the load ends."""
        soak = self.soak
        while not await pause(soak.quiet, self.rng.uniform(*soak.options.think)):
            if len(self.outbox) >= MAX_IN_FLIGHT:
                continue
            kind = self.rng.choice(sorted(KINDS))
            page, target, fields, _ = KINDS[kind]
            message = {
                "type": "reflex",
                "id": uuid.uuid4().hex,
                "target": target,
                "args": [],
                "url": self.base_url + page,
                "selectors": [],
                "permanentAttributeName": "data-reflex-permanent",
                "tabId": self.record.name,
                **fields,
            }
            self.record.sent[message["id"]] = kind
            self.outbox[message["id"]] = message
            self.first_sent[message["id"]] = time.monotonic()
            if self.link is not None:
                self._send(self.link, [message])

    def _send(self, link: Link, messages: list[Message]) -> None:
        now = time.monotonic()
        self.last_sent.update((m["id"], now) for m in messages)
        link.send(messages)


async def pause(event: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``, or less if ``event`` is set meanwhile; whether it is."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(0.0, seconds)):
            await event.wait()
    return event.is_set()


async def first(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until one of ``waits`` is done; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- the run ----------------------------------------------------------------------------


class Soak:
    """The clients, the publisher, the storms and the two phases' events."""

    def __init__(self, options: argparse.Namespace, hosts: list[str], token: str) -> None:
        self.options = options
        self.token = token
        self.stream = f"n.{STREAM}"
        self.quiet = asyncio.Event()  # the load is over: no reflex, drop or broadcast more
        self.closing = asyncio.Event()  # the clients close their transports
        self.published: list[tuple[int, int]] = []  # seq, position
        self.publish_failures: list[str] = []
        self.storms: list[int] = []
        self.clients = [
            Client(self, i, TRANSPORTS[i % 3], hosts[(i // 3) % len(hosts)])
            for i in range(options.clients)
        ]

    def progress(self, sample: Sample) -> None:
        """One line on stderr: how the run goes."""
        records = [c.record for c in self.clients]
        print(
            f"soak {sample.at:4.0f} s: {sum(c.link is not None for c in self.clients)}"
            f"/{len(self.clients)} connected, {sum(len(r.sent) for r in records)} reflexes"
            f" ({sum(len(c.outbox) for c in self.clients)} unanswered),"
            f" {len(self.published)} broadcasts; RSS {[kb // 1024 for kb in sample.rss_kb]} MiB,"
            f" tasks {sample.tasks}, subscriptions {sample.subscriptions},"
            f" Redis keys {sample.redis_keys} + {sample.claims} claims",
            file=sys.stderr,
            flush=True,
        )

    async def publish(self) -> None:
        """A numbered broadcast every ``--interval`` seconds until the load ends."""
        from sockpuppet.channel import Channel

        rng = random.Random(f"{self.options.seed}-publisher")
        seq = 0
        while not self.quiet.is_set():
            detail = {"seq": seq, "t": time.time()}
            try:
                async with asyncio.timeout(10):
                    channel = Channel(STREAM).dispatch_event(STREAM, detail=detail)
                    self.published.append((seq, await channel.abroadcast()))
            except Exception as exc:
                self.publish_failures.append(f"seq {seq}: {type(exc).__name__}: {exc}"[:160])
            seq += 1
            await pause(self.quiet, rng.uniform(*self.options.interval))

    async def storm(self, at: list[float], started: float) -> None:
        """Cut half of the clients' transports at once, at each of ``at`` (seconds)."""
        rng = random.Random(f"{self.options.seed}-storms")
        for when in at:
            if await pause(self.quiet, started + when - time.monotonic()):
                return
            connected = [c for c in self.clients if c.link is not None]
            for client in rng.sample(connected, len(connected) // 2):
                client.kick()
            self.storms.append(len(connected) // 2)


@dataclass
class Sample:
    """Resources at one moment: per demo process, Redis, and this process."""

    at: float
    rss_kb: list[int]
    fds: list[int]
    threads: list[int]  # from /proc
    tasks: list[int | None]  # asyncio tasks, from the probe
    subscriptions: list[int | None]
    streams: list[list[str]]  # the first streams followed
    redis_keys: int  # besides claims
    claims: int
    redis_memory: int
    own_tasks: int
    own_rss_kb: int


@dataclass
class Probe:
    """Reads what the system under test holds: its processes, Redis, the probe endpoint."""

    running: stack.Stack
    redis: aioredis.Redis
    http: httpx.AsyncClient
    started: float = field(default_factory=time.monotonic)

    async def sample(self) -> Sample:
        probes: list[dict[str, Any]] = []
        for server in self.running.servers:
            try:
                probes.append((await self.http.get(server.url + PROBE, timeout=10)).json())
            except Exception:
                probes.append({})
        pids = self.running.pids
        keys = {key async for key in self.redis.scan_iter(count=1000)}  # both counts at once
        claims = sum(key.startswith(b"sockpuppet:claim:") for key in keys)
        return Sample(
            at=round(time.monotonic() - self.started, 1),
            rss_kb=[procstat.rss_kb(p) for p in pids],
            fds=[len(os.listdir(f"/proc/{p}/fd")) for p in pids],
            threads=[len(os.listdir(f"/proc/{p}/task")) for p in pids],
            tasks=[p.get("tasks") for p in probes],
            subscriptions=[p.get("subscriptions") for p in probes],
            streams=[p.get("streams", []) for p in probes],
            redis_keys=len(keys) - claims,
            claims=claims,
            redis_memory=int((await self.redis.info("memory"))["used_memory"]),
            own_tasks=len(asyncio.all_tasks()),
            own_rss_kb=procstat.rss_kb(os.getpid()),
        )

    async def every(self, first: float, every: float, series: list[Sample], run: Soak) -> None:
        """A sample at ``first`` seconds, then every ``every``, until cancelled: at its own
        pace, so a slow sample never stretches the load."""
        moment = first
        while True:
            await asyncio.sleep(max(0.0, self.started + moment - time.monotonic()))
            series.append(await self.sample())
            run.progress(series[-1])
            moment = max(moment + every, time.monotonic() - self.started)


@dataclass
class Outcome:
    records: list[Record]
    published: list[tuple[int, int]]
    publish_failures: list[str]
    storms: list[int]
    samples: dict[str, Sample]  # baseline, warm, end, drained, left
    series: list[Sample]  # every sample during the load
    cpu: dict[str, float]
    wall: float
    drained: bool
    crashes: list[str]  # clients that ended by an exception (a bug of the soak itself)


async def soak(options: argparse.Namespace, running: stack.Stack) -> Outcome:
    """The run itself, from the first client to the last one leaving."""
    from sockpuppet.bus import reset_bus
    from sockpuppet.streams import sign

    redis = aioredis.Redis.from_url(running.redis.url, socket_timeout=30)
    http = httpx.AsyncClient(timeout=10)
    try:
        for server in running.servers:
            for page in {k[0] for k in KINDS.values()}:
                (await http.get(server.url + page)).raise_for_status()
        probe = Probe(running, redis, http)
        samples = {"baseline": await probe.sample()}
        run = Soak(options, running.hosts, sign(STREAM))
        cpu = _cpu(running)
        probe.started = started = time.monotonic()
        ramp = options.clients / options.ramp
        clients = [asyncio.create_task(c.live(i / options.ramp)) for i, c in enumerate(run.clients)]
        publisher = asyncio.create_task(run.publish())
        at = [options.duration * (k + 1) / (options.storms + 1) for k in range(options.storms)]
        storms = asyncio.create_task(run.storm([max(a, ramp) for a in at], started))
        series: list[Sample] = []
        warm = min(options.duration, ramp + options.warmup)
        sampling = asyncio.create_task(probe.every(warm, options.sample_every, series, run))
        await asyncio.sleep(max(0.0, started + options.duration - time.monotonic()))
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        series.append(await probe.sample())
        run.progress(series[-1])
        samples["warm"], samples["end"] = series[0], series[-1]
        run.quiet.set()
        await asyncio.wait_for(asyncio.gather(publisher, storms), 30)
        drain_end = time.monotonic() + options.drain
        while not all(c.settled for c in run.clients) and time.monotonic() < drain_end:
            await asyncio.sleep(0.5)  # the clients' own tasks take the last answers meanwhile
        drained = all(c.settled for c in run.clients)
        wall = time.monotonic() - started
        samples["drained"] = await probe.sample()
        run.progress(samples["drained"])
        cpu = {k: v - cpu[k] for k, v in _cpu(running).items()}
        run.closing.set()
        ended = await asyncio.wait_for(asyncio.gather(*clients, return_exceptions=True), 60)
        crashes = [
            f"{client.record.name} crashed: {end!r}"[:200]
            for client, end in zip(run.clients, ended, strict=True)
            if isinstance(end, BaseException)
        ]
        samples["left"] = await _settled(probe, samples["baseline"])
        run.progress(samples["left"])
        return Outcome(
            [c.record for c in run.clients],
            run.published,
            run.publish_failures,
            run.storms,
            samples,
            series,
            cpu,
            wall,
            drained,
            crashes,
        )
    finally:
        await http.aclose()
        await redis.aclose()
        await reset_bus()


async def _settled(probe: Probe, baseline: Sample) -> Sample:
    """After the clients left: a sample once the servers let go (at most 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        now = await probe.sample()
        if not _leftovers(baseline, now) or time.monotonic() > deadline:
            return now
        await asyncio.sleep(1)  # the servers notice closed connections by themselves


def _cpu(running: stack.Stack) -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    found = {
        "demo": sum(procstat.cpu_seconds(p) for p in running.pids),
        "soak (clients)": own.ru_utime + own.ru_stime,
        "machine": procstat.busy_seconds(),
    }
    for name, program in (("redis", running.redis), ("nginx", running.nginx)):
        if program is not None and program.process is not None:
            found[name] = procstat.cpu_seconds(program.process.pid)
    return found


# --- the invariants ---------------------------------------------------------------------


@dataclass
class Verdict:
    """Counts over every client, and what broke (each item a failed invariant)."""

    clients: int = 0
    never_connected: int = 0
    reflexes_sent: int = 0
    answered: int = 0
    reflexes_duplicated: int = 0
    reflexes_lost: int = 0
    errors: int = 0
    wrong: int = 0  # an answer of another kind than the reflex's, or to a reflex never sent
    published: int = 0
    expected: int = 0
    delivered: int = 0
    broadcasts_lost: int = 0
    broadcasts_duplicated: int = 0
    out_of_order: int = 0
    unexpected: int = 0
    resyncs: int = 0
    gaps: int = 0
    again: int = 0
    failures: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def check(records: list[Record], published: list[tuple[int, int]]) -> Verdict:
    """Every reflex answered once, every broadcast since joining received once, in order."""
    verdict = Verdict(clients=len(records), published=len(published))
    for record in records:
        _check_reflexes(record, verdict)
        _check_broadcasts(record, published, verdict)
        verdict.resyncs += len(record.resyncs)
        verdict.gaps += len(record.gaps)
        verdict.again += record.again
        verdict.never_connected += record.connects == 0
        for problem in [*record.resyncs, *record.gaps, *record.notices]:
            verdict.examples.append(f"{record.name}: {problem}")
    counts = {
        "clients never connected": verdict.never_connected,
        "reflexes lost": verdict.reflexes_lost,
        "reflexes answered twice": verdict.reflexes_duplicated,
        "error answers": verdict.errors,
        "wrong answers": verdict.wrong,
        "broadcasts lost": verdict.broadcasts_lost,
        "broadcasts duplicated": verdict.broadcasts_duplicated,
        "broadcasts out of order": verdict.out_of_order,
        "broadcasts not published": verdict.unexpected,
        "resyncs": verdict.resyncs,
        "gaps in positions": verdict.gaps,
        "messages delivered again": verdict.again,
    }
    verdict.failures += [f"{n} {what}" for what, n in counts.items() if n]
    if not published:
        verdict.failures.append("nothing was published")
    return verdict


def _check_reflexes(record: Record, verdict: Verdict) -> None:
    answers = Counter(reflex_id for reflex_id, _, _ in record.answers)
    lost = [reflex_id for reflex_id in record.sent if not answers[reflex_id]]
    verdict.reflexes_sent += len(record.sent)
    verdict.answered += len(record.sent) - len(lost)
    verdict.reflexes_lost += len(lost)
    verdict.reflexes_duplicated += sum(n - 1 for n in answers.values())
    for reflex_id in lost[:3]:
        verdict.examples.append(f"{record.name}: reflex {reflex_id} never answered")
    for reflex_id, kind, morph in record.answers:
        expected = KINDS[record.sent[reflex_id]][3] if reflex_id in record.sent else None
        verdict.errors += kind == "error"
        if (kind, morph) != expected and kind != "error":
            verdict.wrong += 1
            verdict.examples.append(f"{record.name}: {kind} {morph} answered {reflex_id}")


def _check_broadcasts(record: Record, published: list[tuple[int, int]], verdict: Verdict) -> None:
    joined = record.joined
    expected = [seq for seq, position in published if joined is not None and position > joined]
    seen: set[int] = set()
    highest = -1
    for seq in record.seqs:
        if seq in seen:
            verdict.broadcasts_duplicated += 1
            verdict.examples.append(f"{record.name}: broadcast {seq} again")
            continue
        seen.add(seq)
        if seq < highest:
            verdict.out_of_order += 1
            verdict.examples.append(f"{record.name}: broadcast {seq} after {highest}")
        highest = max(highest, seq)
    lost = [seq for seq in expected if seq not in seen]
    verdict.expected += len(expected)
    verdict.delivered += len(seen)
    verdict.broadcasts_lost += len(lost)
    verdict.unexpected += len(seen - set(expected))
    if lost:
        verdict.examples.append(f"{record.name}: lost broadcasts {lost[:10]}")


def growth(series: list[Sample], samples: dict[str, Sample], max_rss: float) -> list[str]:
    """What grew that must not. Under load the counts move with what is in flight, so the
    lowest value of the last third of the samples is held against the highest of the first
    third: a leak lifts the floor, noise does not. Then what the clients left behind."""
    third = max(1, len(series) // 3)
    early, late = series[:third], series[-third:]
    # What, of a sample; the growth allowed: percent and slack. Tasks swing by a fifth with
    # the requests in flight; a task leaked per connection shows once the clients left.
    measures: dict[str, tuple[Any, float, int]] = {
        "RSS (KiB)": (lambda s: s.rss_kb, max_rss, 8192),
        "asyncio tasks": (lambda s: s.tasks, 25, 20),
        "Redis keys besides claims": (lambda s: [s.redis_keys], 0, 4),
    }
    failures = []
    for what, (of, percent, slack) in measures.items():
        for n in range(len(of(series[0]))):
            firsts, lasts = [of(s)[n] for s in early], [of(s)[n] for s in late]
            if None in firsts or None in lasts:
                failures.append(f"demo {n}: no {what} (the probe did not answer)")
                continue
            before, after = max(firsts), min(lasts)
            if after > before * (1 + percent / 100) + slack:
                failures.append(f"{what} grew: {before} -> {after} (process {n})")
    return failures + _leftovers(samples["baseline"], samples["left"])


def _leftovers(baseline: Sample, left: Sample) -> list[str]:
    """What the clients left behind in the servers once they were gone."""
    failures = []
    for n, subscriptions in enumerate(left.subscriptions):
        if subscriptions:
            streams = ", ".join(left.streams[n])
            failures.append(f"demo {n}: {subscriptions} bus subscriptions left ({streams})")
    for n, (before, after) in enumerate(zip(baseline.tasks, left.tasks, strict=True)):
        if before is None or after is None or after > before + 10:
            failures.append(f"demo {n}: {after} asyncio tasks left ({before} before any client)")
    return failures


# --- the report -------------------------------------------------------------------------


def percentiles(values: list[int]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    at = [ordered[min(len(ordered) - 1, int(len(ordered) * q))] for q in (0.5, 0.99)]
    return f"{at[0]} / {at[1]} / {ordered[-1]}"


def markdown(
    options: argparse.Namespace, outcome: Outcome, verdict: Verdict, failures: list[str]
) -> str:
    records, samples = outcome.records, outcome.samples
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    ok = "**PASS**: every invariant held" if not failures else "**FAIL**: " + "; ".join(failures)
    lines = [
        f"# Soak test, {when}",
        "",
        ok,
        "",
        "```",
        "python -m loadtest.soak " + shlex.join(options.argv),
        "```",
        "",
        "## Machine and versions",
        "",
        *[f"- {line}" for line in _machine()],
        "",
        "## Settings",
        "",
        f"- {options.clients} clients ({', '.join(TRANSPORTS)}, a third each), each its own"
        f" session; {options.workers} demo processes ({options.settings}) on one Redis,"
        + (
            " behind nginx round-robin (no affinity)"
            if options.nginx
            else " alternated by the clients"
        ),
        f"- load {options.duration:.0f} s (ramp {options.clients / options.ramp:.0f} s, warm-up"
        f" until {min(options.duration, options.clients / options.ramp + options.warmup):.0f} s),"
        f" then drain up to {options.drain:.0f} s; seed {options.seed}",
        f"- a reflex every {_span(options.think)} s per client (page, selector, nothing morphs;"
        f" at most {MAX_IN_FLIGHT} unanswered); a broadcast every {_span(options.interval)} s",
        f"- each client cuts its transport every {_span(options.drop_every)} s;"
        f" {options.storms} storm(s) cut half the clients at once"
        f" ({' and '.join(map(str, outcome.storms)) or 'none'} cut)",
        "",
        "## Messages",
        "",
        "| | count |",
        "|---|---|",
        f"| reflexes sent | {verdict.reflexes_sent} |",
        f"| answered | {verdict.answered} |",
        f"| answered twice | {verdict.reflexes_duplicated} |",
        f"| lost | {verdict.reflexes_lost} |",
        f"| error / wrong answers | {verdict.errors} / {verdict.wrong} |",
        f"| re-sent after a reconnect (same id) | {sum(r.resent for r in records)} |",
        f"| answered after {options.timeout:.0f} s | {sum(r.late for r in records)} |",
        f"| broadcasts published (failed) | {verdict.published} ({len(outcome.publish_failures)}) |",
        f"| broadcast receipts expected | {verdict.expected} |",
        f"| delivered | {verdict.delivered} |",
        f"| lost / duplicated / out of order | {verdict.broadcasts_lost} /"
        f" {verdict.broadcasts_duplicated} / {verdict.out_of_order} |",
        f"| resyncs | {verdict.resyncs} |",
        f"| gaps in positions / delivered again | {verdict.gaps} / {verdict.again} |",
        f"| drained in time | {'yes' if outcome.drained else 'no'} |",
        "",
        *_per_transport(records),
        "",
        *_resources(samples, outcome),
    ]
    if verdict.examples:
        lines += ["", "## First problems", "", *[f"- {e}" for e in verdict.examples[:20]]]
    return "\n".join(lines) + "\n"


def _span(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}-{bounds[1]:g}"


def _per_transport(records: list[Record]) -> list[str]:
    lines = [
        "| transport | clients | reflexes | ms p50 / p99 / max | broadcasts | ms p50 / p99 / max"
        " | connects | drops / storms / lost / stalled | failed connects |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    reasons: Counter[str] = Counter()
    for transport in TRANSPORTS:
        mine = [r for r in records if r.transport == transport]
        redo = Counter[str]()
        for r in mine:
            redo.update(r.reconnects)
        reasons.update(why.split(":")[0] for r in mine for why in r.losses + r.failed_connects)
        lines.append(
            f"| {transport} | {len(mine)} | {sum(len(r.answers) for r in mine)}"
            f" | {percentiles([ms for r in mine for ms in r.reflex_ms])}"
            f" | {sum(len(r.seqs) for r in mine)}"
            f" | {percentiles([ms for r in mine for ms in r.broadcast_ms])}"
            f" | {sum(r.connects for r in mine)}"
            f" | {redo['drop']} / {redo['storm']} / {redo['lost']} / {redo['stalled']}"
            f" | {sum(len(r.failed_connects) for r in mine)} |"
        )
    if reasons:
        lines += ["", "Lost transports and failed connects, by cause: "]
        lines[-1] += ", ".join(f"{why} ({n})" for why, n in reasons.most_common(8)) + "."
    return ["## Per transport", "", *lines]


def _resources(samples: dict[str, Sample], outcome: Outcome) -> list[str]:
    def each(values: list[Any]) -> str:
        return " + ".join("-" if v is None else str(v) for v in values)

    lines = [
        "## Resources",
        "",
        "Per demo process (`a + b`); *warm* is the end of the warm-up, *end* the end of the"
        " load, *left* after the clients closed. Redis keys without the reflex claims"
        " (kept an hour by design, one per reflex run).",
        "",
        "| moment | s | RSS MiB | asyncio tasks | subscriptions | open files | threads"
        " | Redis keys (claims) | Redis MiB | soak tasks |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in samples.items():
        lines.append(
            f"| {name} | {s.at:.0f} | {each([kb // 1024 for kb in s.rss_kb])} | {each(s.tasks)}"
            f" | {each(s.subscriptions)} | {each(s.fds)} | {each(s.threads)}"
            f" | {s.redis_keys} ({s.claims}) | {s.redis_memory / 2**20:.1f}"
            f" | {s.own_tasks} |"
        )
    lines += ["", "During the load:", "", "| s | RSS MiB | tasks | Redis keys (claims) |"]
    lines.append("|---|---|---|---|")
    for s in outcome.series:
        lines.append(
            f"| {s.at:.0f} | {each([kb // 1024 for kb in s.rss_kb])} | {each(s.tasks)}"
            f" | {s.redis_keys} ({s.claims}) |"
        )
    cpu = ", ".join(f"{k} {v:.0f} s" for k, v in outcome.cpu.items())
    others = 2 * outcome.cpu["machine"] - sum(outcome.cpu.values())
    lines += [
        "",
        f"CPU over the {outcome.wall:.0f} s of load and drain: {cpu}"
        f" (other programs on the machine: {others:.0f} s).",
    ]
    return lines


def _machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    packages = ("django", "channels", "uvicorn", "redis", "websockets", "httpx", "sse-starlette")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    programs = []
    for command in (["redis-server", "--version"], ["nginx", "-v"]):
        with contextlib.suppress(OSError):
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
            programs.append((done.stdout + done.stderr).strip().split(" sha=")[0])
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = (
        " (with uncommitted changes)"
        if _git("status", "--porcelain", "--", "sockpuppet", "transports", "demo")
        else ""
    )
    return [
        f"{os.cpu_count()} x {cpu}, {int(memory) // 1024} MiB, {platform.platform()}",
        f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"Python {platform.python_version()}, {versions}",
        "; ".join(programs),
        f"commit {commit}{dirty}",
    ]


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        return "?"


# --- the command ------------------------------------------------------------------------


def seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def span(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return seconds(low), seconds(high or low)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--clients", type=int, default=300)
    add("--workers", type=int, default=2, help="demo processes")
    add("--duration", type=seconds, default=600.0, help="load time, e.g. 10m, 90s")
    add("--warmup", type=seconds, default=60.0, help="after the ramp, before the first sample")
    add("--ramp", type=float, default=50.0, help="clients started per second")
    add("--think", type=span, default=(1.0, 3.0), help="seconds between a client's reflexes")
    add("--interval", type=span, default=(0.5, 1.0), help="seconds between broadcasts")
    add("--drop-every", type=span, default=(30.0, 90.0), help="seconds between a client's cuts")
    add("--storms", type=int, default=2, help="moments half the clients cut at once")
    add("--drain", type=seconds, default=60.0, help="most seconds to wait for the last messages")
    add("--timeout", type=float, default=30.0, help="seconds to connect, and for an answer")
    add("--sample-every", type=seconds, default=60.0, help="seconds between resource samples")
    add("--max-rss-growth", type=float, default=10.0, help="percent (plus 8 MiB) allowed")
    add("--no-nginx", dest="nginx", action="store_false", help="clients alternate processes")
    add("--settings", default="loadtest.settings", help="settings module of the demo")
    add("--env", action="append", default=[], metavar="KEY=VALUE", help="for the demo processes")
    add("--seed", type=int, default=1)
    add("--out", type=Path, help="folder for the output (default loadtest/out/<timestamp>-soak)")
    add("--record", action="store_true", help="also write loadtest/results/<date>-soak.md")
    options = parser.parse_args(argv)
    options.argv = list(sys.argv[1:] if argv is None else argv)
    return options


class Watchdog:
    """Past the hard deadline, whatever hangs: say where the tasks wait, interrupt the run
    (so the programs are stopped and their logs kept as usual); if that does not end it
    within ``grace`` seconds, kill what the run started (by pid) and exit."""

    def __init__(self, running: stack.Stack, loop: asyncio.AbstractEventLoop) -> None:
        self.running = running
        self.loop = loop
        self._timers: list[threading.Timer] = []

    def start(self, after: float, grace: float = 30) -> None:
        for delay, act in ((after, self.interrupt), (after + grace, self.kill)):
            timer = threading.Timer(delay, act)
            timer.daemon = True
            timer.start()
            self._timers.append(timer)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def interrupt(self) -> None:
        print("soak: past the hard deadline; where things wait:", file=sys.stderr)
        faulthandler.dump_traceback(all_threads=True)
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_where_tasks_wait)
        time.sleep(1)  # the loop prints, if it runs at all
        # A real signal, to the main thread: it also wakes a loop waiting in select().
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    def kill(self) -> None:
        print("soak: the run did not stop; killing what it started", file=sys.stderr)
        programs = [s.process for s in self.running.servers] + [self.running.redis.process]
        programs.append(self.running.nginx.process if self.running.nginx else None)
        for process in programs:
            if process is not None and process.poll() is None:
                process.kill()
        os._exit(3)


def _where_tasks_wait() -> None:
    """Count the tasks by the line their coroutine waits at."""
    where: Counter[str] = Counter()
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=1)
        code = frames[0].f_code if frames else None
        line = frames[0].f_lineno if frames else 0
        where[f"{code.co_name} line {line}" if code else repr(task)[:80]] += 1
    for line, count in where.most_common(20):
        print(f"  {count:5} tasks in {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    folder = options.out or OUT / f"{stamp}-soak"
    folder.mkdir(parents=True, exist_ok=True)
    stack.raise_open_files()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the programs on the way out
    hard = options.clients / options.ramp + options.duration + options.drain + 180
    with running(folder / "logs", options) as started:
        os.environ.update(DJANGO_SETTINGS_MODULE=options.settings, SOCKPUPPET_BUS=started.redis.url)
        with asyncio.Runner() as runner:
            watchdog = Watchdog(started, runner.get_loop())
            watchdog.start(hard + 30)
            try:
                outcome = runner.run(asyncio.wait_for(soak(options, started), hard))
            finally:
                watchdog.cancel()
    verdict = check(outcome.records, outcome.published)
    messages = verdict.failures + [f"publish failed: {f}" for f in outcome.publish_failures[:3]]
    messages += outcome.crashes[:3]
    if not outcome.drained:
        messages.append(f"not every client settled within --drain {options.drain:.0f} s")
    resources = growth(outcome.series, outcome.samples, options.max_rss_growth)
    owners = {f"c.{r.connection}": r.name for r in outcome.records}
    for n, streams in enumerate(outcome.samples["left"].streams):
        left = [f"{s} ({owners[s]})" for s in streams if s in owners]
        verdict.examples += [f"demo {n} still follows {s} after every client left" for s in left]
    failures = messages + resources
    summary = markdown(options, outcome, verdict, failures)
    (folder / "summary.md").write_text(summary)
    (folder / "records.json").write_text(json.dumps([asdict(r) for r in outcome.records]))
    reconnects = Counter[str]()
    for record in outcome.records:
        reconnects.update(record.reconnects)
    result = {
        "messages": messages,
        "resources": resources,
        "verdict": asdict(verdict),
        "reconnects": reconnects,
    }
    (folder / "result.json").write_text(json.dumps(result, indent=1))
    print(summary)
    if options.record:
        path = RESULTS / f"{datetime.date.today().isoformat()}-soak.md"
        path.write_text(summary)
        print(f"recorded in {path.relative_to(ROOT)}")
    print(f"output in {folder}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
