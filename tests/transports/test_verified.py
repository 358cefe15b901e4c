"""The short memory of verified tokens: entries expire, and the oldest go first when full."""

from transports import verified
from transports.verified import Verified, VerifiedTokens

FOUND = Verified(connection_id="c1", extra_streams=("s.x",), notices=(), owner="s.x")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_verification_is_remembered_for_ttl_seconds_only():
    clock = Clock()
    tokens = VerifiedTokens(clock)
    key = ("token", "session-cookie", "")
    assert tokens.get(key) is None
    tokens.put(key, FOUND)
    assert tokens.get(key) is FOUND
    assert tokens.get(("token", "another-cookie", "")) is None
    clock.now += verified.TTL - 0.01
    assert tokens.get(key) is FOUND
    clock.now += 0.02
    assert tokens.get(key) is None


def test_the_oldest_are_forgotten_past_the_limit(monkeypatch):
    monkeypatch.setattr(verified, "LIMIT", 3)
    tokens = VerifiedTokens(Clock())
    for n in range(5):
        tokens.put((f"t{n}", "", ""), FOUND)
    assert [tokens.get((f"t{n}", "", "")) for n in range(5)] == [None, None, FOUND, FOUND, FOUND]
