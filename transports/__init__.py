"""Transport adapters: one module per transport, found by short name.

Each module exposes ``endpoints()``: a mapping of ``(ASGI scope type, path under
URL_PREFIX)`` to an ASGI app. ``SOCKPUPPET["TRANSPORTS"]`` picks which are served.
"""

from __future__ import annotations

import importlib
from typing import Any

TRANSPORTS = {
    "websocket": "transports.websocket",
    "sse": "transports.sse",
    "longpoll": "transports.longpoll",
}

Endpoints = dict[tuple[str, str], Any]


def endpoints(names: list[str]) -> Endpoints:
    """The ASGI endpoints of the named transports (unknown or not-yet-built names skipped)."""
    found: Endpoints = {}
    for name in names:
        if name in TRANSPORTS:
            found.update(importlib.import_module(TRANSPORTS[name]).endpoints())
    return found
