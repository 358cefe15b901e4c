"""Sockpuppet's settings: one dict, ``settings.SOCKPUPPET``, read lazily.

Read on first use and dropped on ``setting_changed``, so ``override_settings`` works in
tests. Every key has a default; ``sockpuppet.checks`` validates the dict at startup and
names the offending key.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS: dict[str, Any] = {
    # Allowed transports, in the order the client tries them.
    "TRANSPORTS": ["websocket", "sse", "longpoll"],
    # "memory" (one process) or a Redis URL such as "redis://127.0.0.1:6379/0".
    "BUS": "memory",
    "URL_PREFIX": "/sockpuppet/",
    # Seconds between heartbeats on idle streams (proxies cut idle streams after ~60 s).
    "HEARTBEAT": 20.0,
    # Seconds a long-poll is held open when there is nothing to deliver.
    "LONGPOLL_TIMEOUT": 25.0,
    # Messages kept per stream for clients that reconnect, and for how many seconds.
    "HISTORY_LENGTH": 1000,
    "HISTORY_TTL": 300,
    # The memory bus: characters of JSON the histories of all streams of a process keep
    # together at most (the oldest messages of the least lately written streams go first).
    "HISTORY_MAX_BYTES": 128 * 1024 * 1024,
    # Largest client message accepted, in bytes.
    "MAX_MESSAGE_BYTES": 1_048_576,
    # Messages queued for one connection before it is cut as too slow.
    "MAX_QUEUE": 1000,
    # Reflexes of one connection waiting to run before new ones are refused.
    "MAX_PENDING_REFLEXES": 100,
    # Reflexes one connection may start a second, on average (in bursts of as many).
    "MAX_REFLEXES_PER_SECOND": 50,
    # Connections (WebSockets, SSE streams, held polls) one session may hold open on
    # one process.
    "MAX_CONNECTIONS_PER_SESSION": 100,
    # Seconds a reflex may run before the client is answered with a timeout error.
    "REFLEX_TIMEOUT": 30.0,
    # Threads that run reflexes, per process (their own pool: reflexes that hang cannot
    # starve other work). None: min(32, CPUs + 4), as Python's default.
    "REFLEX_THREADS": None,
    # Seconds a connection token stays valid.
    "TOKEN_MAX_AGE": 86_400,
    # Extra origins allowed besides ALLOWED_HOSTS, e.g. ["https://app.example.com"].
    "ALLOWED_ORIGINS": [],
}

TRANSPORT_NAMES = ("websocket", "sse", "longpoll")


class Settings:
    """Attribute access to the merged settings, e.g. ``conf.settings.HEARTBEAT``."""

    _cache: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        if self._cache is None:
            user = getattr(django_settings, "SOCKPUPPET", None) or {}
            # Not a dict: the defaults, so the system checks can run and report E001.
            self._cache = {**DEFAULTS, **user} if isinstance(user, dict) else dict(DEFAULTS)
        return self._cache

    def __getattr__(self, name: str) -> Any:
        try:
            return self.as_dict()[name]
        except KeyError:
            raise AttributeError(f"SOCKPUPPET has no setting {name!r}") from None

    def reset(self) -> None:
        self._cache = None


settings = Settings()


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in {"SOCKPUPPET", "DEBUG"}:
        settings.reset()
