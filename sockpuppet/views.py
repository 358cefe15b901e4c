"""``POST negotiate``: the first step of every connection (``docs/protocol.md``)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from sockpuppet import tokens
from sockpuppet.conf import settings
from sockpuppet.protocol import PROTOCOL_VERSION


@never_cache
@csrf_protect
@require_POST
def negotiate(request: HttpRequest) -> JsonResponse:
    """Issue a connection id and a token bound to the visitor's session."""
    if not hasattr(request, "session"):
        return JsonResponse(
            {"error": "Sockpuppet needs django.contrib.sessions and its SessionMiddleware."},
            status=500,
        )
    grant = tokens.issue(request.session)
    if request.session.session_key is None or request.session.modified:
        request.session.save()
    return JsonResponse(
        {
            "protocol": PROTOCOL_VERSION,
            "connectionId": grant.connection_id,
            "token": grant.token,
            "transports": list(settings.TRANSPORTS),
            "heartbeat": settings.HEARTBEAT,
            "longpollTimeout": settings.LONGPOLL_TIMEOUT,
        }
    )
