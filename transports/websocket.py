"""The WebSocket transport, on Django Channels: each frame one JSON message, each way.

Two tasks per connection: Channels' own loop feeds frames to the dispatcher (which only
queues reflexes, so a ping is answered while a reflex runs), and a sender task drains
the connection's bus subscription into frames, sending a heartbeat when idle. A client
too slow to drain its queue is closed (code 4008) and resumes from its cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from sockpuppet.bus import BusUnavailable, SlowConsumer, Subscription, get_bus
from sockpuppet.connection import Connection
from sockpuppet.dispatcher import Dispatcher
from sockpuppet.protocol import ProtocolError, encode, parse_cursor, welcome
from sockpuppet.runner import SessionChanged
from sockpuppet.tasks import stop
from sockpuppet.tokens import TokenError
from transports.common import (
    Refused,
    authenticate,
    follow_changes,
    occupancy,
    origin_ok,
    query,
    unavailable,
)
from transports.heartbeat import next_message

logger = logging.getLogger("sockpuppet")

CLOSE_BAD_TOKEN = 4001
CLOSE_BAD_REQUEST = 4002
CLOSE_TOO_SLOW = 4008
CLOSE_SESSION_CHANGED = 4012  # the browser's session cookie changed: reconnect with it
CLOSE_TOO_MANY = 4029  # as HTTP 429: this session holds too many connections here
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN = 1013  # the bus (Redis) is unreachable: reconnect later and resume


class WebSocketTransport(AsyncWebsocketConsumer):
    """``GET ws?token=…&since=…``."""

    dispatcher: Dispatcher | None = None
    subscription: Subscription | None = None
    sender: asyncio.Task[None] | None = None
    counted: Connection | None = None  # counted in ``occupancy`` until it disconnects

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Hand each ASGI event to its handler. Channels' own ``dispatch`` first closes old
        database connections through a thread hop, on every frame; this consumer never
        uses the database on the loop (sessions load, and reflexes run, in threads that
        close their own), so a frame goes straight to its handler."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except StopConsumer:
            raise
        except Exception:  # a bug, not the client's input (that is answered with an error)
            logger.exception("WebSocket connection failed on %s", message["type"])
            with contextlib.suppress(Exception):  # the client may be gone already
                await self.close(code=CLOSE_INTERNAL_ERROR)
            await self.disconnect(CLOSE_INTERNAL_ERROR)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Whatever ends the connection, what it holds is let go: the sender, the bus
        subscription and its place in the session's count of connections."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.disconnect(None)

    async def connect(self) -> None:
        """Called when a WebSocket connection is opened: check origin, token and cursor."""
        if not origin_ok(self.scope):
            await self.close()  # before accept: the server answers 403
            return
        params = query(self.scope)
        try:
            cursor = parse_cursor(params.get("since"))
            connection = await authenticate(self.scope, params.get("token", ""), "websocket")
        except TokenError as exc:
            await self._refuse(CLOSE_BAD_TOKEN, str(exc))
            return
        except ProtocolError as exc:
            await self._refuse(CLOSE_BAD_REQUEST, str(exc))
            return
        try:
            occupancy.enter(connection)
        except Refused as exc:
            await self._refuse(CLOSE_TOO_MANY, str(exc))
            return
        self.counted = connection
        bus = get_bus()
        self.dispatcher = Dispatcher(connection, bus, on_interrupted=self._interrupted)
        try:
            self.subscription = await bus.subscribe(connection.streams, connection.cursor(cursor))
        except BusUnavailable as exc:
            await self._refuse(CLOSE_TRY_AGAIN, unavailable(exc))
            return
        try:
            await self.accept()
            for message in [welcome(self.subscription.origin), *connection.notices]:
                await self.send(text_data=encode(message))
        except BaseException:  # the client left during the handshake
            await self.disconnect(None)
            raise
        self.sender = asyncio.create_task(self._send_loop(self.subscription))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Called with each frame."""
        if self.dispatcher is not None:
            try:
                await self.dispatcher.receive(
                    text_data if text_data is not None else bytes_data or b""
                )
            except BusUnavailable as exc:
                await self.close(code=CLOSE_TRY_AGAIN, reason=unavailable(exc)[:120])

    async def disconnect(self, code: Any) -> None:
        """Called when the socket closes; reflexes already queued still run and publish.

        The sender may have ended already, failing to send to the vanished client: its
        error is of no interest now, and must not keep the subscription open."""
        try:
            if self.sender is not None:
                await stop(self.sender)
                self.sender = None
        finally:
            if self.subscription is not None:
                await self.subscription.close()
                self.subscription = None
            if self.counted is not None:
                occupancy.leave(self.counted.owner)
                self.counted = None

    async def _interrupted(self, exc: Exception) -> None:
        """Queued reflexes could not run: the bus is unreachable (the client reconnects
        once it is back), or another tab's login or logout replaced the session the
        handshake's cookies name (the client reconnects with the browser's cookies). Either
        way the client then sends again the reflexes not answered, in order."""
        if isinstance(exc, SessionChanged):
            code, reason = CLOSE_SESSION_CHANGED, "session changed: reconnect"
        else:
            code, reason = CLOSE_TRY_AGAIN, unavailable(exc)[:120]
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.close(code=code, reason=reason)

    async def _refuse(self, code: int, reason: str) -> None:
        await self.accept()
        await self.close(code=code, reason=reason[:120])

    async def _send_loop(self, subscription: Subscription) -> None:
        while True:
            try:
                message = await next_message(subscription)
            except SlowConsumer:
                await self.close(code=CLOSE_TOO_SLOW, reason="too slow: reconnect and resume")
                return
            await follow_changes(subscription, message)
            await self.send(text_data=encode(message))


def endpoints() -> dict[tuple[str, str], Any]:
    return {("websocket", "ws"): WebSocketTransport.as_asgi()}
