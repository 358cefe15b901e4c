"""Locust scenarios against the demo: reflexes and broadcasts on each transport.

One user class per transport (``WebSocketUser``, ``SSEUser``, ``LongPollUser``). Each user
negotiates like the browser client (GET the page for its csrftoken, POST negotiate),
opens its transport following the named stream ``bench``, and proves it with a ping.
Then, by tag:

- ``reflex``: fires reflexes at the demo, one at a time: ``page`` (the counter's +1,
  a page morph), ``selector`` (a blank todo: the form re-rendered alone), ``nothing``
  (the playground's quiet tally: a session write, no morph), ``noop`` (the playground's
  ping: no state, no render, no morph: the framework's floor). Each round trip, send -> the answer with its reflex id,
  is a Locust request: type = transport, name = morph kind; an ``error`` answer, a wrong
  answer or no answer within ``LOADTEST_TIMEOUT`` is a failure.
- ``broadcast``: listens. Each ``dispatch_event("bench", detail={"t": ...})`` broadcast
  on the stream (``loadtest/publisher.py``) is a request named ``broadcast``: publish ->
  receipt.

Without tags, users do both. Environment (``loadtest/run.py`` sets it):
``LOADTEST_HOSTS`` (comma list of base URLs, users spread over them; default: ``--host``),
``LOADTEST_MORPHS`` (default ``page,selector,nothing``), ``LOADTEST_WAIT`` (mean seconds
between a user's reflexes; 0 = next one at once), ``LOADTEST_TIMEOUT`` (seconds),
``LOADTEST_STREAM_TOKEN`` (else signed here with the demo's settings),
``LOADTEST_REDIS`` + ``LOADTEST_RUN`` (count followers and log receipts for the run script).

    locust -f locustfile.py --host http://127.0.0.1:8000 WebSocketUser SSEUser LongPollUser
"""

from __future__ import annotations

import gc
import itertools
import os
import random
import time
import uuid
from typing import Any

import gevent
from locust import User, between, constant, tag, task

from loadtest import followers
from loadtest.client import LINKS, Link, LinkLost, Message, Tab

STREAM = "bench"

# The load generator's own full garbage collections (0.1-0.4 s with thousands of users)
# would be measured as the server's latency: the same thresholds as the demo's.
gc.set_threshold(100_000, 50, 100)
TIMEOUT = float(os.environ.get("LOADTEST_TIMEOUT", "30"))
WAIT = float(os.environ.get("LOADTEST_WAIT", "0.5"))

# kind -> (page URL, target, extra reflex fields, expected answer type, expected morph)
REFLEXES: dict[str, tuple[str, str, dict[str, Any], str, str | None]] = {
    "page": (
        "/",
        "CounterReflex#increment",
        {"dataset": {"step": "1"}, "attrs": {"id": "increment", "data-step": "1"}},
        "operations",
        "page",
    ),
    "selector": ("/todos/", "TodoReflex#add", {"formData": "title="}, "operations", "selector"),
    "nothing": ("/playground/", "PlaygroundReflex#tally_quietly", {}, "nothing", None),
    "noop": ("/playground/", "PlaygroundReflex#ping", {}, "nothing", None),
}
MORPHS = [m.strip() for m in os.environ.get("LOADTEST_MORPHS", "page,selector,nothing").split(",")]
_hosts = itertools.count(os.getpid())


def stream_token() -> str:
    token = os.environ.get("LOADTEST_STREAM_TOKEN")
    if token:
        return token
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from sockpuppet.streams import sign

    return sign(STREAM)


class SockpuppetUser(User):
    """A browser tab on one transport."""

    abstract = True
    transport = ""
    wait_time = between(0, 2 * WAIT) if WAIT > 0 else constant(0)
    link: Link | None = None

    def on_start(self) -> None:
        hosts = os.environ.get("LOADTEST_HOSTS", self.host or "").split(",")
        self.base_url = hosts[next(_hosts) % len(hosts)]
        self.stream = f"n.{STREAM}"
        self.token = stream_token()
        self.connect()

    def on_stop(self) -> None:
        if self.link is not None:
            followers.left(self.link)
            self.link.close()

    def connect(self, lost: Link | None = None) -> None:
        """Negotiate, open the transport following ``bench``, prove it: request ``connect``.

        After a lost transport (``lost``), as the browser client does: the same tab and
        token, resuming from its cursor (request ``reconnect``); negotiate again only if
        that fails."""
        started = time.perf_counter()
        tab = lost.tab if lost is not None else Tab(self.base_url, streams=[self.token])
        link = LINKS[self.transport](tab, on_broadcast=self.received)
        if lost is not None:
            link.cursor = dict(lost.cursor)
        try:
            if lost is None:
                tab.negotiate()
            link.open(timeout=TIMEOUT)
        except Exception as exc:
            link.close()
            self.record("reconnect" if lost else "connect", started, 0, exc)
            gevent.sleep(1)  # pacing a failed user; the next task tries again
            return
        self.link = link
        followers.joined(link)
        self.record("reconnect" if lost else "connect", started, 0)

    def alive(self) -> bool:
        """Whether the transport is up; a lost one is reported and opened again."""
        if self.link is not None and not self.link.alive:
            lost = self.link
            self.record("lost", time.perf_counter(), 0, LinkLost(lost.lost))
            followers.left(lost)
            lost.close()
            self.link = None
            self.connect(lost)
        if self.link is None:
            self.connect()
        return self.link is not None

    @tag("reflex")
    @task
    def reflex(self) -> None:
        if not self.alive():
            return
        assert self.link is not None
        kind = random.choice(MORPHS)
        url, target, fields, expected, morph = REFLEXES[kind]
        message = {
            "type": "reflex",
            "id": uuid.uuid4().hex,
            "target": target,
            "args": [],
            "url": self.base_url + url,
            "selectors": [],
            "permanentAttributeName": "data-reflex-permanent",
            **fields,
        }
        started = time.perf_counter()
        try:
            answer, size = self.link.ask(message, TIMEOUT)
        except gevent.Timeout:
            self.record(kind, started, 0, TimeoutError(f"no answer within {TIMEOUT:.0f} s"))
            return
        except Exception as exc:
            self.record(kind, started, 0, exc)
            return
        problem = None
        if answer["type"] != expected or answer.get("morph") != morph:
            problem = AssertionError(f"{answer['type']} {answer.get('morph')}: {answer}"[:300])
        self.record(kind, started, size, problem)

    @tag("broadcast")
    @task
    def listen(self) -> None:
        if self.alive():
            gevent.sleep(1)  # the reader greenlet records broadcasts meanwhile

    def received(self, message: Message, size: int, arrived: float) -> None:
        """A broadcast on the ``bench`` stream: record publish -> receipt (Locust's
        ``broadcast``: once handled here; the receipts file has both that and when its
        bytes arrived)."""
        if message.get("stream") != self.stream:
            return
        if message["type"] == "resync":
            self.record("broadcast", time.perf_counter(), size, LinkLost("resync"))
            return
        for operation in message["operations"]:
            detail = operation.get("detail") or {}
            if operation.get("name") == "bench" and "t" in detail:
                elapsed = (time.time() - detail["t"]) * 1000
                self.fire("broadcast", elapsed, size, None)
                followers.receipt(detail.get("seq"), elapsed, (arrived - detail["t"]) * 1000)

    def record(self, name: str, started: float, size: int, exc: Exception | None = None) -> None:
        self.fire(name, (time.perf_counter() - started) * 1000, size, exc)

    def fire(self, name: str, ms: float, size: int, exc: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type=self.transport,
            name=name,
            response_time=ms,
            response_length=size,
            exception=exc,
            context={},
        )


class WebSocketUser(SockpuppetUser):
    transport = "websocket"


class SSEUser(SockpuppetUser):
    transport = "sse"


class LongPollUser(SockpuppetUser):
    transport = "longpoll"
