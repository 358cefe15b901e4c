"""Sockpuppet: reactive Django pages over WebSocket, SSE or long-poll.

``Reflex`` is importable from here without touching Django's app registry at import
time of this package (``sockpuppet.asgi`` imports it before ``django.setup()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sockpuppet.channel import Channel
    from sockpuppet.reflex import Reflex

__all__ = ["Channel", "Reflex"]


def __getattr__(name: str) -> Any:
    if name == "Reflex":
        from sockpuppet.reflex import Reflex

        return Reflex
    if name == "Channel":
        from sockpuppet.channel import Channel

        return Channel
    raise AttributeError(f"module 'sockpuppet' has no attribute {name!r}")
