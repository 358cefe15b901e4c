"""``Channel``: DOM operations broadcast to every browser following a stream.

Build operations with chainable methods, then send them with ``broadcast()`` (sync code:
views, Celery tasks, management commands) or ``await abroadcast()`` (async code)::

    Channel("room:42").insert_adjacent_html("#messages", html, "beforeend").broadcast()
    Channel.for_user(request.user).add_css_class("#bell", "ringing").broadcast()

Pages follow ``Channel("room:42")`` with ``{% sockpuppet_stream "room:42" %}``; every
connection follows its user's and its session's stream by itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.contrib.sessions.backends.base import SessionBase

from sockpuppet import operations, streams
from sockpuppet.bus import get_bus


@dataclass(frozen=True)
class Broadcast:
    """One broadcast as sent: the stream and its operations (see ``ReflexResult``)."""

    stream: str
    operations: list[dict[str, Any]]


# Broadcasts are also appended here while it is set (``sockpuppet.testing.ReflexClient``).
recorded: ContextVar[list[Broadcast] | None] = ContextVar("recorded_broadcasts", default=None)


class Channel:
    """Operations for one stream; each method queues one and returns the channel."""

    def __init__(self, name: str) -> None:
        self.stream = streams.named(name)
        self.operations: list[dict[str, Any]] = []

    @classmethod
    def for_user(cls, user: Any) -> Channel:
        """Every connection of ``user``, in any browser."""
        if getattr(user, "pk", None) is None:
            raise ValueError(
                f"Channel.for_user() needs a saved user, not {user!r}: an anonymous visitor "
                "has no user stream. Use Channel.for_session(request.session) for its tabs."
            )
        channel = cls.__new__(cls)
        channel.stream, channel.operations = streams.for_user(user), []
        return channel

    @classmethod
    def for_session(cls, session_key: str | SessionBase) -> Channel:
        """Every connection (tab) of one session."""
        session = (
            session_key if isinstance(session_key, SessionBase) else _load_session(session_key)
        )
        channel = cls.__new__(cls)
        channel.stream = streams.for_session(session) or "s.none"
        channel.operations = []
        return channel

    def add(self, op: str, selector: str | None, *args: Any, **options: Any) -> Channel:
        """Queue any operation by name (see ``docs/protocol.md``)."""
        self.operations.append(operations.build(op, selector, *args, **options))
        return self

    def morph(self, selector: str, html: str, **options: Any) -> Channel:
        return self.add("morph", selector, html, **options)

    def inner_html(self, selector: str, html: str, **options: Any) -> Channel:
        return self.add("inner_html", selector, html, **options)

    def outer_html(self, selector: str, html: str, **options: Any) -> Channel:
        return self.add("outer_html", selector, html, **options)

    def replace(self, selector: str, html: str, **options: Any) -> Channel:
        return self.add("replace", selector, html, **options)

    def text_content(self, selector: str, text: str, **options: Any) -> Channel:
        return self.add("text_content", selector, text, **options)

    def insert_adjacent_html(
        self, selector: str, html: str, position: str = "beforeend", **options: Any
    ) -> Channel:
        return self.add("insert_adjacent_html", selector, html, position, **options)

    def insert_adjacent_text(
        self, selector: str, text: str, position: str = "beforeend", **options: Any
    ) -> Channel:
        return self.add("insert_adjacent_text", selector, text, position, **options)

    def append(self, selector: str, html: str, **options: Any) -> Channel:
        return self.add("append", selector, html, **options)

    def prepend(self, selector: str, html: str, **options: Any) -> Channel:
        return self.add("prepend", selector, html, **options)

    def remove(self, selector: str, **options: Any) -> Channel:
        return self.add("remove", selector, **options)

    def set_attribute(self, selector: str, name: str, value: str = "", **options: Any) -> Channel:
        return self.add("set_attribute", selector, name, value, **options)

    def remove_attribute(self, selector: str, name: str, **options: Any) -> Channel:
        return self.add("remove_attribute", selector, name, **options)

    def add_css_class(self, selector: str, name: str | list[str], **options: Any) -> Channel:
        return self.add("add_css_class", selector, name, **options)

    def remove_css_class(self, selector: str, name: str | list[str], **options: Any) -> Channel:
        return self.add("remove_css_class", selector, name, **options)

    def set_value(self, selector: str, value: Any, **options: Any) -> Channel:
        return self.add("set_value", selector, value, **options)

    def set_property(self, selector: str, name: str, value: Any, **options: Any) -> Channel:
        return self.add("set_property", selector, name, value, **options)

    def set_dataset_property(self, selector: str, name: str, value: Any, **options: Any) -> Channel:
        return self.add("set_dataset_property", selector, name, value, **options)

    def set_style(self, selector: str, name: str, value: str, **options: Any) -> Channel:
        return self.add("set_style", selector, name, value, **options)

    def set_focus(self, selector: str, **options: Any) -> Channel:
        return self.add("set_focus", selector, **options)

    def set_title(self, title: str) -> Channel:
        return self.add("set_title", None, title)

    def dispatch_event(
        self, name: str, detail: Any = None, selector: str | None = None, **options: Any
    ) -> Channel:
        """``selector`` None: on ``document``; ``select_all=True``: on every match."""
        return self.add("dispatch_event", selector, name=name, detail=detail, **options)

    def console_log(self, message: Any, level: str = "log") -> Channel:
        return self.add("console_log", None, message=message, level=level)

    def push_state(self, url: str, title: str = "", state: Any = None) -> Channel:
        return self.add("push_state", None, url, title=title, state=state)

    def replace_state(self, url: str, title: str = "", state: Any = None) -> Channel:
        return self.add("replace_state", None, url, title=title, state=state)

    def redirect_to(self, url: str) -> Channel:
        return self.add("redirect_to", None, url)

    def reload(self) -> Channel:
        return self.add("reload", None)

    def message(self) -> dict[str, Any]:
        return {"type": "operations", "operations": list(self.operations)}

    def broadcast(self) -> int:
        """Send the queued operations from sync code; returns the message's position."""
        published = get_bus().publish_sync(self.stream, self._record())
        self.operations = []
        return int(published["position"])

    async def abroadcast(self) -> int:
        """Send the queued operations from async code; returns the message's position."""
        published = await get_bus().publish(self.stream, self._record())
        self.operations = []
        return int(published["position"])

    def _record(self) -> dict[str, Any]:
        message = self.message()
        seen = recorded.get()
        if seen is not None:
            seen.append(Broadcast(self.stream, list(message["operations"])))
        return message


def _refusing_options_dicts(method: Callable[..., Channel]) -> Callable[..., Channel]:
    """django-sockpuppet's ``channel.inner_html({"selector": …, "html": …})`` fails with a
    pointer to the new call, not with a missing argument."""

    @functools.wraps(method)
    def operation(self: Channel, *args: Any, **kwargs: Any) -> Channel:
        if args and isinstance(args[0], dict):
            raise TypeError(
                f"Channel.{method.__name__}() takes the selector, then the values "
                f'(Channel(...).{method.__name__}("#id", ...)), not an options dict as in '
                "django-sockpuppet: see docs/migrating.md."
            )
        return method(self, *args, **kwargs)

    return operation


for _name in operations.OPERATIONS:
    if _name != "console_log" and hasattr(Channel, _name):  # it logs a dict as it is
        setattr(Channel, _name, _refusing_options_dicts(getattr(Channel, _name)))


def _load_session(session_key: str) -> SessionBase:
    from django.conf import settings

    # SESSION_ENGINE names a module (as in Django's SessionMiddleware), not an attribute: a
    # fresh process (a Celery worker) has not imported it yet.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    session: SessionBase = store(session_key=session_key)
    session.load()
    return session
