"""A client: a browser tab that negotiates once, then clicks, drops and resumes.

It behaves as the browser client does: the cursor taken from every message, unanswered
reflexes re-sent with their ids after a reconnect (the server runs an id once), and a
transport proven by a ping's pong before it counts as open.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from loadtest.soak.links import LINKS, Link, LinkError
from loadtest.soak.record import Record
from loadtest.soak.waits import first, pause
from loadtest.soak.workload import KINDS, MAX_IN_FLIGHT, STREAM, Message

if TYPE_CHECKING:
    from loadtest.soak.run import Soak


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
