"""What the server knows of one browser connection, whichever transport carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from django.http.cookie import parse_cookie


@dataclass
class Connection:
    """One tab's connection: its id and stream, and the handshake's HTTP context.

    ``headers`` are the handshake's request headers (lower-case names, as in ASGI); the
    cookie header is kept up to date when a reflex changes the session cookie (login),
    so later reflexes of the connection see it.
    """

    id: str
    transport: str
    headers: list[tuple[bytes, bytes]]
    scheme: str = "http"
    client: tuple[str, int] | None = None
    server: tuple[str, int] | None = None
    root_path: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    # Cookies reflexes set (a new session, a login): HTTP transports pass them on to the
    # browser with their answer; all transports use them for the connection's next reflexes.
    set_cookies: SimpleCookie = field(default_factory=SimpleCookie)
    # True when the transport's own HTTP answer passes set_cookies on (POST send).
    answers_set_cookies: bool = False
    # Streams followed besides its own: its session's and user's, and named streams.
    extra_streams: list[str] = field(default_factory=list)
    # Messages for the client as the connection opens (e.g. a stream token it was refused).
    notices: list[dict[str, Any]] = field(default_factory=list)
    # Whose connection this is: its session's stream (per-session limits count by it).
    owner: str = ""
    # (stream, message) to publish once the running reflex's answer is (a logout's notice).
    after_answer: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.cookies:
            for name, value in self.headers:
                if name == b"cookie":  # parsed as Django does, never refused
                    self.cookies.update(parse_cookie(value.decode("latin-1")))

    @property
    def stream(self) -> str:
        """The connection's own stream: reflex answers go here."""
        return f"c.{self.id}"

    @property
    def streams(self) -> list[str]:
        """Every stream the connection follows, its own first."""
        return [self.stream, *self.extra_streams]

    def cursor(self, since: dict[str, int]) -> dict[str, int]:
        """The positions to resume from: the client's, and for the connection's own stream
        at least its start, so nothing addressed to it before it first listened is missed."""
        return {self.stream: 0, **since}

    def header(self, name: bytes) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None
