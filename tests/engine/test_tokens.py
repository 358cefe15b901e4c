"""Connection tokens are bound to a secret in the session, not to the session key."""

import time

import pytest
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core import signing
from django.test import override_settings

from sockpuppet import tokens
from sockpuppet.tokens import TokenError


def test_a_token_opens_its_connection_for_its_session():
    session = SessionStore()
    grant = tokens.issue(session)
    assert tokens.verify(grant.token, session) == grant.connection_id


def test_another_session_cannot_use_it():
    grant = tokens.issue(SessionStore())
    other = SessionStore()
    tokens.issue(other)
    with pytest.raises(TokenError, match="does not belong"):
        tokens.verify(grant.token, other)
    with pytest.raises(TokenError, match="does not belong"):
        tokens.verify(grant.token, SessionStore())


def test_it_survives_a_session_key_change():
    session = SessionStore()
    grant = tokens.issue(session)
    session.cycle_key()
    assert tokens.verify(grant.token, session) == grant.connection_id


@pytest.mark.parametrize(
    "mangle", [lambda t: t + "x", lambda t: "x" + t, lambda t: t.replace(":", ";"), lambda t: ""]
)
def test_tampered_tokens_are_refused(mangle):
    session = SessionStore()
    grant = tokens.issue(session)
    with pytest.raises(TokenError, match="invalid"):
        tokens.verify(mangle(grant.token), session)


def test_a_forged_connection_id_is_refused():
    session = SessionStore()
    grant = tokens.issue(session)
    forged = signing.dumps(
        {"c": "someone-else", "d": signing.loads(grant.token, salt="sockpuppet.token")["d"]},
        salt="sockpuppet.token",
    )
    with pytest.raises(TokenError, match="does not belong"):
        tokens.verify(forged, session)


def test_expired_tokens_are_refused(monkeypatch):
    session = SessionStore()
    grant = tokens.issue(session)
    later = time.time() + 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with (
        override_settings(SOCKPUPPET={"TOKEN_MAX_AGE": 60}),
        pytest.raises(TokenError, match="expired"),
    ):
        tokens.verify(grant.token, session)
