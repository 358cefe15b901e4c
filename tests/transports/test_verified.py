"""The short memory of verified tokens: entries expire, and the oldest go first when full;
what a client's own requests do not repeat is not kept."""

from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from sockpuppet import streams, tokens
from transports import common, verified
from transports.common import authenticate
from transports.verified import Verified, VerifiedTokens, verified_tokens

FOUND = Verified(connection_id="c1", extra_streams=("s.x",), notices=(), owner="s.x")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_verification_is_remembered_for_ttl_seconds_only():
    clock = Clock()
    tokens = VerifiedTokens(clock)
    key = ("token", "session-cookie", b"")
    assert tokens.get(key) is None
    tokens.put(key, FOUND)
    assert tokens.get(key) is FOUND
    assert tokens.get(("token", "another-cookie", b"")) is None
    clock.now += verified.TTL - 0.01
    assert tokens.get(key) is FOUND
    clock.now += 0.02
    assert tokens.get(key) is None


def test_the_oldest_are_forgotten_past_the_limit(monkeypatch):
    monkeypatch.setattr(verified, "LIMIT", 3)
    tokens = VerifiedTokens(Clock())
    for n in range(5):
        tokens.put((f"t{n}", "", b""), FOUND)
    assert [tokens.get((f"t{n}", "", b"")) for n in range(5)] == [None, None, FOUND, FOUND, FOUND]


def test_what_expired_is_dropped_as_others_come_not_only_when_looked_up_again():
    clock = Clock()
    tokens = VerifiedTokens(clock)
    for n in range(3):
        tokens.put((f"old{n}", "", b""), FOUND)
    clock.now += verified.TTL + 1
    tokens.put(("new", "", b""), FOUND)
    assert len(tokens) == 1


def scope(session: SessionStore, token: str, named: str) -> dict:
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    return {
        "type": "http",
        "headers": [(b"cookie", cookie.encode())],
        "query_string": f"token={quote(token)}&streams={quote(named)}".encode(),
    }


@pytest.fixture
def grant(transactional_db):
    session = SessionStore()
    grant = tokens.issue(session)
    session.save()
    verified_tokens.forget(streams.for_session(session) or "")
    return session, grant.token


async def test_requests_naming_streams_they_may_not_follow_are_not_remembered(grant):
    """Security audit: a session's token sent again and again, each time with another
    long ``streams`` parameter of junk, kept every verification (and every refused token,
    twice) for a minute: gigabytes. Those are verified each time and not kept."""
    session, token = grant
    before = len(verified_tokens)
    for n in range(20):
        connection = await authenticate(scope(session, token, f"junk{n}" * 500), token, "longpoll")
        assert connection.notices and not connection.extra_streams[1:]
    assert len(verified_tokens) == before
    room = streams.sign("room")
    for _ in range(2):  # a client's own request, repeated: verified once
        connection = await authenticate(scope(session, token, room), token, "longpoll")
        assert "n.room" in connection.extra_streams and not connection.notices
    assert len(verified_tokens) == before + 1


async def test_a_connection_follows_at_most_max_named_streams_of_its_parameter(grant):
    session, token = grant
    names = [streams.sign(f"room-{n}") for n in range(common.MAX_NAMED_STREAMS + 5)]
    connection = await authenticate(scope(session, token, ",".join(names)), token, "sse")
    followed = [s for s in connection.extra_streams if s.startswith("n.")]
    assert followed == [f"n.room-{n}" for n in range(common.MAX_NAMED_STREAMS)]
    [notice] = connection.notices
    assert notice["message"] == (
        f"Too many streams named ({common.MAX_NAMED_STREAMS + 5}): only the first "
        f"{common.MAX_NAMED_STREAMS} are followed."
    )
