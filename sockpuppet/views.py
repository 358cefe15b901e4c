"""``POST negotiate``: the first step of every connection (``docs/protocol.md``)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.csrf import logger as csrf_logger
from django.utils.decorators import decorator_from_middleware
from django.utils.log import log_response
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from sockpuppet import tokens
from sockpuppet.conf import settings
from sockpuppet.protocol import PROTOCOL_VERSION


class _JsonCsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, refusing with a JSON error the client can show (Django's own
    refusal is an HTML page)."""

    def _reject(self, request: HttpRequest, reason: str) -> JsonResponse:
        response = JsonResponse(
            {"type": "error", "message": f"CSRF check failed: {reason}"}, status=403
        )
        log_response(  # logged as Django logs its own refusals
            "Forbidden (%s): %s",
            reason,
            request.path,
            response=response,
            request=request,
            logger=csrf_logger,
        )
        return response


def post_only(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Django's ``require_POST``, refusing other methods with a JSON error (its own 405
    has no body) and the ``Allow`` header."""

    @functools.wraps(view)
    def only_post(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            response = JsonResponse({"type": "error", "message": "Use POST."}, status=405)
            response["Allow"] = "POST"
            log_response(
                "Method Not Allowed (%s): %s",
                request.method,
                request.path,
                response=response,
                request=request,
            )
            return response
        return view(request)

    return only_post


# Exempt from the project's CsrfViewMiddleware, which would refuse first, with HTML; the
# same check runs inside, answering in JSON. Open to visitors not logged in under
# LoginRequiredMiddleware: a page open to them (a login page) connects too.
@login_not_required
@csrf_exempt
@never_cache
@decorator_from_middleware(_JsonCsrfCheck)
@post_only
def negotiate(request: HttpRequest) -> JsonResponse:
    """Issue a connection id and a token bound to the visitor's session."""
    if not hasattr(request, "session"):
        return JsonResponse(
            {
                "type": "error",
                "message": "Sockpuppet needs django.contrib.sessions and its SessionMiddleware.",
            },
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
