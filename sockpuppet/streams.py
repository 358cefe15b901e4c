"""Stream names: who may follow which stream.

A connection follows its own stream (``c.<connection id>``: reflex answers), its session's
(``s.<digest>``, keyed by the secret kept in the session, so it survives key changes),
its user's (``u.<pk>``) and the named streams its page was given
(``{% sockpuppet_stream "room:42" %}``: ``n.room:42``). A page only ever receives a named
stream as a signed token; a browser cannot follow a stream it was not given, nor another
person's session or user stream (those are derived on the server, never sent by it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, load_backend
from django.contrib.auth import SESSION_KEY as USER_SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.crypto import constant_time_compare

from sockpuppet import tokens

_SALT = "sockpuppet.stream"


class StreamError(Exception):
    """A stream token that is forged or tampered with."""


def named(name: str) -> str:
    return f"n.{name}"


def for_user(user: Any) -> str:
    return f"u.{user.pk}"


# A login gives the session's stream a new name (``sessions``), as Django gives the
# session a new key: what holds the session from before, say another browser handed the
# same cookie (session fixation), follows the old name, where nothing comes any more.
STREAM_KEY = "_sockpuppet_stream"


def for_session(session: SessionBase) -> str | None:
    """The session's stream, or None if it never negotiated (no secret, so no listener)."""
    secret = session.get(tokens.SESSION_KEY)
    if not secret:
        return None
    key = str(session.get(STREAM_KEY) or secret)
    return "s." + hmac.new(key.encode(), b"session-stream", hashlib.sha256).hexdigest()[:32]


def rename_session_stream(session: SessionBase) -> str | None:
    """Give ``session``'s stream a new name (a login), if it has one; returns it."""
    if not session.get(tokens.SESSION_KEY):
        return None
    session[STREAM_KEY] = secrets.token_urlsafe(24)
    return for_session(session)


def of_session(session: SessionBase) -> list[str]:
    """The session and user streams a connection of ``session`` follows (sync: the user
    is loaded from the database, as Django's ``AuthenticationMiddleware`` does)."""
    streams = [s for s in (for_session(session),) if s]
    user = session_user(session)
    if user is not None:
        streams.append(for_user(user))
    return streams


def session_user(session: SessionBase) -> Any:
    """The user Django's auth would find logged in with ``session``, or None: as
    ``django.contrib.auth.get_user`` decides it (the session's backend still knows the user
    and lets them in, its password hash is the one the session was made with, or one made
    with a ``SECRET_KEY_FALLBACKS`` key), but leaving the session as it is."""
    user_id = session.get(USER_SESSION_KEY)
    backend_path = session.get(BACKEND_SESSION_KEY)
    if user_id is None or not apps.is_installed("django.contrib.auth"):
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    from django.contrib.auth import get_user_model

    try:
        pk = get_user_model()._meta.pk.to_python(user_id)
    except (ValidationError, ValueError, TypeError):  # written by another user model
        return None
    user = load_backend(str(backend_path)).get_user(pk)
    if user is None or not hasattr(user, "get_session_auth_hash"):
        return user
    remembered = session.get(HASH_SESSION_KEY)
    if not remembered:
        return None
    fallbacks: list[str] = list(getattr(user, "get_session_auth_fallback_hash", list)())
    hashes = [user.get_session_auth_hash(), *fallbacks]
    return user if any(constant_time_compare(remembered, h) for h in hashes) else None


def sign(name: str) -> str:
    """The token a page gets for the named stream ``name``: the same every time (no
    timestamp; stream tokens do not expire), so a page morph that renders it again
    leaves the element's attribute as it was, and the client sends nothing."""
    return signing.Signer(salt=_SALT).sign_object(name, compress=True)


def verify(token: str) -> str:
    """The stream a token names (``n.<name>``), or ``StreamError``. Tokens signed with a
    timestamp (by Sockpuppet before 2026-12) are still good."""
    timestamped = token.count(":") == 2  # value:timestamp:signature
    try:
        if timestamped:
            name = signing.loads(token, salt=_SALT)
        else:
            name = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        raise StreamError("The stream token is invalid (forged or tampered with).") from None
    if not isinstance(name, str):
        raise StreamError("The stream token is invalid.")
    return named(name)
