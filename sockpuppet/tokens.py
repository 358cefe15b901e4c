"""Connection tokens: signed, and bound to a secret kept in the Django session.

The token carries the connection id and a digest of a random secret stored in the
session (not the session key, which changes on login and with signed-cookie sessions).
Any process with the same ``SECRET_KEY`` can verify it; a token presented without the
session it was issued to is worthless.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.core import signing

from sockpuppet.conf import settings

SESSION_KEY = "_sockpuppet_secret"
_SALT = "sockpuppet.token"


class TokenError(Exception):
    """A token that is forged, expired or not bound to the presented session."""


@dataclass(frozen=True)
class Grant:
    connection_id: str
    token: str


def issue(session: SessionBase) -> Grant:
    """A new connection id and its token, bound to ``session`` (which may be modified)."""
    secret = session.get(SESSION_KEY)
    if not secret:
        secret = session[SESSION_KEY] = secrets.token_urlsafe(24)
    connection_id = uuid.uuid4().hex
    token = signing.dumps({"c": connection_id, "d": _digest(secret, connection_id)}, salt=_SALT)
    return Grant(connection_id, token)


def verify(token: str, session: SessionBase) -> str:
    """Return the connection id of a valid token for ``session``, or raise ``TokenError``."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise TokenError("The connection token has expired; negotiate again.") from None
    except signing.BadSignature:
        raise TokenError("The connection token is invalid.") from None
    secret = session.get(SESSION_KEY)
    connection_id = data.get("c") if isinstance(data, dict) else None
    if not secret or not isinstance(connection_id, str):
        raise TokenError("The connection token does not belong to this session.")
    if not hmac.compare_digest(str(data.get("d")), _digest(secret, connection_id)):
        raise TokenError("The connection token does not belong to this session.")
    return connection_id


def _digest(secret: str, connection_id: str) -> str:
    return hmac.new(secret.encode(), connection_id.encode(), hashlib.sha256).hexdigest()[:32]
