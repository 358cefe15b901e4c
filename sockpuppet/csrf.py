"""The page's CSRF token once a reflex changed it.

``login()`` rotates the CSRF secret. The page keeps the token it was rendered with and
sends it to ``POST negotiate`` whenever it connects again; after a login inside a reflex
that token no longer matches, and the page could not connect again. Where the page can read
Django's CSRF cookie the client reads it afresh (``readable_cookie_name``); where it cannot
(``CSRF_COOKIE_HTTPONLY``, ``CSRF_USE_SESSIONS``), the reflex's answer carries the new
token (``new_token``). With ``CSRF_USE_SESSIONS`` the secret lives in the session, which a
logout flushes: a reflex puts it back (``keep_in_session``), as the next page load would.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.csrf import CSRF_SESSION_KEY, get_token


def readable_cookie_name() -> str | None:
    """The name of the CSRF cookie when the page's JavaScript can read it, else None."""
    if settings.CSRF_USE_SESSIONS or settings.CSRF_COOKIE_HTTPONLY:
        return None
    return str(settings.CSRF_COOKIE_NAME)


def header_name() -> str:
    """The header Django's CSRF check reads the token from (``CSRF_HEADER_NAME``, a
    ``META`` key such as ``HTTP_X_CSRFTOKEN``), as a browser sends it (``X-CSRFToken``:
    header names are case-insensitive)."""
    name = str(settings.CSRF_HEADER_NAME)
    if name == "HTTP_X_CSRFTOKEN":
        return "X-CSRFToken"  # Django's default, spelled as its docs spell it
    return "-".join(part.capitalize() for part in name.removeprefix("HTTP_").split("_"))


def secret(request: HttpRequest) -> str | None:
    """The CSRF secret ``request`` holds (set by ``CsrfViewMiddleware`` as it comes in)."""
    return request.META.get("CSRF_COOKIE")


def keep_in_session(request: HttpRequest) -> None:
    """With ``CSRF_USE_SESSIONS``, have ``CsrfViewMiddleware`` store the request's secret in
    the session again if the reflex flushed it (a logout); it writes only a change."""
    if settings.CSRF_USE_SESSIONS and secret(request):
        get_token(request)


def new_token(request: HttpRequest, response: HttpResponseBase, before: str | None) -> str | None:
    """A token for the page when handling ``request`` changed the secret the browser holds
    (``before``: the secret as the request came in), else None."""
    after = secret(request)
    if not after or after == before or not _stored(request, response, after):
        return None
    return get_token(request)


def _stored(request: HttpRequest, response: HttpResponseBase, value: str) -> bool:
    """Whether the browser gets ``value`` as its secret: in the response's cookie, or in
    the session (``CSRF_USE_SESSIONS``)."""
    if settings.CSRF_USE_SESSIONS:
        session = getattr(request, "session", None)
        return session is not None and session.get(CSRF_SESSION_KEY) == value
    morsel = response.cookies.get(settings.CSRF_COOKIE_NAME)
    return morsel is not None and morsel.value == value
