"""Handing cookies a reflex set (a login's new session) to the browser.

A reflex runs inside a request that never reaches the browser, so a ``Set-Cookie`` it
produces would be lost: the tab would stay logged out on its next page load, and a
reconnect would present the old session. The HTTP transports answer ``POST send`` with
those headers. Over WebSocket the server sends a ``cookies`` message carrying the
headers *signed*; the client posts it back to ``POST cookies``, whose answer sets them.
The token is short-lived and only ever sent on the connection that produced it.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from sockpuppet.origins import origin_allowed, request_host
from sockpuppet.views import post_only

_SALT = "sockpuppet.cookies"
MAX_AGE = 120


def sign(jar: SimpleCookie) -> str:
    """A token carrying the ``Set-Cookie`` values of ``jar``."""
    return signing.dumps([morsel.OutputString() for morsel in jar.values()], salt=_SALT)


@never_cache
@csrf_exempt  # the signed token is the proof, and the Origin is checked as for ``send``
@post_only
def set_cookies(request: HttpRequest) -> HttpResponse:
    """``POST cookies`` with ``{"token": …}``: answer with the cookies it carries.

    Only from the site's own pages (the Origin check of every POST endpoint): another
    site holding a token of its own session must not make a visitor's browser store
    that session's cookie (a login forced on the visitor)."""
    host = request_host(request.headers.get("Host"), request.headers.get("X-Forwarded-Host"))
    if not origin_allowed(request.headers.get("Origin"), host):
        return JsonResponse({"type": "error", "message": "Origin not allowed."}, status=403)
    try:
        body = request.body
    except RequestDataTooBig:  # over DATA_UPLOAD_MAX_MEMORY_SIZE: no token is this long
        return JsonResponse({"type": "error", "message": "Request body too large."}, status=413)
    try:
        token = json.loads(body or b"{}").get("token", "")
        if not isinstance(token, str):
            raise ValueError("the token must be a string")
        headers = signing.loads(token, salt=_SALT, max_age=MAX_AGE)
    except (ValueError, RecursionError, AttributeError, signing.BadSignature):
        return JsonResponse(
            {"type": "error", "message": "Invalid or expired cookies token."}, status=400
        )
    response = HttpResponse(status=204)
    for header in headers:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            response.cookies[name] = morsel
    return response
