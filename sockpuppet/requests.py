"""The request a reflex runs with: a GET of the page's URL, in the connection's context.

It carries the handshake's headers (real host, cookies, user agent, language) so
Django's middleware (sessions, auth, messages, locale) treats it like the page request.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.handlers.asgi import ASGIRequest

from sockpuppet.connection import Connection

# Handshake headers not passed on: they describe the WebSocket/stream, not a page GET;
# nor what would make Django answer other than with the page's HTML: compressed
# (GZipMiddleware), a 304 (ConditionalGetMiddleware), a range.
_DROPPED = {
    b"cookie",
    b"upgrade",
    b"connection",
    b"content-length",
    b"content-type",
    b"accept",
    b"accept-encoding",
    b"if-none-match",
    b"if-modified-since",
    b"if-match",
    b"if-unmodified-since",
    b"if-range",
    b"range",
}
_DROPPED_PREFIX = b"sec-websocket-"


def build_request(connection: Connection, url: str) -> ASGIRequest:
    """A GET request for ``url``'s path and query string, as the browser would send it."""
    parts = urlsplit(url)
    headers = [
        (k, v)
        for k, v in connection.headers
        if k not in _DROPPED and not k.startswith(_DROPPED_PREFIX)
    ]
    headers.append((b"accept", b"text/html"))
    headers.append((b"x-sockpuppet-reflex", b"1"))
    if connection.cookies:
        cookie = "; ".join(f"{k}={v}" for k, v in connection.cookies.items())
        headers.append((b"cookie", cookie.encode("latin-1")))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": connection.scheme,
        # The page URL's path already includes the script prefix (root_path).
        "path": unquote(parts.path or "/"),
        "raw_path": (parts.path or "/").encode(),
        "root_path": connection.root_path,
        "query_string": parts.query.encode(),
        "headers": headers,
        "client": connection.client,
        "server": connection.server,
    }
    return ASGIRequest(scope, io.BytesIO())
