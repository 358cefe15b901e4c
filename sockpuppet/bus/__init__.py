"""The bus that carries every server message to the process holding the connection.

``SOCKPUPPET["BUS"]`` names the backend by short name or URL: ``"memory"``, or Redis at
``"redis://host:6379/0"`` (``rediss://`` with TLS, ``unix:///path/redis.sock?db=0``). One registry resolves it (as uvicorn's ``config.py`` does for
protocols); ``get_bus()`` returns the process's instance, made on first use.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from sockpuppet.bus.base import Bus, BusUnavailable, Message, SlowConsumer, Subscription
from sockpuppet.conf import settings

BACKENDS = {
    "memory": "sockpuppet.bus.memory.MemoryBus",
    "redis": "sockpuppet.bus.redis.RedisBus",
    "rediss": "sockpuppet.bus.redis.RedisBus",
    "unix": "sockpuppet.bus.redis.RedisBus",
}

_bus: Bus | None = None


def create_bus(spec: str | None = None) -> Bus:
    """A new bus for ``spec`` (default: the setting)."""
    spec = spec or settings.BUS
    scheme = spec.split("://", 1)[0] if "://" in spec else spec
    if scheme not in BACKENDS:
        raise ImproperlyConfigured(
            f'SOCKPUPPET["BUS"] = {spec!r} is not a known bus; use "memory" or a Redis URL (redis://, rediss://, unix://).'
        )
    options = {
        "history_length": settings.HISTORY_LENGTH,
        "history_ttl": settings.HISTORY_TTL,
        "history_bytes": settings.HISTORY_MAX_BYTES,
        "max_queue": settings.MAX_QUEUE,
    }
    cls: type[Bus] = import_string(BACKENDS[scheme])
    return cls(spec, **options)


def get_bus() -> Bus:
    """The process's bus, created on first use."""
    global _bus
    if _bus is None:
        _bus = create_bus()
    return _bus


async def reset_bus() -> None:
    """Close and forget the process's bus (tests, settings changes)."""
    global _bus
    if _bus is not None:
        await _bus.close()
    _bus = None


__all__ = [
    "Bus",
    "BusUnavailable",
    "Message",
    "SlowConsumer",
    "Subscription",
    "create_bus",
    "get_bus",
    "reset_bus",
]
