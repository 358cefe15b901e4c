"""What a login and a logout change for the open connections of their session.

A login renames the session's stream (``streams.rename_session_stream``), as Django gives
the session a new key: another browser given the same session cookie before the login
(session fixation) keeps nothing of what is sent to the session after it. The connection
whose reflex logged in is told to follow the new name at once; the session's other
connections follow it from when they next connect with the new cookie.

Every connection of a session follows the session's stream (``s.…``), in whichever
process holds it. A logout publishes there that the user's stream (``u.<pk>``) is no
longer followed: each tab of that browser (the one that logged out included) stops
receiving what is broadcast to the user at once, not when it next reconnects. Their next
request finds the session gone, and they negotiate again as the anonymous visitor.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from sockpuppet import streams
from sockpuppet.bus import BusUnavailable, get_bus
from sockpuppet.bus.memory import EXPECTING_NO_LISTENERS

logger = logging.getLogger("sockpuppet")

Notice = tuple[str, dict[str, Any]]  # a stream, and a message to publish there

# Set while a reflex runs (``runner``): what a logout inside it publishes waits for the
# reflex's answer. The answer reaches the page first: a long-poll answered early with the
# notice would poll again with the logged-out cookie, be refused, and lose the answer.
_after_answer: ContextVar[list[Notice] | None] = ContextVar("after_answer", default=None)


@contextlib.contextmanager
def notices_after_answer() -> Iterator[list[Notice]]:
    """Collect, instead of publishing, the notices of what runs inside."""
    notices: list[Notice] = []
    token = _after_answer.set(notices)
    try:
        yield notices
    finally:
        _after_answer.reset(token)


@receiver(user_logged_in, dispatch_uid="sockpuppet.sessions.logged_in")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    renamed = streams.rename_session_stream(session) if session is not None else None
    own = getattr(request, "sockpuppet_stream", None)  # a reflex's: its connection's stream
    collected = _after_answer.get()
    if renamed is None or own is None or collected is None:
        return
    # The connection that logged in follows the new stream from its start (what the reflex
    # sends there after login() included), told on its own stream: nothing is lost.
    collected.append((own, {"type": "subscribed", "name": renamed, "since": {renamed: 0}}))


@receiver(user_logged_out, dispatch_uid="sockpuppet.sessions.logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    stream = streams.for_session(session) if session is not None else None
    if stream is None or getattr(user, "pk", None) is None:
        return  # the session never connected, or no one was logged in
    message = {"type": "unsubscribed", "name": streams.for_user(user)}
    if (collected := _after_answer.get()) is not None:
        collected.append((stream, message))
        return
    # A process with no connections (a test's client) may log out: not a lost broadcast.
    quiet = EXPECTING_NO_LISTENERS.set(True)
    try:
        get_bus().publish_sync(stream, message)
    except BusUnavailable as exc:  # the logout itself must not fail
        logger.warning("Logout: its session's tabs still follow %s: %s", message["name"], exc)
    finally:
        EXPECTING_NO_LISTENERS.reset(quiet)
