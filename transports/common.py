"""What every transport does the same way: check the origin, authenticate the token
against the session, and describe the connection for the dispatcher."""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote_plus

from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import close_old_connections
from django.http.cookie import parse_cookie
from django.utils.module_loading import import_string
from starlette.responses import JSONResponse

from sockpuppet import streams, tokens
from sockpuppet.bus import Message, Subscription
from sockpuppet.conf import settings
from sockpuppet.connection import Connection
from sockpuppet.origins import origin_allowed, request_host
from transports.verified import Verified, verified_tokens

Scope = dict[str, Any]


def query(scope: Scope) -> Mapping[str, str]:
    """The scope's query string as a mapping of first values (read-only: parsed once,
    however often a request asks)."""
    return _parsed(scope.get("query_string", b""))


# Longer queries and pieces are parsed every time: a client's own are far shorter (a token,
# a cursor), and a cache of whatever arrives would keep anyone's long junk in memory.
_CACHED_QUERY = 8192
_CACHED_PIECE = 2048


def _parsed(raw: bytes) -> Mapping[str, str]:
    return _parsed_cached(raw) if len(raw) <= _CACHED_QUERY else _parse(raw)


def _parse(raw: bytes) -> Mapping[str, str]:
    found: dict[str, str] = {}
    for piece in raw.split(b"&"):
        if piece:
            name, value = _pair(piece) if len(piece) <= _CACHED_PIECE else _unquoted(piece)
            found.setdefault(name, value)
    return MappingProxyType(found)


_parsed_cached = functools.lru_cache(maxsize=256)(_parse)


def _unquoted(piece: bytes) -> tuple[str, str]:
    """One ``name=value``, unquoted as ``parse_qs`` does."""
    name, _, value = piece.decode("latin-1").partition("=")
    return unquote_plus(name), unquote_plus(value)


# Remembered piece by piece: a long-poll's query differs from its last one only in
# ``since``, and its long token is the costly part to unquote, hundreds of times after
# each broadcast.
_pair = functools.lru_cache(maxsize=10_000)(_unquoted)


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def origin_ok(scope: Scope) -> bool:
    host = request_host(header(scope, b"host"), header(scope, b"x-forwarded-host"))
    return origin_allowed(header(scope, b"origin"), host)


def _load_session(scope: Scope) -> SessionBase:
    # Django's own parser, as for request.COOKIES: SimpleCookie raises on names browsers
    # send anyway (another app's "a@b=1"), and would refuse the whole header.
    cookies = parse_cookie(header(scope, b"cookie") or "")
    store = import_string(django_settings.SESSION_ENGINE).SessionStore
    session: SessionBase = store(session_key=cookies.get(django_settings.SESSION_COOKIE_NAME))
    session.keys()  # loads it here, in a thread: a database session may not load on the loop
    return session


async def authenticate(scope: Scope, token: str, transport: str) -> Connection:
    """The connection a token opens for the scope's session; raises ``TokenError``.

    A bad token among the named streams of the ``streams`` parameter does not refuse the
    connection (a client would retry it forever): it is not followed, and the connection's
    ``notices`` tell the client why. A token verified lately with the same session cookie
    is not verified again (``transports.verified``)."""
    cookies = parse_cookie(header(scope, b"cookie") or "")
    key = (
        token,
        cookies.get(django_settings.SESSION_COOKIE_NAME, ""),
        hashlib.sha256(query(scope).get("streams", "").encode()).digest(),
    )
    found = verified_tokens.get(key)
    if found is None:
        found = await _verify(scope, token)
        if not found.notices:  # a refused stream: the client drops it from its next request
            verified_tokens.put(key, found)
    return Connection(
        extra_streams=list(found.extra_streams),
        notices=[dict(notice) for notice in found.notices],
        owner=found.owner,
        id=found.connection_id,
        transport=transport,
        headers=list(scope.get("headers", [])),
        scheme="https" if scope.get("scheme") in ("https", "wss") else "http",
        client=tuple(scope["client"]) if scope.get("client") else None,
        server=tuple(scope["server"]) if scope.get("server") else None,
        root_path=scope.get("root_path", ""),
        cookies=cookies,
    )


def _session_and_streams(scope: Scope) -> tuple[SessionBase, list[str]]:
    """The scope's session, and the session and user streams it may follow (in a thread:
    the session and its user load from the database)."""
    try:
        session = _load_session(scope)
        return session, streams.of_session(session)
    finally:
        close_old_connections()  # as at the end of a request (CONN_MAX_AGE decides)


# Named streams a connection follows from its ``streams`` parameter: a page has a few.
MAX_NAMED_STREAMS = 100


async def _verify(scope: Scope, token: str) -> Verified:
    load = sync_to_async(_session_and_streams, thread_sensitive=False)
    session, followed = await load(scope)
    connection_id = tokens.verify(token, session)
    named, notices = [], []
    given = list(filter(None, query(scope).get("streams", "").split(",")))
    if len(given) > MAX_NAMED_STREAMS:
        notices.append(
            {
                "type": "error",
                "message": f"Too many streams named ({len(given)}): only the first "
                f"{MAX_NAMED_STREAMS} are followed.",
            }
        )
    for token in given[:MAX_NAMED_STREAMS]:
        try:
            named.append(streams.verify(token))
        except streams.StreamError as exc:
            message = f"{exc} Not followed: {token[:40]!r}."
            notices.append({"type": "error", "message": message, "refusedStream": token})
    return Verified(
        connection_id=connection_id,
        extra_streams=(*followed, *dict.fromkeys(named)),
        notices=tuple(notices),
        owner=streams.for_session(session) or "",
    )


def unavailable(exc: Exception) -> str:
    """What a client is told of an unreachable bus: the Redis it names (host and port)
    only with DEBUG on; the server's log always says."""
    if django_settings.DEBUG:
        return str(exc)
    return "The server's message bus is unavailable; try again shortly."


class Refused(Exception):
    """A request a transport turns away, with the HTTP status and a message for the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


async def open_http(scope: Scope, transport: str, method: str = "GET") -> Connection:
    """Method, origin and token checks of the HTTP transports' endpoints; raises
    ``Refused``."""
    if scope["method"] != method:  # a PUT or DELETE is not served as if it were the method
        raise Refused(405, f"Use {method}.", {"Allow": method})
    if not origin_ok(scope):
        raise Refused(403, "Origin not allowed.")
    try:
        return await authenticate(scope, query(scope).get("token", ""), transport)
    except tokens.TokenError as exc:
        raise Refused(401, str(exc)) from None


class Occupancy:
    """The connections each session holds open in this process, at most
    ``MAX_CONNECTIONS_PER_SESSION``: one more is refused (429, WebSocket close 4029).

    Per process: it bounds what one session costs each process, not the whole site."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()

    def enter(self, connection: Connection) -> None:
        """Count the connection in, or raise ``Refused``; ``leave`` it when it ends."""
        limit = settings.MAX_CONNECTIONS_PER_SESSION
        if self._open[connection.owner] >= limit:
            raise Refused(
                429,
                f"Too many connections for this session (limit {limit}): close some tabs, "
                "or retry once older connections have ended.",
            )
        self._open[connection.owner] += 1

    def leave(self, owner: str) -> None:
        """Count out a connection of ``owner`` (its ``Connection.owner``)."""
        self._open[owner] -= 1
        if self._open[owner] <= 0:
            del self._open[owner]


occupancy = Occupancy()


def refusal(exc: Refused) -> JSONResponse:
    """The JSON answer of a refused HTTP request."""
    return JSONResponse(
        {"type": "error", "message": str(exc)}, status_code=exc.status, headers=exc.headers
    )


async def follow_changes(subscription: Subscription, message: Message) -> None:
    """A ``subscribed`` message (published by the dispatcher after checking the stream's
    signature) makes the transport holding the connection follow that stream from now; an
    ``unsubscribed`` one, stop following it."""
    kind = message.get("type")
    if kind == "subscribed":
        await subscription.add_streams([message["name"]], message["since"])
    elif kind == "unsubscribed":
        await subscription.remove_streams([message["name"]])
        forget_logged_out(message)


def forget_logged_out(message: Message) -> None:
    """A logout's notice (``sessions``: ``unsubscribed`` from the user's stream, on the
    session's stream) ends this process's memory of the session's verified tokens: a poll
    with the logged-out cookie is verified afresh, and refused."""
    if (
        message.get("type") == "unsubscribed"
        and str(message.get("name", "")).startswith("u.")
        and str(message.get("stream", "")).startswith("s.")
    ):
        verified_tokens.forget(message["stream"])
